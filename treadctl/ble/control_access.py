"""The link's control of the treadmill: each procedure goes through the control point channel
while the control session (FTMS v1.0 §4.16) tracks who holds control, and control is requested
with backoff after a refusal (a refused request is re-raised until the backoff has passed)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from treadctl.backoff import backoff_delay
from treadctl.ble.errors import ControlRefused, ControlWriteFailed
from treadctl.ble.procedure import ControlChannel
from treadctl.ftms import ControlRequest, RequestControl, StopOrPause
from treadctl.ftms.control_session import ControlSession


class ControlAccess:
    """Runs procedures and keeps control for one link; ``activity`` is set around each one."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        retry_base_s: float,
        require_connected: Callable[[], None],
    ) -> None:
        self.session = ControlSession()
        self.channel: ControlChannel | None = None
        """Set by the link once the control point is subscribed; None without one."""
        self.activity = asyncio.Event()
        self._clock = clock
        self._retry_base_s = retry_base_s
        self._require_connected = require_connected
        self._refusals = 0
        self._retry_at = 0.0
        self._last_refusal: ControlRefused | None = None

    async def run(self, request: ControlRequest) -> None:
        """One procedure; raises the channel's typed errors."""
        self._require_connected()
        if self.channel is None:
            raise ControlWriteFailed(int(request.op_code), None, "the device has no control point")
        self.activity.set()
        stop_kind = request.kind if isinstance(request, StopOrPause) else None
        self.session.sent(request.op_code, self._clock(), stop_kind=stop_kind)
        try:
            await self.channel.run(request)
        except ControlRefused as exc:
            self.session.answered(request.op_code, success=False, result_code=exc.result_code)
            raise
        else:
            self.session.answered(request.op_code, success=True)
        finally:
            self.activity.set()

    async def ensure_control(self) -> None:
        """Request control unless held; within the backoff after a refusal, re-raise it."""
        self._require_connected()
        if self.session.has_control:
            return
        now = self._clock()
        if now < self._retry_at and self._last_refusal is not None:
            raise self._last_refusal
        try:
            await self.run(RequestControl())
        except ControlRefused as exc:
            self._refusals += 1
            self._retry_at = now + backoff_delay(self._refusals, initial_s=self._retry_base_s)
            self._last_refusal = exc
            raise
        self._refusals = 0
        self._last_refusal = None
