"""The governor's phase table (treadctl/safety/phases.py)."""

from __future__ import annotations

import pytest

from treadctl.safety.errors import InvariantError
from treadctl.safety.phases import TRANSITIONS, Phase, PhaseEvent, next_phase


@pytest.mark.parametrize("phase", list(Phase), ids=lambda p: p.value)
def test_an_emergency_stop_always_ends_in_stopping(phase: Phase) -> None:
    assert next_phase(phase, PhaseEvent.EMERGENCY_STOP) is Phase.STOPPING


def test_only_an_explicit_start_leads_to_starting_and_only_motion_to_running() -> None:
    into_starting = {event for (_p, event), new in TRANSITIONS.items() if new is Phase.STARTING}
    into_running = {(p, event) for (p, event), new in TRANSITIONS.items() if new is Phase.RUNNING}
    assert into_starting == {PhaseEvent.START}
    assert into_running == {(Phase.STARTING, PhaseEvent.BELT_MOVED)}


def test_no_start_while_starting_or_running() -> None:
    for phase in (Phase.STARTING, Phase.RUNNING):
        with pytest.raises(InvariantError, match="start is not expected while"):
            next_phase(phase, PhaseEvent.START)


def test_a_latch_never_leaves_the_belt_running() -> None:
    latches = (PhaseEvent.LATCH_STILL, PhaseEvent.LATCH_MOVING, PhaseEvent.LATCH_UNKNOWN)
    for phase in Phase:
        for event in latches:
            assert next_phase(phase, event) in (Phase.STOPPED, Phase.STOPPING)
