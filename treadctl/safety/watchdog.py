"""Time-based safety checks of the governor: stale telemetry, a Start that never moved the
belt, the handrail-free block limit, and a still belt before Start (pure).

Every limit is in ``treadctl.safety.limits`` with its source (docs/safety.md, "Limits").
"""

from __future__ import annotations

from dataclasses import dataclass

from treadctl.safety import limits as L
from treadctl.safety.events import LatchReason
from treadctl.safety.phases import Phase


@dataclass(frozen=True, slots=True)
class Clocks:
    """What the checks read: the phase and the times that matter (monotonic s)."""

    phase: Phase
    start_sent_at: float | None
    """When our Start went out, while the start waits for motion."""
    last_reading_at: float | None
    running_since: float | None


def overdue(c: Clocks, limits: L.Limits, now: float) -> tuple[LatchReason, str] | None:
    """The safety reason to latch now, if a belt that may move missed a deadline."""
    starting = c.phase == Phase.STARTING and c.start_sent_at is not None
    if c.phase != Phase.RUNNING and not starting:
        return None
    if stale(c.last_reading_at, limits, now):
        return LatchReason.STALE_TELEMETRY, "no treadmill data in time"
    if (
        starting
        and c.start_sent_at is not None
        and now - c.start_sent_at >= L.START_MOTION_TIMEOUT_S
    ):
        return LatchReason.START_TIMEOUT, "belt did not move after Start"
    block = limits.block_max_s
    if (
        block is not None
        and c.phase == Phase.RUNNING
        and c.running_since is not None
        and now - c.running_since >= block
    ):
        return LatchReason.BLOCK_TIME_LIMIT, f"handrail-free block of {block} s over"
    return None


def deadlines(c: Clocks, limits: L.Limits) -> list[float]:
    """When :func:`overdue` may next have something to say."""
    out: list[float] = []
    moving = c.phase == Phase.RUNNING or c.start_sent_at is not None
    if moving and c.last_reading_at is not None:
        out.append(c.last_reading_at + limits.stale_telemetry_s + 1e-3)
    if c.start_sent_at is not None:
        out.append(c.start_sent_at + L.START_MOTION_TIMEOUT_S)
    block = limits.block_max_s
    if block is not None and c.running_since is not None and c.phase == Phase.RUNNING:
        out.append(c.running_since + block)
    return out


def stale(last_reading_at: float | None, limits: L.Limits, now: float) -> bool:
    """No Treadmill Data within the stale-telemetry limit."""
    return last_reading_at is None or now - last_reading_at > limits.stale_telemetry_s


def still_belt_problem(
    last_reading_at: float | None, belt_speed: int | None, limits: L.Limits, now: float
) -> str | None:
    """Why the belt is not known to stand still now (fresh data showing 0), or None."""
    if stale(last_reading_at, limits, now):
        return "no fresh telemetry to show the belt is still"
    if belt_speed is None:
        return "belt speed unknown"
    if belt_speed != 0:
        return f"belt is moving ({belt_speed})"
    return None
