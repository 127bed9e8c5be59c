"""Fitness Machine Control Point procedures (FTMS v1.0 §4.16): one at a time, with a deadline.

The wait for the indication is armed *before* the write, so both orders seen in the field work:
the spec's (write response, then indication) and a real walking pad's (indication, then write
response). A bare result byte (no 0x80, no op code) is accepted as the answer to the pending
request. The echoed op code is checked. The pending slot is cleared in ``finally``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bleak.exc import BleakError, BleakGATTProtocolError

from treadctl.ble.errors import (
    ControlRefused,
    ControlResponseMismatch,
    ControlTimeout,
    ControlWriteFailed,
    NotConnected,
)
from treadctl.ftms import ControlRequest, ControlResponse, Diagnostic, FtmsDecodeError

DEFAULT_DEADLINE_S = 3.0
"""Peers use 2-5 s; the spec gives no number (docs/references.md#ftms-procedures)."""


@dataclass
class _Pending:
    op_code: int
    answer: asyncio.Future[ControlResponse]


class ControlChannel:
    """Runs control point procedures through ``write`` (a write-with-response)."""

    def __init__(
        self,
        write: Callable[[bytes], Awaitable[None]],
        *,
        deadline_s: float = DEFAULT_DEADLINE_S,
    ) -> None:
        self._write = write
        self.deadline_s = deadline_s
        self._lock = asyncio.Lock()
        self._pending: _Pending | None = None
        self._closed: str | None = None
        self.stale_indications = 0
        """Indications that arrived with no procedure pending (e.g. after a timeout)."""
        self.diagnostics: list[Diagnostic] = []

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def on_indication(self, data: bytes) -> None:
        """Feed a control point indication (from the notification callback; never blocks)."""
        pending = self._pending
        if pending is None or pending.answer.done():
            self.stale_indications += 1
            return
        try:
            response, diagnostics = ControlResponse.decode(data, pending_op=pending.op_code)
        except FtmsDecodeError as exc:
            pending.answer.set_exception(exc)
            return
        self.diagnostics.extend(diagnostics)
        if not response.bare and response.request_op != pending.op_code:
            pending.answer.set_exception(
                ControlResponseMismatch(bytes(data), pending.op_code, int(response.request_op))
            )
            return
        pending.answer.set_result(response)

    def close(self, reason: str) -> None:
        """The link went away: fail the pending procedure and refuse new ones."""
        self._closed = reason
        pending = self._pending
        if pending is not None and not pending.answer.done():
            pending.answer.set_exception(NotConnected(reason))

    async def run(self, request: ControlRequest) -> ControlResponse:
        """Send ``request`` and return its successful response.

        Raises ControlRefused (result code other than success), ControlTimeout (no answer by
        the deadline), ControlWriteFailed (the ATT write failed), ControlResponseMismatch or
        FtmsDecodeError (the answer made no sense), NotConnected.
        """
        op = int(request.op_code)
        async with self._lock:
            if self._closed is not None:
                raise NotConnected(self._closed)
            answer: asyncio.Future[ControlResponse] = asyncio.get_running_loop().create_future()
            self._pending = _Pending(op, answer)
            try:
                async with asyncio.timeout(self.deadline_s):
                    await self._send(op, bytes(request))
                    response = await answer
            except TimeoutError as exc:
                if self._closed is not None:
                    raise NotConnected(self._closed) from exc
                raise ControlTimeout(op, self.deadline_s) from exc
            finally:
                self._pending = None
                if not answer.done():
                    answer.cancel()
                elif not answer.cancelled():
                    answer.exception()  # retrieved: no "never retrieved" warning
        if not response.ok:
            raise ControlRefused(int(response.result), op)
        return response

    async def _send(self, op: int, data: bytes) -> None:
        try:
            await self._write(data)
        except BleakGATTProtocolError as exc:
            raise ControlWriteFailed(op, int(exc.code), str(exc)) from exc
        except BleakError as exc:
            if self._closed is not None:
                raise NotConnected(self._closed) from exc
            raise ControlWriteFailed(op, None, str(exc)) from exc
