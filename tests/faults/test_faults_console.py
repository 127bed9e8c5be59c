"""Fault matrix: a person at the treadmill (safety key, console stop/pause, console takeover).

Real ``treadctl run`` + ``treadsim`` process + Mosquitto; outcomes read from the simulator's
trace and MQTT only. Reactions: docs/safety.md "Reactions"; docs/references.md#retro-reactions.
The four faults run one after another on one rig (one process start-up for all: CI budget),
each on a freshly started session; a failing phase names itself in the assertion.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.daemon import DaemonRig
from tests.faults.helpers import (
    OP_START,
    assert_no_restart,
    assert_no_start_while_moving,
    let_time_pass,
    rig,
    start_session,
    trace_time,
    wait_belt_stopped,
    wait_event,
    writes_after,
)

pytestmark = [pytest.mark.faults, pytest.mark.crossprocess]

QUIET_S = 20.0
"""Simulated seconds watched after each fault for anything replayed (1 s wall at speedup 20)."""


async def _fault(r: DaemonRig, action: str, event: str, session: str) -> float:
    """Start a session, do ``action`` on the console; the belt stops, ``event`` is published,
    the session ends ``session``, and nothing is written but Request Control/Stop afterwards."""
    sim = r.sims["tm1"]
    await start_session(r)
    since = r.mqtt.mark()
    fault_at = trace_time(sim)
    await sim.command(action)
    await wait_belt_stopped(sim)
    await wait_event(r, event, since)
    state = await r.mqtt.latest_state("tm1", lambda s: s["session"] == session)
    assert state["running"] is False, (action, state)
    await let_time_pass(sim, QUIET_S)
    assert_no_restart(sim, fault_at)
    return fault_at


async def test_console_faults_safety_key_stop_pause_takeover(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.start_daemon()
        sim = r.sims["tm1"]

        # Safety key pulled: aborted; putting the key back restarts nothing.
        key_at = await _fault(r, "pull_safety_key", "safety_key", "aborted")
        await sim.command("insert_safety_key")
        await let_time_pass(sim, QUIET_S)
        assert_no_restart(sim, key_at)

        # Console stop: aborted.
        await _fault(r, "press_stop", "console_stop", "aborted")

        # Console pause: paused; resume needs a new arm (the pause disarmed) and then one
        # explicit resume, which is the only thing that sends Start again.
        pause_at = await _fault(r, "press_pause", "console_pause", "paused")
        refused = await r.mqtt.request("tm1", "resume")
        assert refused["status"] == "error", refused
        assert refused["error"]["code"] == "not_armed"
        assert_no_restart(sim, pause_at)
        assert (await r.mqtt.request("tm1", "arm"))["status"] == "ok"
        assert (await r.mqtt.request("tm1", "resume"))["status"] == "ok"
        await sim.wait({"machine.belt_speed": {"min": 1}}, within=20)
        assert len(writes_after(sim, pause_at, OP_START)) == 1
        assert (await r.mqtt.request("tm1", "stop"))["status"] == "ok"
        await wait_belt_stopped(sim)
        # The session ends once the daemon has read the belt at 0 (the simulator may get there
        # first): the next fault starts a new session only then.
        await r.mqtt.latest_state("tm1", lambda s: s["session"] == "finished")

        # Control taken by the console (status 0xFF): paused, Request Control + Stop only.
        await _fault(r, "take_control", "control_lost", "paused")

        assert_no_start_while_moving(sim)
