"""The session runner's state table (treadctl/control/session_states.py)."""

from __future__ import annotations

import pytest

from treadctl.control.session_states import (
    TERMINAL,
    TRANSITIONS,
    SessionEvent,
    SessionState,
    next_state,
)
from treadctl.safety.errors import InvariantError


def test_a_session_ends_only_finished_or_aborted_and_leaves_that_only_by_a_reset() -> None:
    for (state, event), new in TRANSITIONS.items():
        if state in TERMINAL:
            assert (event, new) == (SessionEvent.RESET, SessionState.IDLE)


def test_the_belt_may_start_only_on_a_persons_start_or_resume() -> None:
    into_starting = {
        event for (_s, event), new in TRANSITIONS.items() if new is SessionState.STARTING
    }
    assert into_starting == {SessionEvent.START, SessionEvent.RESUME}


@pytest.mark.parametrize(
    "state", [s for s in SessionState if s not in TERMINAL and s is not SessionState.IDLE]
)
def test_every_live_session_can_be_aborted(state: SessionState) -> None:
    assert next_state(state, SessionEvent.ABORT) is SessionState.ABORTED


def test_an_unexpected_event_is_a_bug() -> None:
    with pytest.raises(InvariantError, match="start is not expected while running"):
        next_state(SessionState.RUNNING, SessionEvent.START)
