"""Child processes the demo starts: the simulator, the BlueZ twin (``--backend bluez``) and,
when installed, a private Mosquitto.

Both are async context managers that start the process, wait (with a deadline) until it is
ready, and always terminate it on the way out (SIGTERM, then SIGKILL after a grace period).
The simulator runs as its own process (``python -m simulators.treadsim``): treadctl never
imports the simulator, it reaches it over a Bumble HCI transport like any treadmill.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from treadctl.errors import TreadctlError

READY_TIMEOUT_S = 20.0
"""Start-up deadline of a child (the simulator advertises in under a second, bench/)."""
GRACE_S = 5.0


class ChildError(TreadctlError):
    """A child process did not start or did not become ready."""

    def __init__(self, what: str, reason: str, output: str = "") -> None:
        self.what = what
        self.output = output
        super().__init__(f"{what}: {reason}" + (f"\n{output}" if output else ""))


@dataclass(frozen=True, slots=True)
class SimulatorInfo:
    transport: str
    """Bumble transport for the daemon (``tcp-client:127.0.0.1:PORT``)."""
    address: str
    name: str
    control: Path | None
    trace: Path | None


async def _terminate(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        async with asyncio.timeout(GRACE_S):
            await proc.wait()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


@contextlib.asynccontextmanager
async def simulator_process(
    *,
    preset: str = "generic",
    speedup: float = 1.0,
    walker: bool = True,
    workdir: Path,
    extra_args: tuple[str, ...] = (),
) -> AsyncIterator[SimulatorInfo]:
    """Start ``treadsim`` on a free local TCP port and yield where to reach it."""
    control = workdir / "treadsim.sock"
    trace = workdir / "treadsim-trace.jsonl"
    args = [
        sys.executable,
        "-m",
        "simulators.treadsim",
        "--hci",
        "tcp-server:127.0.0.1:0",
        "--preset",
        preset,
        "--speedup",
        str(speedup),
        "--control",
        str(control),
        "--trace",
        str(trace),
        "--no-prompt",
        *(["--walker"] if walker else []),
        *extra_args,
    ]
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        if proc.stdout is None or proc.stderr is None:  # pragma: no cover - PIPE given above
            raise ChildError("treadsim", "no pipes")
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                line = await proc.stdout.readline()
        except TimeoutError:
            raise ChildError("treadsim", "not ready in time") from None
        if not line:
            err = (await proc.stderr.read()).decode(errors="replace")
            raise ChildError("treadsim", "exited before it was ready", err)
        ready = json.loads(line)
        hci = ready["hci"][0]
        port = hci.rsplit(":", 1)[1]
        yield SimulatorInfo(
            transport=f"tcp-client:127.0.0.1:{port}",
            address=ready["address"],
            name=ready["name"],
            control=control,
            trace=trace,
        )
    finally:
        await _terminate(proc)


@dataclass(frozen=True, slots=True)
class TwinInfo:
    bus: str
    """The private bus address (``DBUS_SYSTEM_BUS_ADDRESS`` for bleak)."""
    bin_dir: str
    """Holds the twin's ``bluetoothctl`` (it answers ``--version``, how bleak asks the
    version)."""


@contextlib.asynccontextmanager
async def bluez_twin_process(hci: str, *, workdir: Path) -> AsyncIterator[TwinInfo]:
    """Start the BlueZ twin (docs/bluez-twin.md) with its own private bus in ``workdir``,
    reaching the simulator over ``hci``; yield where bleak finds it. Never the system bus."""
    args = [
        sys.executable,
        "-m",
        "simulators.bluez_twin",
        "--own-bus",
        str(workdir / "twin-bus"),
        "--hci",
        hci,
        "--control",
        str(workdir / "twin.sock"),
    ]
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        if proc.stdout is None or proc.stderr is None:  # pragma: no cover - PIPE given above
            raise ChildError("bluez_twin", "no pipes")
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                line = await proc.stdout.readline()
        except TimeoutError:
            raise ChildError("bluez_twin", "not ready in time") from None
        if not line:
            err = (await proc.stderr.read()).decode(errors="replace")
            raise ChildError("bluez_twin", "exited before it was ready", err)
        ready = json.loads(line)
        yield TwinInfo(bus=ready["bus"], bin_dir=ready["bin"])
    finally:
        await _terminate(proc)


def mosquitto_binary() -> str | None:
    """The Mosquitto broker binary, if installed (Debian puts it in /usr/sbin)."""
    found = shutil.which("mosquitto")
    if found:
        return found
    candidate = Path("/usr/sbin/mosquitto")
    return str(candidate) if candidate.exists() else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def private_mosquitto(binary: str, workdir: Path) -> AsyncIterator[int]:
    """A Mosquitto on 127.0.0.1 only, on a free port, with ``set_tcp_nodelay``; yields the port."""
    port = free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous true\n"
        "set_tcp_nodelay true\n"
        "persistence false\n"
        "log_dest stderr\n"
        "log_type error\n"
        "log_type warning\n"
        "log_type notice\n"
        "log_type information\n",
        encoding="utf-8",
    )
    proc = await asyncio.create_subprocess_exec(
        binary,
        "-c",
        str(conf),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        if proc.stderr is None:  # pragma: no cover - PIPE given above
            raise ChildError("mosquitto", "no pipe")
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                while True:
                    line = await proc.stderr.readline()
                    if not line:
                        raise ChildError("mosquitto", "exited before it was ready")
                    if b" running" in line:
                        break
        except TimeoutError:
            raise ChildError("mosquitto", "not ready in time") from None
        drain = asyncio.ensure_future(proc.stderr.read())
        try:
            yield port
        finally:
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drain
    finally:
        await _terminate(proc)
