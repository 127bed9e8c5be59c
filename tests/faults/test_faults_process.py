"""Fault matrix: the daemon process itself (SIGTERM, SIGKILL and restart, two daemons for
one treadmill).

Expected: SIGTERM stops the belt before the process exits (0); after SIGKILL the treadmill
keeps running without a controller (as a real one would) until the restarted daemon finds it
moving under no session and stops it; a restart never sends Start or a speed, and MQTT says
``offline`` in between. Two daemons: the simulator serves one host at a time, so only one
daemon ever holds the treadmill; a command runs at most once. tests/daemon/test_daemon_
lifecycle.py checks more of SIGTERM/SIGKILL (notify protocol, retained commands); this is the
matrix's compact outside view of both, back to back.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from harness.mqtt_probe import read_retained
from harness.polling import poll
from tests.faults.helpers import (
    OP_START,
    assert_no_restart,
    assert_no_start_while_moving,
    let_time_pass,
    rig,
    start_session,
    trace_time,
    wait_belt_stopped,
    wait_stop_write,
    writes,
)

pytestmark = [pytest.mark.faults, pytest.mark.crossprocess]

QUIET_S = 20.0


async def test_daemon_sigterm_then_sigkill_and_restart_mid_session(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        assert r.broker is not None
        host, port = r.broker.host, r.broker.port
        daemon = await r.start_daemon()
        sim = r.sims["tm1"]

        # SIGTERM mid-session: Stop, the belt stands, exit 0, offline on MQTT.
        await start_session(r)
        term_at = trace_time(sim)
        assert await daemon.terminate() == 0
        await wait_stop_write(sim, term_at, within=1)  # already there: the daemon waited
        assert (await sim.state())["machine"]["belt_speed"] == 0
        assert await read_retained(host, port, "treadctl/bridge/state") == b"offline"
        # Restart: nothing replayed.
        await r.start_daemon()
        await let_time_pass(sim, QUIET_S)
        assert_no_restart(sim, term_at)
        state = await r.mqtt.latest_state("tm1")
        assert state["session"] == "idle"
        assert state["armed"] is False

        # SIGKILL mid-session: the will says offline; the belt runs on with no controller.
        await start_session(r)
        since = r.mqtt.mark()
        kill_at = trace_time(sim)
        assert await r.daemons[-1].kill() == -signal.SIGKILL
        await r.mqtt.wait_for("treadctl/bridge/state", lambda m: m.text == "offline", since=since)
        await sim.wait({"connected": False}, within=20)
        # Restart: the moving belt is stopped; no Start, no speed.
        await r.start_daemon()
        await wait_stop_write(sim, kill_at)
        await wait_belt_stopped(sim)
        await let_time_pass(sim, QUIET_S)
        assert_no_restart(sim, kill_at)
        assert_no_start_while_moving(sim)


async def test_two_daemons_for_one_treadmill(tmp_path: Path) -> None:
    """The same configuration started twice. The second daemon finds the instance lock of the
    state directory held and exits 1 (``already_running``) before it touches the treadmill or
    the broker; the first keeps both, and one explicit start reaches the belt exactly once."""
    async with rig(tmp_path) as r:
        await r.start_daemon()
        sim = r.sims["tm1"]
        connections = len(sim.trace_records("connection"))
        since = r.mqtt.mark()
        second = await r.start_daemon(wait_online=False)
        code = await second.wait(within=60)
        assert code == 1
        assert any(x.get("event") == "already_running" for x in second.logs())
        # The treadmill never saw a second connection; the first daemon still holds it.
        assert len(sim.trace_records("connection")) == connections
        assert (await sim.state())["connected"] is True
        assert_no_restart(sim, 0.0)
        # The second never reached the broker: the bridge was never reported offline.
        assert not any(
            m.topic == "treadctl/bridge/state" and m.text == "offline"
            for m in r.mqtt.messages[since:]
        )

        # The first daemon is (again) the one online on MQTT.
        def bridge_online() -> bool:
            states = [m.text for m in r.mqtt.messages if m.topic == "treadctl/bridge/state"]
            return bool(states) and states[-1] == "online"

        await poll(bridge_online, within=30, what="bridge online again")

        before = trace_time(sim)
        await start_session(r)
        starts = [w for w in writes(sim, OP_START) if w["t"] > before]
        assert len(starts) == 1, starts
        stop_at = trace_time(sim)
        assert (await r.mqtt.request("tm1", "emergency_stop"))["status"] == "ok"
        await wait_belt_stopped(sim)
        await let_time_pass(sim, QUIET_S)
        assert_no_restart(sim, stop_at)
        assert_no_start_while_moving(sim)
