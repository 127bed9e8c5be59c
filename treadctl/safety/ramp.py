"""Ramp planning: the next speed or incline setpoint, and when it is due (pure).

Each step is a whole number of device increments (``ramp_step``), at most the acceleration limit
since the previous write and at most one write per ``MIN_WRITE_INTERVAL_S``; a rise of one
quantity waits ``SPEED_INCLINE_SEPARATION_S`` after a rise of the other (docs/safety.md,
"Limits": every number there names its source). The governor decides *whether* to ramp
(phase, latch, caps, heart-rate hold); these functions decide *what* and *when*.
"""

from __future__ import annotations

from dataclasses import dataclass

from treadctl.observations import InclineRange
from treadctl.safety import limits as L
from treadctl.safety.device import fit_down, ramp_step


@dataclass(slots=True)
class Axis:
    """Ramp bookkeeping for one quantity (speed or incline)."""

    target: int | None = None
    commanded: int | None = None
    last_write_at: float | None = None
    last_raise_at: float = float("-inf")


@dataclass(frozen=True, slots=True)
class Step:
    """A setpoint to send now, with the reason."""

    value: int
    why: str


Plan = Step | float | None
"""A step to send now, the time the next step is due, or None (nothing to do)."""


def speed_step(
    speed: Axis,
    target: int,
    *,
    commanded: int,
    increment: int,
    rate: float,
    incline_last_raise: float,
    now: float,
) -> Plan:
    """The next speed setpoint towards ``target`` (already under the grid cap) from
    ``commanded`` at ``rate`` (0.01 km/h per second)."""
    if target == commanded:
        return None
    step = ramp_step(increment, rate, L.MIN_WRITE_INTERVAL_S)
    if target > commanded:
        nxt = min(target, commanded + step)
        due_separation = incline_last_raise + L.SPEED_INCLINE_SEPARATION_S
    else:
        nxt = max(target, commanded - step)
        due_separation = float("-inf")
    last = speed.last_write_at if speed.last_write_at is not None else float("-inf")
    due = max(
        last + abs(nxt - commanded) / rate,
        last + L.MIN_WRITE_INTERVAL_S,
        due_separation,
    )
    if now >= due:
        return Step(nxt, "ramp up" if nxt > commanded else "ramp down")
    return due


def incline_step(
    incline: Axis,
    speed: Axis,
    *,
    rng: InclineRange,
    cap: int,
    per_minute: int,
    rise_held: bool,
    now: float,
) -> Plan:
    """The next incline setpoint towards ``incline.target`` (0.1 %, ``per_minute`` per
    minute). A rise waits while ``rise_held`` (the heart-rate guard) and while a speed rise is
    pending (the speed goes first)."""
    if incline.target is None:
        return None
    current = incline.commanded if incline.commanded is not None else rng.minimum
    if current > cap:
        capped = fit_down(cap, rng)
        if capped is not None:
            return Step(capped, "incline cap")
    if incline.target == current and incline.commanded is not None:
        return None
    per_s = per_minute / 60
    step = ramp_step(rng.increment, per_s, L.MIN_WRITE_INTERVAL_S)
    if incline.target > current:
        if rise_held:
            return None  # docs/heart-rate.md: no incline increase while the guard holds
        if (
            speed.target is not None
            and speed.commanded is not None
            and speed.target > speed.commanded
        ):
            return None  # a pending speed rise goes first
        nxt = min(incline.target, current + step)
        separation = speed.last_raise_at + L.SPEED_INCLINE_SEPARATION_S
    else:
        nxt = max(incline.target, current - step)
        separation = float("-inf")
    if incline.commanded is None:
        due = separation  # first write: from the (assumed) minimum
    else:
        last = incline.last_write_at if incline.last_write_at is not None else float("-inf")
        due = max(last + abs(nxt - current) / per_s, last + L.MIN_WRITE_INTERVAL_S, separation)
    if now >= due:
        return Step(nxt, "incline up" if nxt > current else "incline down")
    return due
