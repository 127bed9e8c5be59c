"""The simulator's Fitness Machine Control Point (0x2AD9, FTMS v1.0 §4.16): the ATT errors a
write can meet, the machine's answer, the faults that replace it, and the indication.

:class:`ControlPointServer` is mixed into :class:`simulators.treadsim.simulator.Simulator`, which
provides the machine, the sessions and the hooks declared here.
"""

from __future__ import annotations

from collections.abc import Sequence

from bumble import att, hci
from bumble.device import Connection, Device

from simulators.treadsim import wire
from simulators.treadsim.gatt import CCCD_INDICATE, FtmsService
from simulators.treadsim.model import OP_NAMES, Event, Treadmill
from simulators.treadsim.presets import Preset
from simulators.treadsim.quirks import Quirk
from simulators.treadsim.state import ClientSession
from simulators.treadsim.trace import Trace
from treadctl.clock import Clock
from treadctl.ftms import ResultCode

ATT_PROCEDURE_ALREADY_IN_PROGRESS = 0xFE
"""FTMS §4.16.3 / CSS: a control point write while a procedure is pending."""
ATT_CCCD_IMPROPERLY_CONFIGURED = 0xFD
"""FTMS §4.16.3 / CSS: a control point write without its indications enabled."""
ATT_INVALID_ATTRIBUTE_VALUE_LENGTH = 0x0D


class ControlPointServer:
    """Answers control point writes of connected clients."""

    preset: Preset
    model: Treadmill
    clock: Clock
    trace: Trace
    gatt: FtmsService
    device: Device | None
    _answer_next: ResultCode | None
    _sessions: dict[int, ClientSession]

    def _dispatch(self, events: Sequence[Event]) -> None:
        raise NotImplementedError

    def _kick(self) -> None:
        raise NotImplementedError

    async def _notify_changed(self) -> None:
        raise NotImplementedError

    async def _on_control_point(self, connection: Connection, value: bytes) -> None:
        """A write to 0x2AD9 (FTMS v1.0 §4.16). Raises ATT errors for 0xFD / 0xFE / 0x0D."""
        assert self.device is not None
        data = bytes(value)
        session = self._sessions.get(connection.handle)
        op = data[0] if data else -1
        record: dict[str, object] = {
            "hex": data.hex(),
            "op": op,
            "op_name": OP_NAMES.get(op, "unknown"),
        }
        if session is None:
            raise att.ATT_Error(att.ATT_UNLIKELY_ERROR_ERROR, self.gatt.control_point.handle)
        if not FtmsService.cccd(self.device, connection, self.gatt.control_point) & CCCD_INDICATE:
            self.trace.record("write", **record, att_error=ATT_CCCD_IMPROPERLY_CONFIGURED)
            raise att.ATT_Error(ATT_CCCD_IMPROPERLY_CONFIGURED, self.gatt.control_point.handle)
        if session.procedure_pending:
            self.trace.record("write", **record, att_error=ATT_PROCEDURE_ALREADY_IN_PROGRESS)
            raise att.ATT_Error(ATT_PROCEDURE_ALREADY_IN_PROGRESS, self.gatt.control_point.handle)
        request, op, error = wire.parse_request(data)
        if op == -1:
            self.trace.record("write", **record, att_error=ATT_INVALID_ATTRIBUTE_VALUE_LENGTH)
            raise att.ATT_Error(ATT_INVALID_ATTRIBUTE_VALUE_LENGTH, self.gatt.control_point.handle)
        events: Sequence[Event] = ()
        if self._answer_next is not None:
            result: ResultCode = self._answer_next
            self._answer_next = None
            record["fault"] = "answer_next_with"
        elif error is not None or request is None:
            result = error or ResultCode.OP_CODE_NOT_SUPPORTED
        else:
            outcome = self.model.control_point(self.clock.now(), connection, request)
            if outcome.disconnect:
                self.trace.record("write", **record, disconnected=True, reason=outcome.reason)
                self._dispatch(outcome.events)
                await connection.disconnect(
                    hci.HCI_ErrorCode.REMOTE_USER_TERMINATED_CONNECTION_ERROR
                )
                return
            result, events = outcome.result, outcome.events
            if outcome.reason:
                record["reason"] = outcome.reason
        self.trace.record("write", **record, result=int(result))
        session.procedure_pending = True
        self._dispatch(events)
        done = session.outbox.indicate(
            self.gatt.control_point, wire.response(self.preset, op, result)
        )
        self._kick()
        if Quirk.INDICATE_BEFORE_WRITE_RESPONSE in self.preset.quirks:
            await done
        await self._notify_changed()
