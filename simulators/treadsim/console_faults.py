"""The console and fault API of the simulator: buttons, safety key, walker, and the faults a
test injects (dropped or delayed indications, refusals, stale telemetry, raw frames), plus
``command()``, the by-name entry point of the control socket and the prompt.

:class:`ConsoleAndFaults` is mixed into :class:`simulators.treadsim.simulator.Simulator`, which
provides the machine, the sessions and the hooks declared here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from bumble import hci

from simulators.treadsim.actions import ActionResult
from simulators.treadsim.gatt import FtmsService, IndicationFaults
from simulators.treadsim.model import Console, Event, Treadmill
from simulators.treadsim.state import ClientSession, SimState
from simulators.treadsim.strap import HeartRateStrap
from simulators.treadsim.trace import Trace
from treadctl.clock import Clock
from treadctl.ftms import ResultCode


class ConsoleAndFaults:
    """Console and fault actions on the simulated machine and its connected clients."""

    model: Treadmill
    clock: Clock
    trace: Trace
    faults: IndicationFaults
    gatt: FtmsService
    strap: HeartRateStrap | None
    _answer_next: ResultCode | None
    _notifying: bool
    _sessions: dict[int, ClientSession]

    def _dispatch(self, events: Sequence[Event]) -> None:
        raise NotImplementedError

    def _kick(self) -> None:
        raise NotImplementedError

    async def _notify_changed(self) -> None:
        raise NotImplementedError

    def state(self) -> SimState:
        raise NotImplementedError

    # ================================================================ console API
    async def _console(self, action: Console, speed: int | None = None) -> ActionResult:
        outcome = self.model.console(self.clock.now(), action, speed)
        self._dispatch(outcome.events)
        self.trace.record("console", action=action.value, done=outcome.done, reason=outcome.reason)
        self._kick()
        await self._notify_changed()
        return ActionResult(action.value, outcome.done, outcome.reason)

    async def press_start(self) -> ActionResult:
        return await self._console(Console.START)

    async def press_pause(self) -> ActionResult:
        return await self._console(Console.PAUSE)

    async def press_stop(self) -> ActionResult:
        return await self._console(Console.STOP)

    async def pull_safety_key(self) -> ActionResult:
        return await self._console(Console.PULL_SAFETY_KEY)

    async def insert_safety_key(self) -> ActionResult:
        return await self._console(Console.INSERT_SAFETY_KEY)

    async def step_on(self) -> ActionResult:
        return await self._console(Console.STEP_ON)

    async def step_off(self) -> ActionResult:
        return await self._console(Console.STEP_OFF)

    async def take_control(self) -> ActionResult:
        return await self._console(Console.TAKE_CONTROL)

    async def console_set_speed(self, speed: int) -> ActionResult:
        """Speed buttons on the console (0.01 km/h; clamped to the machine's range)."""
        return await self._console(Console.SET_SPEED, speed)

    # ================================================================ fault API
    async def _fault(self, action: str, done: bool = True, **fields: object) -> ActionResult:
        self.trace.record("fault", action=action, done=done, **fields)
        self._kick()
        await self._notify_changed()
        return ActionResult(action, done, "" if done else "no client connected")

    async def disconnect_now(self) -> ActionResult:
        """Drop the link to the client (Remote User Terminated)."""
        sessions = list(self._sessions.values())
        for session in sessions:
            with contextlib.suppress(Exception):
                await session.connection.disconnect(
                    hci.HCI_ErrorCode.REMOTE_USER_TERMINATED_CONNECTION_ERROR
                )
        return await self._fault("disconnect_now", bool(sessions))

    async def delay_next_indication(self, seconds: float) -> ActionResult:
        """Send the next control point indication ``seconds`` of wall time late."""
        self.faults.delay_next = float(seconds)
        return await self._fault("delay_next_indication", seconds=seconds)

    async def drop_next_indication(self) -> ActionResult:
        """Never send the next control point indication (the procedure still completes)."""
        self.faults.drop_next = True
        return await self._fault("drop_next_indication")

    async def answer_next_with(self, result: int) -> ActionResult:
        """Answer the next procedure with ``result`` (1-5) and do nothing else."""
        self._answer_next = ResultCode(result)
        return await self._fault("answer_next_with", result=int(result))

    async def stop_notifying(self) -> ActionResult:
        """Stop sending Treadmill Data (stale telemetry) until :meth:`resume_notifying`."""
        self._notifying = False
        return await self._fault("stop_notifying")

    async def resume_notifying(self) -> ActionResult:
        self._notifying = True
        return await self._fault("resume_notifying")

    async def notify_raw(self, characteristic: str, hex: str) -> ActionResult:
        """Send exactly these bytes once as a notification of ``2acd`` (Treadmill Data),
        ``2ada`` (Machine Status) or ``2ad3`` (Training Status): malformed, truncated or odd
        frames from a misbehaving device. Nothing else changes in the machine."""
        targets = {
            "2acd": self.gatt.treadmill_data,
            "2ada": self.gatt.machine_status,
            "2ad3": self.gatt.training,
        }
        target = targets.get(characteristic.lower())
        if target is None:
            raise ValueError(f"notify_raw: characteristic must be one of {', '.join(targets)}")
        value = bytes.fromhex(hex)
        sessions = list(self._sessions.values())
        for session in sessions:
            session.outbox.notify(target, value)
        return await self._fault(
            "notify_raw", bool(sessions), characteristic=characteristic.lower(), hex=value.hex()
        )

    ACTIONS = (
        "press_start",
        "press_pause",
        "press_stop",
        "pull_safety_key",
        "insert_safety_key",
        "step_on",
        "step_off",
        "take_control",
        "console_set_speed",
        "disconnect_now",
        "delay_next_indication",
        "drop_next_indication",
        "answer_next_with",
        "stop_notifying",
        "resume_notifying",
        "notify_raw",
    )

    async def command(self, name: str, **arguments: Any) -> dict[str, Any]:
        """Run one console/fault action or ``state`` by name (control socket and prompt)."""
        if name == "state":
            return self.state().to_dict()
        strap_actions = self.strap.ACTIONS if self.strap is not None else ()
        if name not in self.ACTIONS + strap_actions:
            known = ", ".join(self.ACTIONS + strap_actions)
            raise ValueError(f"unknown command {name!r}; known: state, {known}")
        owner: Any = self.strap if name in strap_actions else self
        result: ActionResult = await getattr(owner, name)(**arguments)
        return {"action": result.action, "done": result.done, "reason": result.reason}
