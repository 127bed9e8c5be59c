"""Fitness Machine Control Point responses (FTMS v1.0 §4.16.2.22, Table 4.24).

An indication ``80 <request op> <result> [parameter]``. Some devices answer with a bare
result byte (no 0x80, no op code): that decodes with ``bare=True``, ``request_op`` set to the
caller's ``pending_op`` (or UNKNOWN_REQUEST_OP) and a diagnostic.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final, Self

from treadctl.ftms._wire import U8_MAX, BytesLike, check_int
from treadctl.ftms.control_point import OpCode
from treadctl.ftms.diagnostics import BARE_RESULT, UNKNOWN_RESULT, Diagnostic
from treadctl.ftms.errors import FtmsDecodeError

WHAT: Final = "control point response (0x2ad9)"
UNKNOWN_REQUEST_OP: Final = -1
"""``request_op`` of a bare response decoded without a ``pending_op``."""
_RESPONSE_CODE: Final = int(OpCode.RESPONSE_CODE)


class ResultCode(IntEnum):
    """Result codes of a Control Point response (FTMS v1.0 §4.16.2.22, Table 4.24)."""

    SUCCESS = 0x01
    OP_CODE_NOT_SUPPORTED = 0x02
    INVALID_PARAMETER = 0x03
    OPERATION_FAILED = 0x04
    CONTROL_NOT_PERMITTED = 0x05


_RESULTS: Final = {int(code): code for code in ResultCode}
_OPS: Final = {int(code): code for code in OpCode}


@dataclass(frozen=True, slots=True)
class ControlResponse:
    """A Control Point response. ``request_op`` and ``result`` are enums where known."""

    request_op: int
    result: int
    parameter: bytes = b""
    bare: bool = False

    def __post_init__(self) -> None:
        if self.bare:
            if self.request_op != UNKNOWN_REQUEST_OP:
                check_int("request_op", int(self.request_op), 0, U8_MAX)
            if self.parameter:
                raise ValueError("a bare result byte carries no parameter")
            check_int("result", int(self.result), 1, max(_RESULTS))
        else:
            check_int("request_op", int(self.request_op), 0, U8_MAX)
            check_int("result", int(self.result), 0, U8_MAX)
        if not isinstance(self.parameter, bytes):
            raise ValueError(f"parameter must be bytes, got {type(self.parameter).__name__}")

    @property
    def ok(self) -> bool:
        """True when the result is 0x01 Success."""
        return self.result == ResultCode.SUCCESS

    @classmethod
    def decode(
        cls, data: BytesLike, *, pending_op: int | None = None
    ) -> tuple[Self, tuple[Diagnostic, ...]]:
        """Decode an indication; ``pending_op`` names the request a bare byte answers."""
        data = bytes(data)
        if not data:
            raise FtmsDecodeError(
                "empty indication", raw=data, what=WHAT, expected="80 <request op> <result>"
            )
        if data[0] != _RESPONSE_CODE:
            if len(data) == 1 and data[0] in _RESULTS:
                op = UNKNOWN_REQUEST_OP if pending_op is None else _OPS.get(pending_op, pending_op)
                diagnostic = Diagnostic(
                    BARE_RESULT,
                    f"bare result byte 0x{data[0]:02x} without 0x80 and request op code",
                )
                return cls(op, _RESULTS[data[0]], b"", bare=True), (diagnostic,)
            raise FtmsDecodeError(
                f"first byte 0x{data[0]:02x} is not the response code",
                raw=data,
                what=WHAT,
                expected="80 <request op> <result>, or a bare result byte 01-05",
            )
        if len(data) < 3:
            raise FtmsDecodeError(
                f"truncated: {len(data)} bytes",
                raw=data,
                what=WHAT,
                expected="80 <request op> <result> (3 bytes)",
            )
        request_op: int = _OPS.get(data[1], data[1])
        result: int = _RESULTS.get(data[2], data[2])
        diagnostics: tuple[Diagnostic, ...] = ()
        if data[2] not in _RESULTS:
            diagnostics = (Diagnostic(UNKNOWN_RESULT, f"result code 0x{data[2]:02x} unknown"),)
        return cls(request_op, result, data[3:]), diagnostics

    @classmethod
    def from_bytes(cls, data: BytesLike, *, pending_op: int | None = None) -> Self:
        return cls.decode(data, pending_op=pending_op)[0]

    def __bytes__(self) -> bytes:
        if self.bare:
            return bytes((int(self.result),))
        return bytes((_RESPONSE_CODE, int(self.request_op), int(self.result))) + self.parameter
