"""Fault matrix: the control point misbehaves mid-ramp (FTMS v1.0 §4.16: a procedure is one
write answered by one indication; the simulator injects the faults).

Each fault hits the next ramp write of a running session; the expected reaction
(docs/safety.md "a command fails"): latch, Stop, session paused ``command_failed``, and no
Start or speed afterwards without a new command. Outcomes from the trace and MQTT only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.daemon import DaemonRig
from tests.faults.helpers import (
    OP_SET_SPEED,
    assert_no_restart,
    assert_no_start_while_moving,
    let_time_pass,
    rig,
    start_session,
    trace_time,
    wait_belt_stopped,
    wait_event,
    wait_stop_write,
    writes_after,
)

pytestmark = [pytest.mark.faults, pytest.mark.crossprocess]

QUIET_S = 20.0


async def _mid_ramp_fault(r: DaemonRig, action: str, **args: Any) -> float:
    sim = r.sims["tm1"]
    await start_session(r, "ramp")
    since = r.mqtt.mark()
    fault_at = trace_time(sim)
    injected = await sim.command(action, **args)
    assert injected["done"], injected
    await wait_stop_write(sim, fault_at)
    await wait_belt_stopped(sim)
    await wait_event(r, "command_failed", since)
    await r.mqtt.latest_state("tm1", lambda s: s["session"] == "paused")
    # The fault hit a ramp write (not some other procedure).
    assert writes_after(sim, fault_at, OP_SET_SPEED), "the fault did not hit a ramp write"
    await let_time_pass(sim, QUIET_S)
    stop = await wait_stop_write(sim, fault_at)
    assert_no_restart(sim, stop["t"])
    # End the paused session so the next phase can start a new one.
    assert (await r.mqtt.request("tm1", "stop"))["status"] == "ok"
    return fault_at


async def test_control_point_faults_mid_ramp(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.start_daemon()
        sim = r.sims["tm1"]
        # Never indicates: the indication of the next ramp write is never sent.
        await _mid_ramp_fault(r, "drop_next_indication")
        # Control Not Permitted (0x05) and Operation Failed (0x04) answers.
        at = await _mid_ramp_fault(r, "answer_next_with", result=5)
        assert any(w.get("result") == 5 for w in writes_after(sim, at))
        at = await _mid_ramp_fault(r, "answer_next_with", result=4)
        assert any(w.get("result") == 4 for w in writes_after(sim, at))
        assert_no_start_while_moving(sim)


async def test_procedure_already_in_progress(tmp_path: Path) -> None:
    """The indication comes late (after the daemon's 1 s deadline): the daemon's Stop finds the
    procedure still in progress (ATT error 0xFE). The belt must still end up stopped."""
    async with rig(tmp_path) as r:
        await r.start_daemon()
        sim = r.sims["tm1"]
        await start_session(r, "ramp")
        since = r.mqtt.mark()
        fault_at = trace_time(sim)
        await sim.command("delay_next_indication", seconds=2.5)
        await wait_event(r, "command_failed", since)
        await wait_belt_stopped(sim, within=30)
        await let_time_pass(sim, QUIET_S)
        stop = await wait_stop_write(sim, fault_at)
        assert_no_restart(sim, stop["t"])
        assert_no_start_while_moving(sim)
