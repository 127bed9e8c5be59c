"""A hand-driven rig: in-memory port, fake clock, GovernedTreadmill and SessionRunner, run step by
step on a private event loop (no background tasks, so no timing in the tests)."""

from __future__ import annotations

import asyncio

from tests.control.fakes import FINE, FakeClock, FakePort
from treadctl.control.governed import GovernedTreadmill
from treadctl.control.session import SessionRunner
from treadctl.observations import DeviceInfo, EventKind
from treadctl.safety.limits import Limits


class Rig:
    def __init__(self, info: DeviceInfo = FINE, limits: Limits | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.clock = FakeClock()
        self.port = FakePort(clock=self.clock, info=info)
        self.belt = GovernedTreadmill(self.port, limits, clock=self.clock)
        self.runner = SessionRunner(self.belt, clock=self.clock)
        self.silent = False
        self.lie: int | None = None
        self.reading()

    def close(self) -> None:
        self.loop.close()

    def settle(self) -> None:
        """Send what is due, let the runner decide, send again."""
        self.loop.run_until_complete(self.belt.pump())
        self.runner.tick()
        self.loop.run_until_complete(self.belt.pump())

    def reading(self, speed: int | None = None) -> None:
        self.runner.observe(self.port.reading(speed))
        self.settle()

    def event(self, kind: EventKind, value: int | None = None) -> None:
        self.runner.observe(self.port.event(kind, value))
        self.settle()

    def run_for(self, seconds: float, step: float = 1.0) -> None:
        """Let time pass; the device sends data every ``step`` s unless silent or gone."""
        t = 0.0
        while t < seconds:
            t += step
            self.clock.advance(step)
            self.port.tick()
            if self.port.connected and not self.silent:
                self.reading(self.lie)
            else:
                self.settle()

    def kinds_since(self, index: int) -> list[str]:
        return [s.kind for s in self.port.log[index:]]
