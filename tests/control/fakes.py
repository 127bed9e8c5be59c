"""In-memory TreadmillPort and a hand-driven clock for control-layer tests.

``TreadmillPort`` is treadctl's own protocol (control/port.py), so this is a second
implementation of our contract, not a mock of a library. It behaves like a strict FTMS device
(FTMS v1.0 §4.16): commands other than Request Control need control permission (0x05 otherwise),
out-of-range targets are refused (0x03), and a disconnected device answers nothing. It records
every command with the clock time it was sent, and the belt it models:

- Start (0x07) sets the belt running at the last target speed;
- Stop/Pause, the safety key and console stop/pause run the belt down at 0.3 km/h per second
  (docs/references.md#ftms-devices: real pad run-down) as the clock advances;
- a disconnect leaves the belt running (the worst case): only a Stop after reconnecting ends it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from treadctl.errors import TreadctlError
from treadctl.ftms.control_session import ECHO_WINDOW_S
from treadctl.observations import (
    DeviceEvent,
    DeviceInfo,
    EventKind,
    InclineRange,
    Observation,
    Reading,
    SpeedRange,
)

# docs/references.md#ftms-devices: "Run-down after Stop on a real pad: about 0.3 km/h per second".
RUN_DOWN_CENTI_PER_S = 30

PAD = DeviceInfo(
    address="AA:BB:CC:DD:EE:01",
    name="pad",
    # docs/references.md#retro-studies: walking pads run 1.0-6.0 km/h in 0.5 steps (captures).
    speed_range=SpeedRange(minimum=100, maximum=600, increment=50),
    incline_range=None,
)
FINE = DeviceInfo(
    address="AA:BB:CC:DD:EE:02",
    name="fine",
    speed_range=SpeedRange(minimum=10, maximum=1800, increment=10),
    incline_range=InclineRange(minimum=0, maximum=150, increment=5),
)


class FakeDeviceError(TreadctlError):
    """What the fake raises where a real link would raise (result code carried)."""

    def __init__(self, op: str, result: int) -> None:
        self.op = op
        self.result = result
        super().__init__(f"{op}: result 0x{result:02x}")


@dataclass(frozen=True, slots=True)
class Sent:
    seq: int
    at: float
    kind: str
    value: int | None
    belt_speed: int  # the true belt speed when the command arrived


class FakeClock:
    """Time moves only when a test calls :meth:`advance`."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._wakers: set[asyncio.Event] = set()

    def now(self) -> float:
        return self._now

    def wall(self, seconds: float) -> float:
        return max(0.0, seconds)

    def advance(self, dt: float) -> None:
        self._now += dt
        for event in self._wakers:
            event.set()  # waiters re-check their deadline (a spurious wake is allowed)

    async def wait(self, event: asyncio.Event, until: float | None) -> None:
        if event.is_set() or (until is not None and self._now >= until):
            await asyncio.sleep(0)  # yield, as the real clock does
            return
        self._wakers.add(event)
        try:
            await event.wait()
        finally:
            self._wakers.discard(event)


@dataclass
class FakePort:
    clock: FakeClock
    info: DeviceInfo = PAD
    connected: bool = True
    control: bool = False
    running: bool = False
    belt_speed: int = 0
    target_speed: int = 0
    incline: int = 0
    log: list[Sent] = field(default_factory=list)
    fail_next: set[str] = field(default_factory=set)
    queue: asyncio.Queue[Observation] = field(default_factory=asyncio.Queue)
    _seq: int = 0
    _last_tick: float | None = None

    # ------------------------------------------------------------------ the device

    def _record(self, kind: str, value: int | None = None) -> None:
        self._seq += 1
        self.log.append(Sent(self._seq, self.clock.now(), kind, value, self.belt_speed))
        if not self.connected:
            raise FakeDeviceError(kind, 0xFF)  # the link would report "not connected"
        if kind in self.fail_next:
            self.fail_next.discard(kind)
            raise FakeDeviceError(kind, 0x04)  # operation failed
        if kind != "request_control" and not self.control:
            raise FakeDeviceError(kind, 0x05)  # control not permitted

    async def request_control(self) -> None:
        self._record("request_control")
        self.control = True

    async def set_target_speed(self, speed: int) -> None:
        self._record("set_speed", speed)
        rng = self.info.speed_range
        if rng is None or not rng.minimum <= speed <= rng.maximum:
            raise FakeDeviceError("set_speed", 0x03)
        self.target_speed = speed
        if self.running:
            self.belt_speed = speed

    async def set_target_incline(self, incline: int) -> None:
        self._record("set_incline", incline)
        rng = self.info.incline_range
        if rng is None or not rng.minimum <= incline <= rng.maximum:
            raise FakeDeviceError("set_incline", 0x03)
        self.incline = incline

    async def start(self) -> None:
        self._record("start")
        self.running = True
        # A toggle-Start pad would stop here if the belt were moving; we just record it.
        self.belt_speed = max(self.target_speed, self.belt_speed)

    async def stop(self) -> None:
        self._record("stop")
        self.running = False

    async def pause(self) -> None:
        self._record("pause")
        self.running = False

    def observations(self) -> AsyncIterator[Observation]:
        return self._observations()

    async def _observations(self) -> AsyncIterator[Observation]:
        while True:
            yield await self.queue.get()

    # ------------------------------------------------------------------ test controls

    def tick(self) -> None:
        """Let the belt run down for the time passed since the last tick."""
        now = self.clock.now()
        dt = 0.0 if self._last_tick is None else now - self._last_tick
        self._last_tick = now
        if not self.running and self.belt_speed > 0:
            self.belt_speed = max(0, self.belt_speed - int(RUN_DOWN_CENTI_PER_S * dt))

    def reading(self, speed: int | None = None) -> Reading:
        """A Treadmill Data record: the true belt speed, or ``speed`` when the device lies."""
        self.tick()
        reported = self.belt_speed if speed is None else speed
        return Reading(at=self.clock.now(), speed=reported, incline=self.incline)

    def event(self, kind: EventKind, value: int | None = None) -> DeviceEvent:
        """A device-side event, applied to the model belt first."""
        if kind in (EventKind.SAFETY_KEY, EventKind.CONSOLE_STOP, EventKind.CONSOLE_PAUSE):
            self.running = False
        if kind in (EventKind.CONTROL_LOST, EventKind.RESET, EventKind.DISCONNECTED):
            self.control = False
        if kind == EventKind.DISCONNECTED:
            self.connected = False
        if kind == EventKind.CONNECTED:
            self.connected = True
        return DeviceEvent(at=self.clock.now(), kind=kind, value=value)

    def sent(self, kind: str) -> list[Sent]:
        return [s for s in self.log if s.kind == kind]


def echo_of_own_command(port: FakePort, kind: EventKind) -> bool:
    """Whether a console stop/pause status now would be the echo of our own Stop/Pause sent in
    the last 2 s with no Start sent after it (the governor ignores those: ECHO_WINDOW_S,
    ``treadctl/ftms/control_session.py``, docs/references.md#ftms-devices)."""
    ours = {EventKind.CONSOLE_STOP: "stop", EventKind.CONSOLE_PAUSE: "pause"}.get(kind)
    if ours is None:
        return False
    now = port.clock.now()
    for sent in reversed(port.log):
        if sent.kind == "start":
            return False  # our Start came after any Stop/Pause: the status is not its echo
        if sent.kind == ours and 0 <= now - sent.at <= ECHO_WINDOW_S:
            return True
    return False
