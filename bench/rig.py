"""Processes for the system benchmarks: simulators, daemons, a Mosquitto broker, and an MQTT
client that times requests and telemetry. Every process is started here and always stopped
(SIGTERM, then SIGKILL after a grace period) when its context ends.

- :func:`simulator`: ``python -m bench.sim_tap`` (treadsim + a send tap, see sim_tap.py) on a
  free TCP port, with a control socket, a trace file and a tap file.
- :func:`daemon`: ``treadctl run --config FILE`` (the installed console script, the same
  entry point systemd runs) with ``NOTIFY_SOCKET`` bound here, so ``READY=1`` can be timed.
- :class:`Mqtt`: one aiomqtt client (TCP_NODELAY) that sends JSON requests with transaction ids
  and records replies, telemetry arrivals and the latest state per device.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
PROFILES_DIR = BENCH / "profiles"
FAST_PRESET = BENCH / "presets" / "bench-fast.toml"
GRACE_S = 10.0
READY_TIMEOUT_S = 60.0
"""Deadline for a child to become ready (20 of them may start at once on 2 cores)."""


class RigError(RuntimeError):
    pass


def python() -> str:
    return sys.executable


def treadctl_script() -> str:
    script = Path(sys.executable).parent / "treadctl"
    if not script.exists():
        raise RigError(f"{script} not found: run scripts/bootstrap first")
    return str(script)


def ensure_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of ``pid`` in KiB, from /proc/PID/status."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


async def terminate(proc: asyncio.subprocess.Process) -> int:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(GRACE_S):
                await proc.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode


# --------------------------------------------------------------------------- simulator


@dataclass
class Sim:
    proc: asyncio.subprocess.Process
    port: int
    control: Path
    trace: Path
    tap: Path

    @property
    def transport(self) -> str:
        return f"tcp-client:127.0.0.1:{self.port}"

    async def command(self, cmd: str, **args: Any) -> Any:
        """One control-socket request (docs/simulator.md); raises when the simulator refuses."""
        reader, writer = await asyncio.open_unix_connection(str(self.control))
        try:
            writer.write(json.dumps({"cmd": cmd, "args": args}).encode() + b"\n")
            await writer.drain()
            async with asyncio.timeout(30):
                line = await reader.readline()
        finally:
            writer.close()
            await writer.wait_closed()
        answer = json.loads(line)
        if not answer.get("ok"):
            raise RigError(f"treadsim {cmd}: {answer.get('error')}")
        return answer.get("result")

    def writes(self) -> list[dict[str, Any]]:
        """Every control point write in the trace, in order."""
        out = []
        with self.trace.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if record.get("kind") == "write":
                    out.append(record)
        return out

    def sends(self) -> list[tuple[int, float]]:
        """(sequence number, monotonic send time) of every Treadmill Data record sent."""
        out = []
        with self.tap.open(encoding="utf-8") as handle:
            for line in handle:
                seq, t = line.split()
                out.append((int(seq), float(t)))
        return out


@contextlib.asynccontextmanager
async def simulator(
    workdir: Path, name: str, *, data_interval: float, preset: str | Path = FAST_PRESET
) -> AsyncIterator[Sim]:
    ensure_dir(workdir)
    control, trace, tap = (workdir / f"{name}.{ext}" for ext in ("sock", "trace", "tap"))
    args = [
        python(), "-m", "bench.sim_tap", "--tap", str(tap),
        "--hci", "tcp-server:127.0.0.1:0", "--preset", str(preset), "--walker",
        "--control", str(control), "--trace", str(trace),
        "--data-interval", str(data_interval), "--no-prompt",
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *args,
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(READY_TIMEOUT_S):
            line = await proc.stdout.readline()
        if not line:
            raise RigError(f"simulator {name} exited before it was ready")
        ready = json.loads(line)
        port = int(ready["hci"][0].rsplit(":", 1)[1])
        yield Sim(proc, port, control, trace, tap)
    finally:
        await terminate(proc)


# --------------------------------------------------------------------------- daemon


@dataclass(frozen=True)
class DeviceSpec:
    id: str
    transport: str
    backend: str = "bumble"
    """``bluez``: reached through the BlueZ twin (``transport`` unused; the daemon's environment
    names the twin's bus, bench/bench_bluez.py)."""


def config_toml(
    devices: Sequence[DeviceSpec], broker_port: int, client_id: str, state: Path
) -> str:
    lines = [f'profiles_dir = "{PROFILES_DIR}"', f'state_dir = "{state}"', ""]
    for d in devices:
        lines += [
            "[[devices]]",
            f'id = "{d.id}"',
            'name = "treadsim"',
            "has_handrails = true",
            "simulator = true",
            f'backend = "{d.backend}"',
            *([f'transport = "{d.transport}"'] if d.backend == "bumble" else []),
            "",
        ]
    lines += [
        "[ble]",
        'backend = "bumble"',
        "",
        "[mqtt]",
        "enabled = true",
        'host = "127.0.0.1"',
        f"port = {broker_port}",
        f'client_id = "{client_id}"',
        "discovery = false",
        "arming_expiry_s = 3600.0",
        "",
        "[logging]",
        'level = "WARNING"',
        'format = "json"',
    ]
    return "\n".join(lines) + "\n"


@dataclass
class Daemon:
    proc: asyncio.subprocess.Process
    started: float
    ready_at: float | None = None
    stderr_lines: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def ready_s(self) -> float | None:
        return None if self.ready_at is None else self.ready_at - self.started


@contextlib.asynccontextmanager
async def daemon(
    workdir: Path,
    name: str,
    devices: Sequence[DeviceSpec],
    broker_port: int,
    *,
    importtime: bool = False,
    env: dict[str, str] | None = None,
    wrapper: Sequence[str] = (),
    extra_toml: str = "",
) -> AsyncIterator[Daemon]:
    """Start ``treadctl run`` and wait for its ``READY=1`` (raises if it never comes).

    ``env``: added to the environment; ``wrapper``: a command the daemon's command line is
    appended to (e.g. a shell that enters a cgroup and execs it); ``extra_toml``: sections
    appended to the configuration (e.g. ``[history]`` settings)."""
    ensure_dir(workdir)
    config = workdir / f"{name}.toml"
    state = workdir / f"{name}-state"
    state.mkdir(exist_ok=True)
    text = config_toml(devices, broker_port, f"bench-{name}", state) + extra_toml
    config.write_text(text, encoding="utf-8")
    notify_path = workdir / f"{name}.notify"
    with contextlib.suppress(FileNotFoundError):
        notify_path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(notify_path))
    sock.setblocking(False)
    if importtime:
        cmd = [python(), "-X", "importtime", "-c",
               "import sys; from treadctl.cli.main import main; sys.exit(main())"]  # fmt: skip
    else:
        cmd = [treadctl_script()]
    environ = dict(os.environ, NOTIFY_SOCKET=str(notify_path), **(env or {}))
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *wrapper, *cmd, "run", "--config", str(config),
        cwd=workdir, env=environ,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    d = Daemon(proc, started)
    assert proc.stderr is not None
    stderr = proc.stderr

    async def drain() -> None:
        async for raw in stderr:
            d.stderr_lines.append(raw.decode(errors="replace").rstrip())

    loop = asyncio.get_running_loop()
    # Owned here and awaited on the way out (it ends when the process closes stderr).
    reader = asyncio.create_task(drain(), name=f"stderr-{name}")
    try:
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                while d.ready_at is None:
                    data = await loop.sock_recv(sock, 4096)
                    if b"READY=1" in data.split(b"\n"):
                        d.ready_at = time.monotonic()
        except TimeoutError:
            raise RigError(
                f"daemon {name}: no READY=1 in {READY_TIMEOUT_S} s\n"
                + "\n".join(d.stderr_lines[-20:])
            ) from None
        yield d
    finally:
        await terminate(proc)
        await reader
        sock.close()
        with contextlib.suppress(FileNotFoundError):
            notify_path.unlink()


