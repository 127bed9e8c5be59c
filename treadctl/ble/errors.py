"""Errors of the BLE link. Each carries the data needed to act on it (codes, values, ranges).

Library exceptions (bleak, bumble) are translated into these at the link's boundary with
``raise ... from exc``; the governor and the daemon only ever see ``treadctl.errors`` subclasses.
"""

from __future__ import annotations

from treadctl.errors import LocalProtocolError, RemoteProtocolError, TreadctlError

RESULT_NAMES = {
    0x01: "success",
    0x02: "op code not supported",
    0x03: "invalid parameter",
    0x04: "operation failed",
    0x05: "control not permitted",
}
"""FTMS v1.0 §4.16.2.22 Table 4.24 (Result Codes)."""


def op_name(op_code: int) -> str:
    names = {
        0x00: "Request Control",
        0x01: "Reset",
        0x02: "Set Target Speed",
        0x03: "Set Target Inclination",
        0x07: "Start or Resume",
        0x08: "Stop or Pause",
    }
    return names.get(op_code, f"op 0x{op_code:02X}")


class BleError(TreadctlError):
    """Root of the BLE link's errors."""


class BleTransportError(BleError):
    """A Bumble HCI transport could not be opened or used."""

    advice = "check ble.transport (e.g. tcp-client:127.0.0.1:PORT) and that the peer runs"

    def __init__(self, spec: str, reason: str) -> None:
        self.spec = spec
        self.reason = reason
        super().__init__(f"transport {spec!r}: {reason}")


class DeviceNotFound(BleError):
    """No advertiser matched within the scan deadline."""

    advice = "is the treadmill on and not connected to another app?"

    def __init__(
        self,
        criteria: str,
        timeout_s: float,
        *,
        address: str | None = None,
        name: str | None = None,
    ) -> None:
        self.criteria = criteria
        self.timeout_s = timeout_s
        self.address = address
        self.name = name
        super().__init__(f"no treadmill matching {criteria} found within {timeout_s:g} s")


class ConnectFailed(BleError):
    """Connecting (or setting up the GATT session) failed or ran past its deadline."""

    def __init__(self, address: str, reason: str) -> None:
        self.address = address
        self.reason = reason
        super().__init__(f"connecting to {address}: {reason}")


class NotATreadmill(BleError):
    """The peer has no FTMS Treadmill Data characteristic (0x2ACD)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(f"{address} has no FTMS Treadmill Data characteristic (0x2ACD)")


class NotConnected(BleError):
    """The link is not connected (never was, closed, or the peer went away)."""

    def __init__(self, detail: str = "") -> None:
        self.detail = detail
        super().__init__(f"treadmill not connected{': ' + detail if detail else ''}")


class ControlError(BleError):
    """A control point procedure (FTMS §4.16) did not succeed."""

    def __init__(self, message: str, *, op_code: int) -> None:
        self.op_code = op_code
        super().__init__(message)


class ControlRefused(ControlError):
    """The treadmill answered the procedure with a result code other than success."""

    def __init__(self, result_code: int, op_code: int) -> None:
        self.result_code = result_code
        name = RESULT_NAMES.get(result_code, f"result 0x{result_code:02X}")
        super().__init__(
            f"{op_name(op_code)} refused by the treadmill: {name} (0x{result_code:02X})",
            op_code=op_code,
        )


class ControlTimeout(ControlError):
    """No indication answered the procedure before the deadline."""

    def __init__(self, op_code: int, deadline_s: float) -> None:
        self.deadline_s = deadline_s
        super().__init__(
            f"{op_name(op_code)}: no control point indication within {deadline_s:g} s",
            op_code=op_code,
        )


class ControlWriteFailed(ControlError):
    """The control point write itself failed (ATT error, e.g. 0xFD or 0xFE, FTMS §4.16.3)."""

    def __init__(self, op_code: int, att_error: int | None, reason: str) -> None:
        self.att_error = att_error
        code = f" (ATT 0x{att_error:02X})" if att_error is not None else ""
        super().__init__(f"{op_name(op_code)}: write failed{code}: {reason}", op_code=op_code)


class ControlResponseMismatch(RemoteProtocolError):
    """The indication echoed a different request op code than the one pending."""

    def __init__(self, raw: bytes, expected_op: int, got_op: int) -> None:
        self.expected_op = expected_op
        self.got_op = got_op
        super().__init__(
            f"response echoes op 0x{got_op:02X}",
            raw=raw,
            what="control point 0x2AD9",
            expected=f"a response to op 0x{expected_op:02X}",
        )


class RuleViolation(LocalProtocolError):
    """A real-device rule forbids this command now (it was not sent)."""


class BeltMoving(RuleViolation):
    """Start/Resume refused: the belt is moving (Start toggles the belt on some pads)."""

    def __init__(self, speed: int) -> None:
        self.speed = speed
        super().__init__(f"Start refused: the belt reports {speed / 100:.2f} km/h")


class BeltStateUnknown(RuleViolation):
    """Start refused: no Treadmill Data has arrived, so the belt may be moving."""

    def __init__(self) -> None:
        super().__init__("Start refused: no speed reported yet")


class SpeedOutOfRange(RuleViolation):
    """A speed below the device minimum (never rounded up), or no range known."""

    def __init__(self, requested: int, minimum: int | None, maximum: int | None) -> None:
        self.requested = requested
        self.minimum = minimum
        self.maximum = maximum
        if minimum is None:
            text = f"speed {requested} refused: the device reported no supported speed range"
        else:
            text = f"speed {requested} outside the device range {minimum}..{maximum} (0.01 km/h)"
        super().__init__(text)


class InclineOutOfRange(RuleViolation):
    """An incline below the device minimum, or no inclination range known (0x2AD5 missing)."""

    def __init__(self, requested: int, minimum: int | None, maximum: int | None) -> None:
        self.requested = requested
        self.minimum = minimum
        self.maximum = maximum
        if minimum is None:
            text = f"incline {requested} refused: the device reported no inclination range"
        else:
            text = f"incline {requested} outside the device range {minimum}..{maximum} (0.1 %)"
        super().__init__(text)


class MphSuspected(RuleViolation):
    """Speed-ups refused: the device seems to take or report speeds in mph."""

    advice = (
        "check the treadmill's units; if it shows km/h, set ble.mph_check = false in the "
        "configuration (docs/configuration.md) and restart treadctl"
    )

    def __init__(self, requested: int, ratio: float) -> None:
        self.requested = requested
        self.ratio = ratio
        super().__init__(
            f"speed-up to {requested} refused: reported/requested speed ratio was {ratio:.3f}"
        )


class HeartRateSensorNotFound(DeviceNotFound):
    """No heart-rate sensor (Heart Rate Service 0x180D, or the configured one) advertised."""

    advice = "is the strap worn (most straps advertise only with skin contact) and free?"

    def __init__(self, criteria: str, timeout_s: float) -> None:
        self.criteria = criteria
        self.timeout_s = timeout_s
        BleError.__init__(
            self, f"no heart-rate sensor matching {criteria} found within {timeout_s:g} s"
        )


class NotAHeartRateSensor(BleError):
    """The peer has no Heart Rate Measurement characteristic (0x2A37)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(f"{address} has no Heart Rate Measurement characteristic (0x2A37)")
