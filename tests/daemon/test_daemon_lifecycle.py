"""``treadctl run`` lifecycle as a real process: SIGTERM mid-session, the systemd notify
protocol, and a SIGKILL followed by a restart that must never restart the belt."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from harness.daemon import DaemonRig
from harness.mqtt_probe import read_retained
from harness.polling import poll
from harness.sim_trace import OP_SET_SPEED, OP_START, OP_STOP, belt, writes
from harness.systemd_notify import NotifyListener
from tests.daemon.daemon_profiles import TEST_PROFILES

pytestmark = pytest.mark.crossprocess


async def _start_session(rig: DaemonRig, device: str = "tm1", profile: str = "long-back") -> None:
    assert (await rig.mqtt.request(device, "arm"))["status"] == "ok"
    reply = await rig.mqtt.request(device, "start_profile", profile=profile)
    assert reply["status"] == "ok", reply
    await rig.sims[device].wait({"machine.belt_speed": {"min": 90}}, within=20)


async def test_sigterm_mid_session_stops_the_belt_and_exits_0(tmp_path: Path) -> None:
    async with DaemonRig(tmp_path, profiles=TEST_PROFILES) as rig:
        daemon = await rig.start_daemon()
        sim = rig.sims["tm1"]
        await _start_session(rig)
        before = len(writes(sim))

        assert await daemon.terminate() == 0

        after = writes(sim)[before:]
        stops = [r for r in after if r["op"] == OP_STOP]
        assert stops, after
        assert stops[0]["hex"] == "0801"  # Stop, not Pause (FTMS §4.16.2.9)
        assert stops[0]["result"] == 1
        assert not [r for r in after if r["op"] in (OP_START, OP_SET_SPEED)]
        # The daemon waited for the belt to stand before it let go of the link (bounded).
        records = sim.trace_records()
        stop_at = next(r["t"] for r in records if r == stops[0])
        standstill = next(
            r["t"] for r in records if r["kind"] == "belt" and r["t"] > stop_at and r["speed"] == 0
        )
        gone = next(
            r["t"]
            for r in records
            if r["kind"] == "connection" and r["event"] == "disconnected" and r["t"] > stop_at
        )
        assert standstill <= gone
        assert belt(sim)[-1]["speed"] == 0
        assert rig.broker is not None
        host, port = rig.broker.host, rig.broker.port
        assert await read_retained(host, port, "treadctl/bridge/state") == b"offline"
        assert await read_retained(host, port, "treadctl/tm1/availability") == b"offline"
        logged = [r.get("event") for r in daemon.logs()]
        assert "stopping" in logged


@pytest.mark.parametrize("where", ["path", "abstract"])
async def test_notify_protocol_ready_status_watchdog_stopping(tmp_path: Path, where: str) -> None:
    with NotifyListener(tmp_path / "notify.sock" if where == "path" else None) as listener:
        async with DaemonRig(tmp_path, profiles=TEST_PROFILES) as rig:
            # WatchdogSec=1 s: systemd wants a ping at least every second, we send every 0.5 s.
            daemon = await rig.start_daemon(
                notify_socket=listener.address, env={"WATCHDOG_USEC": "1000000"}
            )
            ready = await listener.wait_for("READY", "1")
            assert "tm1: connected" in ready["STATUS"]
            assert "mqtt: connected" in ready["STATUS"]
            await listener.wait_count("WATCHDOG", 2)
            # A status change (a session starts) is reported on its own line.
            await _start_session(rig)
            await poll(
                lambda: any("running long-back" in m.get("STATUS", "") for m in listener.drain()),
                what="STATUS with the running session",
            )

            assert await daemon.terminate() == 0
            stopping = await listener.wait_for("STOPPING", "1")
            assert stopping["STATUS"].startswith("stopping")
            keys = [k for m in listener.received for k in m if k != "STATUS"]
            assert keys.count("READY") == 1
            assert keys.index("READY") < keys.index("WATCHDOG")
            # READY comes first, STOPPING last and once: no ping after shutdown began.
            assert keys[-1] == "STOPPING"
            assert keys.count("STOPPING") == 1


async def test_no_watchdog_pings_without_watchdog_usec(tmp_path: Path) -> None:
    with NotifyListener(None) as listener:
        async with DaemonRig(tmp_path, profiles=TEST_PROFILES) as rig:
            daemon = await rig.start_daemon(notify_socket=listener.address)
            await listener.wait_for("READY", "1")
            assert await daemon.terminate() == 0
            await listener.wait_for("STOPPING", "1")
            assert not [m for m in listener.drain() if "WATCHDOG" in m]


async def test_sigkill_and_restart_never_restarts_the_belt(tmp_path: Path) -> None:
    async with DaemonRig(tmp_path, profiles=TEST_PROFILES) as rig:
        daemon = await rig.start_daemon()
        sim = rig.sims["tm1"]
        mq = rig.mqtt
        await _start_session(rig)

        assert await daemon.kill() == -signal.SIGKILL
        await sim.wait({"connected": False}, within=20)
        # The belt keeps running without its controller (as a real one would).
        assert (await sim.state())["machine"]["belt_speed"] > 0
        # Commands left retained on the broker: a restart must not replay them.
        for command, body in (("arm", {}), ("start_profile", {"profile": "quick-back"})):
            payload = json.dumps({**body, "transaction": f"retained-{command}"})
            await mq.publish(f"treadctl/tm1/request/{command}", payload, retain=True)
        await mq.publish("treadctl/tm1/set/armed", "ON", retain=True)
        await mq.publish("treadctl/tm1/set/start", "PRESS", retain=True)
        since_kill = len(writes(sim))

        await rig.start_daemon()
        # A fresh request after the restart: its reply comes after the retained messages
        # (delivered on subscription, before it) were handled.
        fresh = await mq.request("tm1", "select_profile", profile="quick-back")
        assert fresh["status"] == "ok"
        replies = [
            m.json()
            for m in mq.messages
            if m.topic.startswith("treadctl/tm1/response/") and m.payload.startswith(b"{")
        ]
        assert not [r for r in replies if str(r.get("transaction", "")).startswith("retained-")]
        state = await mq.latest_state("tm1", lambda s: s["selected_profile"] == "quick-back")
        assert state["armed"] is False
        assert state["session"] == "idle"

        # The new process found the belt moving under no session of its own: it stops it
        # (as after a disconnect, docs/safety.md) and restarts nothing.
        await sim.wait({"machine.belt_speed": {"max": 0}}, within=20)
        after = writes(sim)[since_kill:]
        assert [r["hex"] for r in after if r["op"] == OP_STOP] == ["0801"], after
        assert not [r for r in after if r["op"] in (OP_START, OP_SET_SPEED)], after
        # Remote commands still need a new arming: the replayed "arm" did not count.
        refused = await mq.request("tm1", "start_profile", profile="quick-back")
        assert refused["error"]["code"] == "not_armed"
        assert not [r for r in writes(sim)[since_kill:] if r["op"] in (OP_START, OP_SET_SPEED)]
