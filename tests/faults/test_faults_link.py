"""Fault matrix: the Bluetooth link goes away (mid-ramp; the treadmill switched off while
commands arrive over MQTT).

Expected (docs/safety.md "disconnect"; docs/home-assistant.md "Nothing is queued while the
treadmill's link is down"): latch; after reconnecting Request Control + Stop if the belt may
move; the session paused; commands while the link is down answered ``link_down`` and never run
later. Outcomes from the simulator's trace and MQTT only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.sim_trace import wait_trace
from harness.simulator import simulator_process, stop_process
from tests.faults.helpers import (
    OP_SET_SPEED,
    assert_no_restart,
    assert_no_start_while_moving,
    let_time_pass,
    rig,
    start_session,
    wait_belt_stopped,
    wait_event,
    writes,
)

pytestmark = [pytest.mark.faults, pytest.mark.crossprocess]

QUIET_S = 20.0
FAST_RECONNECT = {"ble": {"control_point_deadline_s": 1.0, "reconnect_max_backoff_s": 0.5}}


async def test_disconnect_mid_ramp(tmp_path: Path) -> None:
    async with rig(tmp_path, extra_config=FAST_RECONNECT) as r:
        await r.start_daemon()
        sim = r.sims["tm1"]
        await start_session(r, "ramp")
        # Mid-ramp: a speed above the 1.0 km/h start speed has been written.
        step = await wait_trace(
            sim,
            lambda x: (
                x["kind"] == "write"
                and x["op"] == OP_SET_SPEED
                and int.from_bytes(bytes.fromhex(x["hex"])[1:3], "little") > 100
            ),
        )
        since = r.mqtt.mark()
        await sim.command("disconnect_now")
        cut = await wait_trace(
            sim, lambda x: x["kind"] == "connection" and x["event"] == "disconnected"
        )
        assert cut["t"] >= step["t"]
        await wait_event(r, "disconnected", since)
        await r.wait_online("tm1", since=since)
        await wait_belt_stopped(sim)
        await r.mqtt.latest_state("tm1", lambda s: s["session"] == "paused")
        await let_time_pass(sim, QUIET_S)
        assert_no_restart(sim, cut["t"])
        assert_no_start_while_moving(sim)


async def test_mqtt_commands_while_the_link_is_down(tmp_path: Path) -> None:
    """The treadmill is switched off (the simulator process ends); start and speed commands
    are answered link_down at once; the emergency stop is still accepted. When the treadmill
    comes back (a new simulator process on the same port), nothing of it is replayed."""
    async with rig(tmp_path, extra_config=FAST_RECONNECT) as r:
        await r.start_daemon()
        old = r.sims["tm1"]
        port = old.port
        assert (await r.mqtt.request("tm1", "arm"))["status"] == "ok"
        since = r.mqtt.mark()
        await stop_process(old.process)
        await r.mqtt.wait_for(
            "treadctl/tm1/availability", lambda m: m.text == "offline", since=since
        )

        # Arming is refused too while the link is down (a disconnect is a safety event).
        arm = await r.mqtt.request("tm1", "arm")
        assert arm["status"] == "error", arm
        assert arm["error"]["code"] == "link_down", arm
        for command, body in (
            ("start_profile", {"profile": "steady"}),
            ("resume", {}),
            ("set_speed", {"kmh": 1.5}),
        ):
            reply = await r.mqtt.request("tm1", command, **body)
            assert reply["status"] == "error", (command, reply)
            assert reply["error"]["code"] in ("link_down", "not_armed"), (command, reply)
        assert (await r.mqtt.request("tm1", "emergency_stop"))["status"] == "ok"

        back_dir = tmp_path / "sim-back"
        back_dir.mkdir()
        async with simulator_process(
            back_dir,
            "--address",
            "F0:F1:F2:F3:F4:10",
            "--walker",
            preset="generic",
            speedup=20.0,
            hci=(f"tcp-server:127.0.0.1:{port}",),
        ) as back:
            r.sims["tm1"] = back
            await r.wait_online("tm1", since=since)
            await let_time_pass(back, QUIET_S)
            assert_no_restart(back, 0.0)
            assert (await back.state())["machine"]["belt_speed"] == 0
            # The link is really up: a fresh explicit start works (the control case).
            await start_session(r)
            assert (await r.mqtt.request("tm1", "stop"))["status"] == "ok"
            await wait_belt_stopped(back)
            assert len([w for w in writes(back) if w["op"] == 7]) == 1
