"""The governor's values: its notices, its state snapshot, its start plan (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from treadctl.safety.actions import Command
from treadctl.safety.events import LatchReason
from treadctl.safety.phases import Phase


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the governor decided on its own, for logs, MQTT and the session runner."""

    at: float
    what: str
    latch: LatchReason | None = None


@dataclass(frozen=True, slots=True)
class GovernorState:
    """A snapshot of the governor's state (values only)."""

    phase: Phase
    latch: LatchReason | None
    connected: bool
    control: bool
    speed_cap: int
    incline_cap: int
    target_speed: int | None
    commanded_speed: int | None
    belt_speed: int | None
    target_incline: int | None
    commanded_incline: int | None
    belt_incline: int | None
    last_reading_at: float | None
    running_since: float | None
    heart_rate_hold: str | None = None
    """Why the heart-rate guard holds increases now (docs/heart-rate.md), else None."""
    heart_rate_bpm: int | None = None
    """The guard's last plausible heart rate while its signal is good."""
    heart_rate_hold_kind: str | None = None
    """Why, as a word: ``above_soft``, ``contact_lost``, ``signal_lost``,
    ``sensor_disconnected`` (``treadctl.safety.heart_rate.HoldReason``)."""


@dataclass(slots=True)
class StartPlan:
    """An explicit start on its way: start speed, then Start, then waiting for motion."""

    start_speed: int
    speed_sent: bool = False
    start_sent_at: float | None = None


@dataclass(slots=True)
class InFlight:
    """The command being sent, and when it was issued."""

    command: Command
    issued_at: float
