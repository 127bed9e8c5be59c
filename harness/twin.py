"""Run the BlueZ twin in tests: a private D-Bus daemon plus ``python -m simulators.bluez_twin``.

    async with twin_process(tmp_path / "twin", sim.hci_client_spec) as twin:
        env = twin.environ()        # DBUS_SYSTEM_BUS_ADDRESS and PATH (bluetoothctl --version)
        await twin.command("fail_next", method="Connect", error="org.bluez.Error.InProgress")
        await twin.state()

Both processes are stopped on the way out (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.simulator import DEFAULT_TIMEOUT, REPO_ROOT, stop_process
from simulators.bluez_twin.bus import private_bus

BIN_DIR = REPO_ROOT / "simulators" / "bluez_twin" / "bin"


class TwinControlError(RuntimeError):
    """The twin's control socket answered ``ok: false``."""


@dataclass
class TwinProcess:
    process: asyncio.subprocess.Process
    ready: dict[str, Any]
    bus_address: str
    control_path: Path
    stderr_path: Path

    def environ(self) -> dict[str, str]:
        """What a bleak process needs to take the twin for the system's BlueZ."""
        return {
            "DBUS_SYSTEM_BUS_ADDRESS": self.bus_address,
            "PATH": f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}",
        }

    async def command(self, cmd: str, **args: Any) -> Any:
        reader, writer = await asyncio.open_unix_connection(str(self.control_path))
        try:
            writer.write(json.dumps({"cmd": cmd, "args": args}).encode() + b"\n")
            await writer.drain()
            async with asyncio.timeout(DEFAULT_TIMEOUT + 20):
                answer = json.loads(await reader.readline())
        finally:
            writer.close()
            await writer.wait_closed()
        if not answer.get("ok"):
            raise TwinControlError(answer.get("error", "control socket error"))
        return answer["result"]

    async def state(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.command("state")
        return result

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")


@contextlib.asynccontextmanager
async def twin_process(
    workdir: Path, hci_spec: str, *, temporary_timeout_s: float = 30.0
) -> AsyncIterator[TwinProcess]:
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    control = workdir / "twin.sock"
    stderr_path = workdir / "twin.stderr"
    async with private_bus(workdir / "bus") as address:
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
        with stderr_path.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "simulators.bluez_twin",
                "--bus",
                address,
                "--hci",
                hci_spec,
                "--control",
                str(control),
                "--temporary-timeout",
                str(temporary_timeout_s),
                "--log-level",
                "INFO",
                cwd=REPO_ROOT,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
            )
        try:
            assert process.stdout is not None
            async with asyncio.timeout(DEFAULT_TIMEOUT):
                line = await process.stdout.readline()
            if not line:
                raise RuntimeError(f"bluez_twin exited: {stderr_path.read_text(errors='replace')}")
            yield TwinProcess(process, json.loads(line), address, control, stderr_path)
        finally:
            await stop_process(process)
