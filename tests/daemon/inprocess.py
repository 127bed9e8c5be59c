"""The daemon in this process against in-process simulators (Bumble ``LocalLink``s reached as
``local:<name>`` transports): the real ``Daemon`` and ``DeviceRuntime``, no MQTT."""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.simulator import in_process_simulator
from simulators.treadsim import Simulator
from tests.daemon.daemon_profiles import TEST_PROFILES
from treadctl.ble.bumble_host import register_local_link
from treadctl.config.model import Config
from treadctl.daemon.app import Daemon

SPEEDUP = 20.0
DEADLINE_S = 20.0
"""Bound against hangs, never a timing assertion."""
_names = itertools.count()


@dataclass
class SimHandle:
    sim: Simulator
    transport: str
    trace: io.StringIO

    def records(self, kind: str | None = None) -> list[dict[str, Any]]:
        lines = self.trace.getvalue().splitlines()
        records = [json.loads(line) for line in lines if line.strip()]
        return [r for r in records if kind is None or r["kind"] == kind]

    def writes(self, op: int | None = None) -> list[dict[str, Any]]:
        return [r for r in self.records("write") if op is None or r["op"] == op]

    async def belt(self, *, at_least: int | None = None, at_most: int | None = None) -> int:
        def ok(speed: int) -> bool:
            return (at_least is None or speed >= at_least) and (at_most is None or speed <= at_most)

        async with asyncio.timeout(DEADLINE_S):
            state = await self.sim.wait_for(lambda s: ok(s.machine.belt_speed))
        speed: int = state.machine.belt_speed
        return speed


def write_profiles(directory: Path) -> Path:
    directory.mkdir(exist_ok=True)
    for name, text in TEST_PROFILES.items():
        (directory / f"{name}.yaml").write_text(text, encoding="utf-8")
    return directory


def config_for(
    tmp_path: Path, transports: Sequence[tuple[str, str]], **device_extra: Any
) -> Config:
    devices = [
        {
            "id": device_id,
            "address": f"F0:F1:F2:F3:F4:{0x10 + i:02X}",
            "has_handrails": True,
            "simulator": True,
            "speedup": SPEEDUP,
            "backend": "bumble",
            "transport": transport,
            **device_extra,
        }
        for i, (device_id, transport) in enumerate(transports)
    ]
    return Config.model_validate(
        {
            "devices": devices,
            "ble": {"connect_timeout_s": 10.0, "scan_timeout_s": 10.0},
            "state_dir": str(tmp_path),
            "profiles_dir": str(write_profiles(tmp_path / "profiles")),
        }
    )


@contextlib.asynccontextmanager
async def simulators(count: int) -> AsyncIterator[list[SimHandle]]:
    async with contextlib.AsyncExitStack() as stack:
        handles = []
        for i in range(count):
            trace = io.StringIO()
            sim = await stack.enter_async_context(
                in_process_simulator(
                    speedup=SPEEDUP,
                    walker=True,
                    trace=trace,
                    address=f"F0:F1:F2:F3:F4:{0x10 + i:02X}",
                )
            )
            spec = stack.enter_context(register_local_link(f"daemon{next(_names)}", sim.link))
            handles.append(SimHandle(sim, spec, trace))
        yield handles


async def until_ready(daemon: Daemon) -> None:
    """Every treadmill connected with its first Treadmill Data record in."""
    async with asyncio.timeout(DEADLINE_S):
        for runtime in daemon.devices.values():
            await runtime.connected.wait()
            await runtime.reading.wait()
