"""The contract between the control layer and whatever reaches a treadmill.

The BLE link (``treadctl.ble``) implements :class:`TreadmillPort`; the control layer
(``GovernedTreadmill``) is the only caller of its commanding methods. Nothing else in treadctl
may hold a :class:`TreadmillPort` with intent to command it: profiles, MQTT and the CLI produce
values that pass the governor first. What a port reports is in ``treadctl.observations``.

All values are in exact wire units: speed in 0.01 km/h, incline in 0.1 %.
Pure module: standard library only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from treadctl.observations import DeviceInfo, Observation


class TreadmillPort(Protocol):
    """A connected treadmill, as the governor sees it.

    Commanding methods raise a ``treadctl.errors.TreadctlError`` subclass when the device
    refuses or does not answer in time (carrying the FTMS result code where there is one).
    They never retry a speed or a start by themselves.
    """

    @property
    def info(self) -> DeviceInfo: ...

    @property
    def connected(self) -> bool: ...

    async def request_control(self) -> None: ...

    async def set_target_speed(self, speed: int) -> None: ...

    async def set_target_incline(self, incline: int) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def pause(self) -> None: ...

    def observations(self) -> AsyncIterator[Observation]:
        """Readings and events in arrival order (one consumer; the daemon fans out)."""
        ...
