"""Fault matrix: treadmills that lie or misbehave (the quirks of
docs/references.md#ftms-devices, played by the simulator) and telemetry faults.

Outcomes from the simulator's trace and MQTT only; reactions as in docs/safety.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.sim_trace import wait_trace
from tests.faults.helpers import (
    OP_SET_SPEED,
    OP_START,
    assert_no_restart,
    assert_no_start_while_moving,
    belt,
    let_time_pass,
    rig,
    start_session,
    trace_time,
    wait_belt_stopped,
    wait_event,
    wait_stop_write,
    writes,
    writes_after,
)
from treadctl.safety.events import SAFETY_EVENTS

pytestmark = [pytest.mark.faults, pytest.mark.crossprocess]

QUIET_S = 20.0
SAFETY_KINDS = {row.reason.value for row in SAFETY_EVENTS.values() if row.published}


def _speed_written(record: dict[str, object]) -> int:
    """The speed of a Set Target Speed write (``02 lo hi``, 0.01 km/h; FTMS §4.16.2.3)."""
    raw = bytes.fromhex(str(record["hex"]))
    return int.from_bytes(raw[1:3], "little")


async def test_device_reports_speed_in_mph(tmp_path: Path) -> None:
    """target-speed-in-mph: the belt runs 1.609x the asked speed; the link suspects mph, the
    belt is stopped, the session aborted, and nothing restarts it."""
    async with rig(tmp_path, quirks=["target-speed-in-mph"]) as r:
        await r.start_daemon()
        sim = r.sims["tm1"]
        since = r.mqtt.mark()
        await start_session(r)
        start = writes(sim, OP_START)[0]
        await wait_event(r, "mph_suspected", since)
        await wait_belt_stopped(sim)
        await r.mqtt.latest_state("tm1", lambda s: s["session"] == "aborted")
        # The belt never got beyond 1.609 x the 1.0 km/h asked (plus one 0.1 km/h increment).
        assert max(b["speed"] for b in belt(sim)) <= 171
        await let_time_pass(sim, QUIET_S)
        assert_no_restart(sim, start["t"])


async def test_walking_pad_quirks_toggle_cold_start_min_revert_zero_frames(tmp_path: Path) -> None:
    """kingsmith-z1d: Start is a toggle, a speed written during spin-up drops the link, a low
    target silently reverts to the minimum, all-zero frames while still. Then a disconnect
    right after Start (during the cold start)."""
    async with rig(tmp_path, preset="kingsmith-z1d") as r:
        await r.start_daemon()
        sim = r.sims["tm1"]
        since = r.mqtt.mark()
        # Zero-frame spam while idle: no safety event comes of it.
        await let_time_pass(sim, 5)
        await start_session(r)
        events = [m.json() for m in r.mqtt.messages[since:] if m.topic == "treadctl/tm1/event"]
        assert not [e for e in events if e.get("kind") in SAFETY_KINDS], events

        # Cold start: no speed write between Start and the first motion; the link held.
        start = writes(sim, OP_START)[0]
        first_motion = next(b for b in belt(sim) if b["speed"] > 0)
        assert not [w for w in writes(sim, OP_SET_SPEED) if start["t"] < w["t"] < first_motion["t"]]
        assert not [w for w in writes(sim) if w.get("disconnected")]

        # Toggle: a second start while the belt runs is refused and sends no Start.
        again = await r.mqtt.request("tm1", "start_profile", profile="steady")
        assert again["status"] == "error", again
        resume = await r.mqtt.request("tm1", "resume")
        assert len(writes(sim, OP_START)) == 1, resume

        # Minimum speed: a nudge below the 1.0 km/h minimum is refused, never written.
        low = await r.mqtt.request("tm1", "set_speed", kmh=0.5)
        assert low["status"] == "error", low
        assert all(_speed_written(w) >= 100 for w in writes(sim, OP_SET_SPEED))
        assert (await sim.state())["machine"]["phase"] == "running"

        # Disconnect during the cold start: stop, start again, drop the link right after Start.
        assert (await r.mqtt.request("tm1", "stop"))["status"] == "ok"
        await wait_belt_stopped(sim)
        before = trace_time(sim)
        assert (await r.mqtt.request("tm1", "arm"))["status"] == "ok"
        assert (await r.mqtt.request("tm1", "start_profile", profile="steady"))["status"] == "ok"
        second = await wait_trace(
            sim, lambda x: x["kind"] == "write" and x["op"] == OP_START and x["t"] > before
        )
        since = r.mqtt.mark()
        await sim.command("disconnect_now")
        await wait_event(r, "disconnected", since)
        await r.wait_online("tm1", since=since)
        await wait_belt_stopped(sim)
        await let_time_pass(sim, QUIET_S)
        assert_no_restart(sim, second["t"])
        assert_no_start_while_moving(sim)


async def test_reported_speed_above_cap_and_stale_telemetry(tmp_path: Path) -> None:
    async with rig(tmp_path, user_cap_kmh=1.5) as r:
        await r.start_daemon()
        sim = r.sims["tm1"]
        # The console raises the belt above the 1.5 km/h cap: overspeed stop, aborted.
        await start_session(r)
        since = r.mqtt.mark()
        fault_at = trace_time(sim)
        await sim.command("console_set_speed", speed=250)
        await wait_event(r, "overspeed", since)
        await wait_stop_write(sim, fault_at)
        await wait_belt_stopped(sim)
        await r.mqtt.latest_state("tm1", lambda s: s["session"] == "aborted")
        await let_time_pass(sim, QUIET_S)
        assert_no_restart(sim, fault_at)

        # Treadmill Data stops: after 3 s (simulated) the belt is stopped, session paused.
        await start_session(r)
        since = r.mqtt.mark()
        fault_at = trace_time(sim)
        await sim.command("stop_notifying")
        await wait_event(r, "stale_telemetry", since)
        await wait_stop_write(sim, fault_at)
        await wait_belt_stopped(sim)
        await r.mqtt.latest_state("tm1", lambda s: s["session"] == "paused")
        await sim.command("resume_notifying")
        await let_time_pass(sim, QUIET_S)
        assert_no_restart(sim, fault_at)
        assert_no_start_while_moving(sim)


async def test_odd_frames_split_padded_bare_and_vendor_fields(tmp_path: Path) -> None:
    """Frames that are legal but odd: Treadmill Data split by More Data (gym-treadmill, 27
    bytes at MTU 23), vendor step count, padded Machine Status, a Training Status string flag
    with no string, bare result-byte indications, indications before the write response.
    The session runs, telemetry reaches MQTT, and Stop stops the belt."""
    quirks = [
        "vendor-step-count",
        "padded-status-frames",
        "empty-training-string",
        "bare-result-byte",
        "indicate-before-write-response",
    ]
    async with rig(tmp_path, preset="gym-treadmill", quirks=quirks) as r:
        await r.start_daemon()
        sim = r.sims["tm1"]
        since = r.mqtt.mark()
        await start_session(r)
        moving = await r.mqtt.wait_json(
            "treadctl/tm1/telemetry", lambda t: (t["speed_kmh"] or 0) > 0, since=since
        )
        assert moving["speed_kmh"] <= 1.0
        assert moving["distance_m"] is not None  # from the second half of a split record
        stop_at = trace_time(sim)
        assert (await r.mqtt.request("tm1", "stop"))["status"] == "ok"
        await wait_stop_write(sim, stop_at)
        await wait_belt_stopped(sim)
        await let_time_pass(sim, QUIET_S)
        assert_no_restart(sim, stop_at)
        assert writes_after(sim, stop_at)[0]["hex"] == "0801"


MALFORMED_FRAMES = [
    ("2acd", ""),  # empty notification
    ("2acd", "84"),  # half a flags field
    ("2acd", "8424"),  # flags announce fields that are not there
    ("2acd", "842464"),  # truncated in the middle of the speed
    ("2acd", "fe3f" + "ff" * 5),  # every flag set, far too short
    ("2ada", ""),  # empty status
    ("2ada", "05"),  # target speed changed without its value
    ("2ada", "7f0102"),  # an op code the spec does not define
    ("2ad3", ""),  # empty training status
    ("2ad3", "01"),  # flags without the status byte
]


async def test_malformed_and_truncated_notifications(tmp_path: Path) -> None:
    """The device sends garbage on its notifying characteristics mid-session: each frame is
    dropped (decode error counted), nothing crashes, the belt keeps the commanded speed, and
    nothing is started or re-applied because of it."""
    async with rig(tmp_path) as r:
        daemon = await r.start_daemon()
        sim = r.sims["tm1"]
        await start_session(r)
        await r.mqtt.latest_state("tm1", lambda s: s["session"] == "running")
        fault_at = trace_time(sim)
        for characteristic, frame in MALFORMED_FRAMES:
            await sim.command("notify_raw", characteristic=characteristic, hex=frame)
        sent = [x for x in sim.trace_records("fault") if x.get("action") == "notify_raw"]
        assert len(sent) == len(MALFORMED_FRAMES)
        assert all(x["done"] for x in sent)
        await let_time_pass(sim, QUIET_S)
        assert daemon.returncode is None
        assert not any(x.get("event") == "daemon_failed" for x in daemon.logs())
        state = await r.mqtt.latest_state("tm1", lambda s: s["session"] == "running")
        assert state["speed_kmh"] == 1.0
        assert writes_after(sim, fault_at, OP_START) == []
        assert max(x["speed"] for x in belt(sim)) <= 100
        assert_no_start_while_moving(sim)
