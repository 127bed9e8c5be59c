"""The session runner's states, its table of (state, event) -> state, and its snapshot (pure).

The runner never assigns its state directly: it reports what happened (:class:`SessionEvent`)
and :func:`next_state` looks the pair up (h11's ``_state.py`` is the model). A pair missing
from the table is a bug in the runner and raises
:class:`~treadctl.safety.errors.InvariantError`.

States: idle -> arming -> starting -> running <-> paused -> stopping -> finished | aborted.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from treadctl.safety.errors import InvariantError


class SessionState(enum.Enum):
    IDLE = "idle"
    ARMING = "arming"
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    FINISHED = "finished"
    ABORTED = "aborted"


TERMINAL = frozenset({SessionState.FINISHED, SessionState.ABORTED})
"""States a session ends in (it has a summary)."""


class SessionEvent(enum.Enum):
    """What happened, as far as the session's state is concerned."""

    RESET = "reset"  # a new profile is being armed: start from scratch
    ARM = "arm"  # the profile passed its checks
    START = "start"  # a person starts the armed profile
    RESUME = "resume"  # a person resumes (or ends a stopped rest early)
    BELT_RUNNING = "belt_running"  # the belt moves under the governor after a start/resume
    PAUSE = "pause"  # a person's pause, a safety latch that pauses, or a stopped rest is over
    STOP = "stop"  # a person stops the session: the belt stops first
    PROFILE_OVER = "profile_over"  # the last segment ended: the belt stops first
    FINISH = "finish"  # the session ends normally
    ABORT = "abort"  # a safety event, an emergency stop, a refused segment or cancellation


_I, _A, _ST, _R = (
    SessionState.IDLE,
    SessionState.ARMING,
    SessionState.STARTING,
    SessionState.RUNNING,
)
_P, _SP = SessionState.PAUSED, SessionState.STOPPING
_F, _AB = SessionState.FINISHED, SessionState.ABORTED

TRANSITIONS: dict[tuple[SessionState, SessionEvent], SessionState] = {
    **{(state, SessionEvent.RESET): _I for state in (_I, _A, _F, _AB)},
    (_I, SessionEvent.ARM): _A,
    (_A, SessionEvent.START): _ST,
    (_P, SessionEvent.RESUME): _ST,
    (_R, SessionEvent.RESUME): _ST,  # during a stopped rest
    (_ST, SessionEvent.BELT_RUNNING): _R,
    (_ST, SessionEvent.PAUSE): _P,
    (_R, SessionEvent.PAUSE): _P,
    (_P, SessionEvent.PAUSE): _P,  # a safety event while paused: still paused, new reason
    (_ST, SessionEvent.STOP): _SP,
    (_R, SessionEvent.STOP): _SP,
    (_P, SessionEvent.STOP): _SP,
    (_SP, SessionEvent.STOP): _SP,  # asked again while the belt runs down
    (_R, SessionEvent.PROFILE_OVER): _SP,
    (_A, SessionEvent.FINISH): _F,  # stopped before it started
    (_R, SessionEvent.FINISH): _F,  # resumed past the last segment
    (_P, SessionEvent.FINISH): _F,
    (_SP, SessionEvent.FINISH): _F,
    **{(state, SessionEvent.ABORT): _AB for state in (_A, _ST, _R, _P, _SP)},
}


def next_state(state: SessionState, event: SessionEvent) -> SessionState:
    """The state after ``event`` in ``state``; InvariantError for a pair the table lacks."""
    try:
        return TRANSITIONS[state, event]
    except KeyError:
        raise InvariantError(
            "session state table", f"{event.value} is not expected while {state.value}"
        ) from None


@dataclass(frozen=True, slots=True)
class SessionSnapshot:
    """The session as values, for the daemon, MQTT and the terminal view.

    Speeds in 0.01 km/h, inclines in 0.1 %, times in seconds."""

    at: float
    state: SessionState
    reason: str | None
    profile: str | None
    segment_index: int | None
    segment_count: int
    segment_name: str | None
    segment_kind: str | None
    facing: str | None
    cue: str
    target_speed: int | None
    reported_speed: int | None
    target_incline: int | None
    reported_incline: int | None
    elapsed_s: float
    segment_remaining_s: float | None
    remaining_s: float | None
    speed_cap: int
    incline_cap: int
    latch: str | None
    belt_phase: str


def differs(a: SessionSnapshot, b: SessionSnapshot) -> bool:
    """Whether a snapshot is worth sending: anything but the clock fields changed, or the clock
    entered a new second (so a view refreshes at least once a second while time moves)."""
    if int(a.at) != int(b.at) or int(a.elapsed_s) != int(b.elapsed_s):
        return True
    return (a.state, a.reason, a.segment_index, a.cue, a.target_speed, a.reported_speed) != (
        b.state,
        b.reason,
        b.segment_index,
        b.cue,
        b.target_speed,
        b.reported_speed,
    ) or (a.target_incline, a.reported_incline, a.latch, a.belt_phase, a.speed_cap) != (
        b.target_incline,
        b.reported_incline,
        b.latch,
        b.belt_phase,
        b.speed_cap,
    )
