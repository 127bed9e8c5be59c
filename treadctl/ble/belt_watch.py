"""What the link knows of the belt from Treadmill Data, and the command rules that depend on it:
Start only while the reported speed is 0, a speed write after Start only once the belt reports
> 0 or the cold-start deadline passed, no speed-up while an mph device is suspected
(docs/references.md#ftms-devices)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from treadctl.ble.errors import BeltMoving, BeltStateUnknown, MphSuspected
from treadctl.ble.rules import MphCheck


class BeltWatch:
    """The last reported speed, the cold-start wait and the mph suspicion of one link."""

    def __init__(self, *, clock: Callable[[], float], mph_check: bool) -> None:
        self._clock = clock
        self._mph_check = mph_check
        self.last_speed: int | None = None
        """The last reported Instantaneous Speed (0.01 km/h), None before any Treadmill Data."""
        self.first_reading = asyncio.Event()
        self.moving = asyncio.Event()
        self.cold_start_deadline: float | None = None
        self.last_target: int | None = None
        self.mph = MphCheck()
        self.mph_ratio: float | None = None
        """The suspicious ratio when an mph device was suspected, else None."""

    def observed(self, speed: int) -> float | None:
        """Note a reported speed; returns the ratio when it makes an mph device suspected."""
        self.last_speed = speed
        self.first_reading.set()
        if speed > 0:
            self.moving.set()
        ratio = self.mph.observe(speed) if self._mph_check else None
        if ratio is not None:
            self.mph_ratio = ratio
        return ratio

    def sent_speed(self, value: int) -> None:
        """Note a speed the device accepted."""
        self.last_target = value
        if self._mph_check:
            self.mph.expect(value)

    def wake(self) -> None:
        """Wake every waiter (the link is down)."""
        self.first_reading.set()
        self.moving.set()

    def check_stands(self) -> None:
        if self.last_speed is None:
            raise BeltStateUnknown()
        if self.last_speed > 0:
            raise BeltMoving(self.last_speed)

    def check_mph(self, value: int) -> None:
        if self.mph_ratio is not None and (self.last_target is None or value > self.last_target):
            raise MphSuspected(value, self.mph_ratio)

    async def wait_cold_start(self) -> None:
        """After Start: wait until the belt moves or the cold-start deadline passes."""
        deadline = self.cold_start_deadline
        if deadline is None:
            return
        remaining = deadline - self._clock()
        if remaining > 0 and not self.moving.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self.moving.wait()
        self.cold_start_deadline = None
