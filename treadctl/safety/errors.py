"""Typed refusals of the safety layer. Each carries the numbers it was decided on."""

from __future__ import annotations

from treadctl.errors import LocalProtocolError, TreadctlError


class SafetyRefusal(TreadctlError):
    """A request was refused by a safety rule; nothing was sent to the treadmill."""


class LimitExceededError(SafetyRefusal):
    """A requested speed or incline is above a cap (never silently clamped).

    ``quantity`` is "speed" (0.01 km/h) or "incline" (0.1 %); ``limit_name`` names the cap
    (absolute, user, handrail-free, profile, device maximum, incline).
    """

    advice = "choose a lower value, or ask whoever set the cap"

    def __init__(self, quantity: str, requested: int, limit: int, limit_name: str) -> None:
        self.quantity = quantity
        self.requested = requested
        self.limit = limit
        self.limit_name = limit_name
        unit, scale = ("km/h", 100) if quantity == "speed" else ("%", 10)
        super().__init__(
            f"{quantity} {requested / scale:g} {unit} is above the {limit_name} cap "
            f"{limit / scale:g} {unit}"
        )


class BelowDeviceMinimumError(SafetyRefusal):
    """A requested speed or incline is below what the device supports (never rounded up)."""

    advice = "this treadmill cannot go that slowly; pick a profile made for it or stop the belt"

    def __init__(self, quantity: str, requested: int, minimum: int) -> None:
        self.quantity = quantity
        self.requested = requested
        self.minimum = minimum
        unit, scale = ("km/h", 100) if quantity == "speed" else ("%", 10)
        super().__init__(
            f"{quantity} {requested / scale:g} {unit} is below the device minimum "
            f"{minimum / scale:g} {unit}"
        )


class NotSupportedError(SafetyRefusal):
    """The device did not report the range needed to command this quantity."""

    def __init__(self, quantity: str) -> None:
        self.quantity = quantity
        super().__init__(f"the treadmill reported no supported {quantity} range; not commanding it")


class LatchedError(SafetyRefusal):
    """A safety event latched the governor; only a new explicit start or resume clears it."""

    advice = "start or resume explicitly once the cause is dealt with"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"refused after safety event {reason!r}")


class BeltStateError(SafetyRefusal):
    """The belt or the governor is not in a state that allows this request."""

    def __init__(self, action: str, state: str, detail: str = "") -> None:
        self.action = action
        self.state = state
        self.detail = detail
        extra = f": {detail}" if detail else ""
        super().__init__(f"cannot {action} while {state}{extra}")


class NudgeRefusedError(SafetyRefusal):
    """A manual speed nudge broke the nudge rules (size, rate, or block start)."""

    def __init__(self, requested_delta: int, reason: str, wait_s: float | None = None) -> None:
        self.requested_delta = requested_delta
        self.reason = reason
        self.wait_s = wait_s
        super().__init__(f"nudge {requested_delta / 100:+g} km/h refused: {reason}")


class DeviceRangeError(LocalProtocolError):
    """A device-reported range cannot be used (maximum below minimum, zero increment...)."""

    def __init__(self, quantity: str, detail: str) -> None:
        self.quantity = quantity
        super().__init__(f"unusable supported {quantity} range: {detail}")


class HeartRateRefusal(SafetyRefusal):
    """The heart-rate guard refuses an increase or a start (docs/heart-rate.md)."""

    advice = "slow down or rest; the guard lets increases through again below the soft limit"

    def __init__(self, action: str, reason: str) -> None:
        self.action = action
        self.reason = reason
        super().__init__(f"{action} refused: {reason}")


class InvariantError(TreadctlError):
    """An internal rule of the safety core does not hold: a bug, never a person's mistake.

    Raised by explicit checks (an ``assert`` vanishes under ``python -O``); carries where it
    was found and what was found."""

    def __init__(self, where: str, detail: str) -> None:
        self.where = where
        self.detail = detail
        super().__init__(f"safety core invariant broken in {where}: {detail}")
