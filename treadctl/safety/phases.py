"""The governor's phase as one table of (phase, event) -> next phase (pure).

The governor never assigns its phase directly: it reports what happened (:class:`PhaseEvent`)
and :func:`next_phase` looks the pair up. A pair missing from the table is a bug in the
governor and raises :class:`~treadctl.safety.errors.InvariantError`.
"""

from __future__ import annotations

import enum

from treadctl.safety.errors import InvariantError


class Phase(enum.Enum):
    """What the governor is doing with the belt."""

    STOPPED = "stopped"
    STARTING = "starting"  # Request Control -> start speed -> Start -> wait for motion
    RUNNING = "running"  # belt moving under our ramp
    STOPPING = "stopping"  # Stop/Pause sent or done by the device; waiting for speed 0


class PhaseEvent(enum.Enum):
    """What happened, as far as the phase is concerned."""

    START = "start"  # a person's explicit start was accepted
    STOP = "stop"  # a person's stop or pause (or the governor's own, e.g. a cap too low)
    EMERGENCY_STOP = "emergency_stop"  # a Stop goes out even if the belt looks still
    BELT_MOVED = "belt_moved"  # the belt reports motion after our Start
    BELT_STILL = "belt_still"  # the belt reports 0 and no Stop is pending
    STOP_SENT_STILL = "stop_sent_still"  # our Stop/Pause succeeded, the belt reports 0
    STOP_SENT_NOT_STILL = "stop_sent_not_still"  # ... the belt moves or is unknown
    LATCH_STILL = "latch_still"  # a safety latch while the belt reports 0
    LATCH_MOVING = "latch_moving"  # ... while the belt reports motion
    LATCH_UNKNOWN = "latch_unknown"  # ... while the belt's speed is unknown


_S, _ST, _R, _SP = Phase.STOPPED, Phase.STARTING, Phase.RUNNING, Phase.STOPPING
_ALL = tuple(Phase)

TRANSITIONS: dict[tuple[Phase, PhaseEvent], Phase] = {
    (_S, PhaseEvent.START): _ST,
    (_SP, PhaseEvent.START): _ST,  # start() checked the belt reports 0 with fresh data
    (_S, PhaseEvent.STOP): _S,
    (_ST, PhaseEvent.STOP): _SP,
    (_R, PhaseEvent.STOP): _SP,
    (_SP, PhaseEvent.STOP): _SP,
    **{(p, PhaseEvent.EMERGENCY_STOP): _SP for p in _ALL},
    (_ST, PhaseEvent.BELT_MOVED): _R,
    (_SP, PhaseEvent.BELT_STILL): _S,
    **{(p, PhaseEvent.STOP_SENT_STILL): _S for p in _ALL},
    **{(p, PhaseEvent.STOP_SENT_NOT_STILL): _SP for p in _ALL},
    **{(p, PhaseEvent.LATCH_STILL): _S for p in _ALL},
    **{(p, PhaseEvent.LATCH_MOVING): _SP for p in _ALL},
    # A belt never started and of unknown speed stays stopped; otherwise it may move.
    (_S, PhaseEvent.LATCH_UNKNOWN): _S,
    (_ST, PhaseEvent.LATCH_UNKNOWN): _SP,
    (_R, PhaseEvent.LATCH_UNKNOWN): _SP,
    (_SP, PhaseEvent.LATCH_UNKNOWN): _SP,
}


def next_phase(phase: Phase, event: PhaseEvent) -> Phase:
    """The phase after ``event`` in ``phase``; InvariantError for a pair the table lacks."""
    try:
        return TRANSITIONS[phase, event]
    except KeyError:
        raise InvariantError(
            "governor phase table", f"{event.value} is not expected while {phase.value}"
        ) from None
