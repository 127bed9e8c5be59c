"""Reconnect supervisor: keeps a TreadmillLink up, outside the link, and never commands the belt.

The daemon runs :meth:`ReconnectSupervisor.run` in its TaskGroup, iterates
:meth:`ReconnectSupervisor.observations` (every link's readings and events, plus
:class:`LinkStateEvent` changes) and gives :attr:`ReconnectSupervisor.port` to the governor.

After a reconnect nothing is re-applied: no Request Control, no speed, no Start. The belt moves
again only after a new explicit command through the governor (docs/references.md#ftms-devices:
unexpected motion after a reconnect is the most feared failure). The loop and its backoff
waits are :class:`treadctl.ble.reconnect.ReconnectLoop`, shared with the heart-rate strap.
"""

from __future__ import annotations

import enum
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bleak.exc import BleakError

from treadctl.backoff import backoff_delay
from treadctl.ble.diagnosis import LinkProblem, explain
from treadctl.ble.errors import BleError, NotConnected
from treadctl.ble.link import TreadmillLink
from treadctl.ble.options import LinkOptions
from treadctl.ble.reconnect import ReconnectLoop
from treadctl.control.port import TreadmillPort
from treadctl.observations import DeviceInfo, Observation


class LinkState(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    """Down; ``retry_in_s`` says when the next attempt starts."""


@dataclass(frozen=True, slots=True)
class LinkStateEvent:
    """A change of the supervised link's state (monotonic ``at``)."""

    at: float
    state: LinkState
    attempt: int = 0
    """Consecutive failed attempts so far (0 once connected)."""
    retry_in_s: float | None = None
    reason: str = ""
    problem: LinkProblem | None = None
    """On ``DISCONNECTED``: why the attempt failed (or ``link_lost`` after a connection)."""


SupervisorItem = Observation | LinkStateEvent

_EMPTY_INFO = DeviceInfo(address="", name=None, speed_range=None, incline_range=None)


class SupervisedPort:
    """``TreadmillPort`` over whichever link is up; NotConnected while none is."""

    def __init__(self, supervisor: ReconnectSupervisor) -> None:
        self._supervisor = supervisor

    def _link(self) -> TreadmillLink:
        link = self._supervisor.link
        if link is None or not link.connected:
            raise NotConnected("reconnecting")
        return link

    @property
    def info(self) -> DeviceInfo:
        link = self._supervisor.link
        return link.info if link is not None else _EMPTY_INFO

    @property
    def connected(self) -> bool:
        link = self._supervisor.link
        return link is not None and link.connected

    async def request_control(self) -> None:
        await self._link().request_control()

    async def set_target_speed(self, speed: int) -> None:
        await self._link().set_target_speed(speed)

    async def set_target_incline(self, incline: int) -> None:
        await self._link().set_target_incline(incline)

    async def start(self) -> None:
        await self._link().start()

    async def stop(self) -> None:
        await self._link().stop()

    async def pause(self) -> None:
        await self._link().pause()

    def observations(self) -> AsyncIterator[Observation]:
        """The supervisor's stream without its LinkStateEvents.

        The same single stream as :meth:`ReconnectSupervisor.observations`: iterate one of them.
        """
        return self._only_observations()

    async def _only_observations(self) -> AsyncIterator[Observation]:
        async for item in self._supervisor.observations():
            if not isinstance(item, LinkStateEvent):
                yield item


class ReconnectSupervisor(ReconnectLoop[TreadmillLink, SupervisorItem, LinkProblem]):
    """Connects, waits for the link to drop, backs off, connects again. Forever, until cancelled."""

    def __init__(
        self,
        open_link: Callable[[], TreadmillLink],
        *,
        backoff: Callable[[int], float] = backoff_delay,
        max_queued_readings: int = 64,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            open_link, backoff=backoff, max_queued_readings=max_queued_readings, clock=clock
        )
        self.port = SupervisedPort(self)

    @classmethod
    def from_options(cls, options: LinkOptions, **kwargs: object) -> ReconnectSupervisor:
        return cls(lambda: TreadmillLink(options), **kwargs)  # type: ignore[arg-type]

    def observations(self) -> AsyncIterator[SupervisorItem]:
        """Readings, device events and link state changes, in order (one consumer)."""
        return self._stream

    def _state(
        self,
        state: LinkState,
        *,
        retry_in_s: float | None = None,
        reason: str = "",
        problem: LinkProblem | None = None,
    ) -> None:
        self._stream.push(
            LinkStateEvent(self._clock(), state, self.attempt, retry_in_s, reason, problem)
        )

    def _report_down(self, reason: LinkProblem, retry_in_s: float) -> None:
        self._state(
            LinkState.DISCONNECTED, retry_in_s=retry_in_s, reason=reason.message, problem=reason
        )

    async def _one_connection(self) -> LinkProblem:
        self._state(LinkState.CONNECTING)
        link = self._open_link()
        try:
            async with link:
                self._connected(link)
                self._state(LinkState.CONNECTED, reason=link.info.address)
                async for item in link.observations():
                    self._stream.push(item)
                return LinkProblem("link_lost", await link.wait_disconnected())
        except (BleError, BleakError, TimeoutError, OSError, EOFError) as exc:
            # EOFError: dbus-fast's word for a system bus that went away mid-call.
            options = link.options
            return explain(exc, backend=options.backend, adapter=options.adapter)
        finally:
            self._link = None


if TYPE_CHECKING:  # mypy proves both satisfy the control layer's contract

    def _is_a_port(link: TreadmillLink, port: SupervisedPort) -> tuple[TreadmillPort, ...]:
        return (link, port)