# --------------------------------------------------------------------------- MQTT client


@dataclass
class Reply:
    sent: float
    received: float
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.body.get("status") == "ok"


class Mqtt:
    """A client that times requests, telemetry and state on the daemon's topics."""

    def __init__(self, client: aiomqtt.Client, prefix: str = "treadctl") -> None:
        self.client = client
        self.prefix = prefix
        self._pending: dict[str, tuple[float, asyncio.Future[Reply]]] = {}
        self._next = 0
        self.telemetry: dict[str, list[tuple[int, float]]] = {}
        """device -> (energy_kcal = the tap's sequence number, monotonic arrival)."""
        self.state: dict[str, dict[str, Any]] = {}
        self.availability: dict[str, str] = {}
        self.state_arrivals: dict[str, list[float]] = {}
        """device -> monotonic arrival of every retained state message."""
        self._changed = asyncio.Condition()

    async def listen(self) -> None:
        for topic in ("+/response/#", "+/telemetry", "+/state", "+/availability"):
            await self.client.subscribe(f"{self.prefix}/{topic}", qos=1)
        async for message in self.client.messages:
            now = time.monotonic()
            parts = message.topic.value.split("/")
            device, kind = parts[1], parts[2]
            if device == "bridge":
                continue
            payload = bytes(message.payload) if isinstance(message.payload, bytes) else b""
            if kind == "telemetry":
                body = json.loads(payload)
                seq = body.get("energy_kcal")
                if isinstance(seq, int):
                    self.telemetry.setdefault(device, []).append((seq, now))
                continue
            if kind == "response":
                body = json.loads(payload)
                pending = self._pending.pop(str(body.get("transaction")), None)
                if pending is not None and not pending[1].done():
                    pending[1].set_result(Reply(pending[0], now, body))
                continue
            if kind == "state" and payload:
                self.state[device] = json.loads(payload)
                self.state_arrivals.setdefault(device, []).append(now)
            elif kind == "availability":
                self.availability[device] = payload.decode()
            async with self._changed:
                self._changed.notify_all()

    async def request(
        self, device: str, command: str, body: dict[str, Any] | None = None, *, within: float = 10
    ) -> Reply:
        self._next += 1
        transaction = f"b{self._next}"
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        payload = json.dumps({**(body or {}), "transaction": transaction})
        sent = time.monotonic()
        self._pending[transaction] = (sent, future)
        await self.client.publish(f"{self.prefix}/{device}/request/{command}", payload, qos=1)
        async with asyncio.timeout(within):
            return await future

    async def wait_state(self, device: str, check: Any, *, within: float = 15) -> dict[str, Any]:
        """Wait until the device's retained state satisfies ``check(state)``."""
        async with asyncio.timeout(within):
            async with self._changed:
                await self._changed.wait_for(lambda: check(self.state.get(device, {})))
        return self.state[device]

    async def wait_online(self, devices: Sequence[str], *, within: float = 60) -> None:
        async with asyncio.timeout(within):
            async with self._changed:
                await self._changed.wait_for(
                    lambda: all(
                        self.availability.get(d) == "online"
                        and self.state.get(d, {}).get("link") is True
                        for d in devices
                    )
                )


@contextlib.asynccontextmanager
async def mqtt_client(port: int) -> AsyncIterator[Mqtt]:
    client = aiomqtt.Client(
        "127.0.0.1",
        port,
        identifier=f"bench-{os.getpid()}",
        protocol=aiomqtt.ProtocolVersion.V5,
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    )
    # The fleet part sends a request to every treadmill at once; more than aiomqtt's default of
    # 10 unacknowledged publishes is expected there, not a sign of trouble.
    client.pending_calls_threshold = 1000
    async with client:
        mqtt = Mqtt(client)
        task = asyncio.create_task(mqtt.listen(), name="bench-mqtt")
        try:
            yield mqtt
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
