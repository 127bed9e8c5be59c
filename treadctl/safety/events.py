"""The safety events and what each one does: one table, read by every layer that reacts.

A safety event *latches* the governor: nothing but Request Control / Stop / Pause goes out until
the next explicit start by a person (docs/safety.md, "Reactions"). The same table says whether
the event ends remote arming, whether the daemon publishes it as an event, whether the device
itself already stopped the belt (so no Stop of ours is needed) and whether a running session is
aborted or only paused. The governor (``treadctl.safety.governor``), the arming policy
(``treadctl.commands.ArmingPolicy``), the session runner, the daemon and the tests all read it;
``tests/safety/test_safety_events.py`` checks it against the table in docs/safety.md.

Pure module: standard library only.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from treadctl.observations import EventKind


class LatchReason(enum.Enum):
    """Why the governor latched. Nothing but Stop goes out until a new explicit start."""

    SAFETY_KEY = "safety_key"
    CONSOLE_STOP = "console_stop"
    CONSOLE_PAUSE = "console_pause"
    CONTROL_LOST = "control_lost"
    DISCONNECTED = "disconnected"
    RESET = "reset"
    STALE_TELEMETRY = "stale_telemetry"
    OVERSPEED = "overspeed"
    MPH_SUSPECTED = "mph_suspected"
    EMERGENCY_STOP = "emergency_stop"
    COMMAND_FAILED = "command_failed"
    START_TIMEOUT = "start_timeout"
    BELT_MOVING_AT_START = "belt_moving_at_start"
    BLOCK_TIME_LIMIT = "block_time_limit"
    HEART_RATE = "heart_rate"


class SessionReaction(enum.Enum):
    """What a safety event does to a running session."""

    ABORT = "aborted"  # the session ends with its summary
    PAUSE = "paused"  # the session waits for a person's explicit resume


@dataclass(frozen=True, slots=True)
class SafetyEvent:
    """One row of the table: a latch reason and everything that follows from it."""

    reason: LatchReason
    event: EventKind | None
    """The device/link event that raises it; None for what the governor detects itself."""
    device_stopped: bool
    """The device already stopped or paused the belt: no Stop of ours is needed."""
    session: SessionReaction
    disarms: bool = True
    """Remote control must be armed again (issue 6: "arming expires ... after every safety
    event": each is a stop or a loss of control the person did not ask for over MQTT)."""
    published: bool = True
    """The daemon publishes it as a safety event (MQTT ``event`` topic, journal)."""


_A, _P = SessionReaction.ABORT, SessionReaction.PAUSE

SAFETY_EVENTS: Mapping[LatchReason, SafetyEvent] = MappingProxyType(
    {
        row.reason: row
        for row in (
            # docs/safety.md, "Reactions": one row per line of that table.
            SafetyEvent(LatchReason.SAFETY_KEY, EventKind.SAFETY_KEY, True, _A),
            SafetyEvent(LatchReason.CONSOLE_STOP, EventKind.CONSOLE_STOP, True, _A),
            SafetyEvent(LatchReason.CONSOLE_PAUSE, EventKind.CONSOLE_PAUSE, True, _P),
            SafetyEvent(LatchReason.CONTROL_LOST, EventKind.CONTROL_LOST, False, _P),
            SafetyEvent(LatchReason.DISCONNECTED, EventKind.DISCONNECTED, False, _P),
            SafetyEvent(LatchReason.RESET, EventKind.RESET, False, _P),
            SafetyEvent(LatchReason.STALE_TELEMETRY, None, False, _P),
            SafetyEvent(LatchReason.OVERSPEED, None, False, _A),
            SafetyEvent(LatchReason.MPH_SUSPECTED, EventKind.MPH_SUSPECTED, False, _A),
            SafetyEvent(LatchReason.COMMAND_FAILED, None, False, _P),
            SafetyEvent(LatchReason.START_TIMEOUT, None, False, _P),
            SafetyEvent(LatchReason.BELT_MOVING_AT_START, None, False, _P),
            SafetyEvent(LatchReason.BLOCK_TIME_LIMIT, None, False, _P),
            SafetyEvent(LatchReason.EMERGENCY_STOP, None, False, _A),
            SafetyEvent(LatchReason.HEART_RATE, None, False, _A),
        )
    }
)
"""Every latch reason, with what it does."""

LATCH_FOR_EVENT: Mapping[EventKind, LatchReason] = MappingProxyType(
    {row.event: row.reason for row in SAFETY_EVENTS.values() if row.event is not None}
)
"""Device/link events that latch the governor (unless the link or governor judges the status
to be the echo of our own procedure), and the latch reason each raises."""

DEVICE_SAFETY_EVENTS: tuple[EventKind, ...] = tuple(LATCH_FOR_EVENT)
"""Device/link events after which nothing may move the belt without a new explicit command."""

DISARMING_EVENTS: frozenset[EventKind] = frozenset(
    row.event for row in SAFETY_EVENTS.values() if row.event is not None and row.disarms
)
"""Device events after which remote control must be armed again."""

PUBLISHED_EVENTS: frozenset[EventKind] = frozenset(
    row.event for row in SAFETY_EVENTS.values() if row.event is not None and row.published
)
"""Device events the daemon publishes as safety events."""

DEVICE_STOPPED: frozenset[LatchReason] = frozenset(
    row.reason for row in SAFETY_EVENTS.values() if row.device_stopped
)
"""The device already stopped or paused the belt for these: no Stop of ours is needed."""

ABORT_ON: frozenset[LatchReason] = frozenset(
    row.reason for row in SAFETY_EVENTS.values() if row.session is SessionReaction.ABORT
)
"""Latch reasons that end a running session (aborted). All others pause it."""
