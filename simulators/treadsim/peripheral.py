"""What the simulated peripherals share: the treadmill (simulator.py) and the heart-rate strap
(strap.py) are each one Bumble device whose set-up is unwound by one AsyncExitStack.

- :class:`Peripheral`: ``async with`` runs ``_start`` and unwinds everything it stacked on exit,
  or at once when the start fails.
- :func:`link_controller`: a controller on the virtual link, removed from it on unwind.
- :func:`advertise`: connectable advertising, restarted after each disconnection.
- :func:`power_off`: stop advertising (best effort) and power the device off.
"""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Self

from bumble.device import Device
from bumble.link import LocalLink

from simulators.treadsim.controller import SimController


class Peripheral:
    """Base of a simulated peripheral: ``_start`` stacks its set-up on ``_stack``."""

    _stack: contextlib.AsyncExitStack

    async def _start(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()


def link_controller(stack: contextlib.AsyncExitStack, link: LocalLink, name: str) -> SimController:
    """A new controller on ``link``; ``stack`` detaches it (host lost, off the link) on unwind."""
    controller = SimController(name, link=link)
    stack.callback(detach, link, controller)
    return controller


def detach(link: LocalLink, controller: SimController) -> None:
    controller.on_host_lost()
    if controller in link.controllers:
        link.remove_controller(controller)


async def advertise(
    device: Device,
    interval_ms: tuple[float, float],
    advertising_data: bytes,
    scan_response_data: bytes | None = None,
) -> None:
    """Connectable advertising at ``interval_ms`` (min, max), restarted after a disconnection."""
    await device.start_advertising(
        auto_restart=True,
        advertising_data=advertising_data,
        scan_response_data=scan_response_data,
        advertising_interval_min=interval_ms[0],
        advertising_interval_max=interval_ms[1],
    )


async def power_off(device: Device | None) -> None:
    """Stop advertising (it may already have stopped) and power ``device`` off."""
    if device is not None:
        with contextlib.suppress(Exception):
            await device.stop_advertising()
        await device.power_off()
