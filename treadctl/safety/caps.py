"""The caps a requested speed or incline is checked against: refused, never clamped (pure).

A request above any cap in force raises ``LimitExceededError`` naming that cap; one below the
device minimum raises ``BelowDeviceMinimumError`` (never rounded up); otherwise it is rounded
down to the device grid (docs/safety.md, "Limits", names the source of every cap).
"""

from __future__ import annotations

from treadctl.observations import InclineRange, SpeedRange
from treadctl.safety import limits as L
from treadctl.safety.device import fit_down
from treadctl.safety.errors import (
    BelowDeviceMinimumError,
    LimitExceededError,
    NotSupportedError,
)


def speed_caps(
    limits: L.Limits, profile_cap: int | None, device_maximum: int | None
) -> list[tuple[int, str]]:
    """Every speed cap in force, with its name (0.01 km/h)."""
    caps = [(L.ABSOLUTE_SPEED_CAP, "absolute"), (limits.user_speed_cap, "user")]
    if not limits.handrails:
        caps.append((L.HANDRAIL_FREE_SPEED_CAP, "handrail-free"))
    if profile_cap is not None:
        caps.append((profile_cap, "profile"))
    if device_maximum is not None:
        caps.append((device_maximum, "device maximum"))
    return caps


def check_speed(speed: int, rng: SpeedRange, caps: list[tuple[int, str]]) -> int:
    """The device setpoint for a requested speed, or a typed refusal (never a clamp)."""
    for limit, name in caps:
        if speed > limit:
            raise LimitExceededError("speed", speed, limit, name)
    fitted = fit_down(speed, rng)
    if fitted is None:
        raise BelowDeviceMinimumError("speed", speed, rng.minimum)
    return fitted


def check_incline(incline: int, rng: InclineRange | None, cap: int) -> int:
    """The device setpoint for a requested incline, or a typed refusal (never a clamp)."""
    if rng is None:
        raise NotSupportedError("incline")
    if incline > cap:
        raise LimitExceededError("incline", incline, cap, "incline")
    if incline > rng.maximum:
        raise LimitExceededError("incline", incline, rng.maximum, "device maximum")
    if incline < 0:
        # docs/references.md#retro-defaults gives 0-10 %; declines are not part of any dose it
        # cites.
        raise BelowDeviceMinimumError("incline", incline, 0)
    fitted = fit_down(incline, rng)
    if fitted is None:
        raise BelowDeviceMinimumError("incline", incline, rng.minimum)
    return fitted
