"""Run ``treadctl run`` as a real process against simulator processes and a real Mosquitto.

Import it as ``support.daemon`` (``tests/`` is on ``sys.path``; ``harness.daemon`` works
too). Everything waits on a condition with a deadline; nothing sleeps a fixed time. Every
process it starts is stopped on the way out (SIGTERM, then SIGKILL).

Typical use::

    from harness.daemon import DaemonRig, DeviceSpec

    async with DaemonRig(tmp_path, [DeviceSpec("tm1")], speedup=20) as rig:
        daemon = await rig.start_daemon()               # waits until every link is online
        assert (await rig.mqtt.request("tm1", "arm"))["status"] == "ok"
        await rig.mqtt.request("tm1", "start_profile", profile="retro-beginner")
        await rig.mqtt.wait_json("treadctl/tm1/telemetry", lambda t: t["speed_kmh"] > 0)
        await rig.mqtt.request("tm1", "stop")
        await wait_trace(rig.sims["tm1"], lambda r: is_write(r, OP_STOP))
        assert await daemon.terminate() == 0

API (stable: tests/daemon, tests/faults and bench/ use it)
----------------------------------------------------------
``DeviceSpec(id, *, preset="generic", has_handrails=True, user_cap_kmh=None, walker=True,
name=None, sim_args=())``: one treadmill = one ``treadsim`` process (``--walker`` when
``walker``) and one ``[[devices]]`` entry (``simulator = true``, the rig's ``speedup``, its own
``tcp-client`` transport, a distinct address ``F0:F1:F2:F3:F4:1N``).

``DaemonRig(workdir, devices=(DeviceSpec("tm1"),), *, speedup=20.0, with_mqtt=True,
profiles=None, extra_config=None, topic_prefix="treadctl", backend="bumble")``: async context
manager. ``backend="bluez"``: one device, reached through the BlueZ twin (``rig.twin``, a
:class:`support.twin.TwinProcess`; the daemon gets its ``DBUS_SYSTEM_BUS_ADDRESS``).
    On enter: starts the simulators (``rig.sims[id]``: :class:`SimProcess` from
    ``support.simulator``, with ``trace_records()``, ``command(name, **args)``, ``state()``,
    ``wait(until, within)``), a Mosquitto (``rig.broker``, :class:`Mosquitto`), a connected
    :class:`MqttProbe` subscribed to ``<prefix>/#`` (``rig.mqtt``), and writes the config
    (``rig.config_path``; ``profiles``: ``{name: yaml text}`` written to ``rig.profiles_dir``;
    ``extra_config``: top-level sections merged into the config, e.g.
    ``{"mqtt": {"arming_expiry_s": 600}}``). ``rig.config()`` is the config as a dict.
    On exit: stops every daemon it started, the probe, the broker, the simulators.
    ``await rig.start_daemon(*, notify_socket=None, env=None, wait_online=True,
    args=(), within=30.0) -> DaemonProcess``: ``python -m treadctl.cli.main run --config ...``
    (stdout/stderr to files in the workdir; ``NOTIFY_SOCKET`` set when given; ``env`` added to
    the environment, e.g. ``{"WATCHDOG_USEC": "1000000"}``). With ``wait_online`` (and MQTT on)
    it returns when every device's availability ``online`` and its first telemetry record
    arrived after the start (a start needs fresh telemetry).
    ``await rig.wait_online(device, since=0, within=30.0)``; ``rig.write_config()`` rewrites
    the file; ``rig.daemons``: every daemon started, in order.

``DaemonProcess``: ``pid``, ``returncode``, ``send_signal(sig)``,
    ``await terminate(within=30.0) -> int`` (SIGTERM, wait for the exit code),
    ``await kill() -> int`` (SIGKILL), ``await wait(within=30.0) -> int``,
    ``logs() -> list[dict]`` (the JSON lines of stdout; other lines as ``{"raw": line}``),
    ``await wait_log(predicate, within=30.0) -> dict``, ``stdout()``/``stderr()`` text.

``MqttProbe(host, port, *topics, prefix="treadctl")``: async context manager, an MQTT v5
    client recording every message (``messages``: list of :class:`Msg` with ``topic``,
    ``payload``, ``retain``, ``json()``, ``text``).
    ``await wait_for(topic, match=None, *, since=0, within=15.0) -> Msg`` (the first message
    at index >= ``since`` on ``topic`` matching ``match(msg)``); ``await wait_json(topic,
    match=None, ...) -> Any`` (``match`` gets the decoded JSON); ``mark() -> int`` (the index
    to pass as ``since`` to see only what comes after now);
    ``await publish(topic, payload, *, qos=1, retain=False)``;
    ``await request(device, command, *, within=15.0, **body) -> dict``: JSON request on
    ``<prefix>/<device>/request/<command>`` with a unique ``transaction``; returns the reply
    (``{"status", "data", "error", "transaction"}``);
    ``await latest_state(device, match=None, within=15.0) -> dict``: the newest state JSON
    that matches (waits for one).
``await read_retained(host, port, topic, within=5.0) -> bytes | None``: a fresh client's view of
    a retained topic (None when nothing arrives before the deadline).

``NotifyListener(path=None)``: a bound ``AF_UNIX``/``SOCK_DGRAM`` socket like systemd's; a
    ``path`` binds a file, None an abstract name. ``address`` is the ``NOTIFY_SOCKET`` value
    (``@name`` for abstract). ``received``: every datagram as ``dict`` (``KEY: value``).
    ``await wait_for(key, value=None, within=30.0) -> dict`` (the first such datagram, also one
    received earlier); ``await wait_count(key, count, within=30.0)``; ``drain() -> list``
    (read what is waiting, no wait); ``close()``; a context manager.

Trace helpers: ``writes(sim, op=None) -> list[dict]`` (control point writes in the trace),
``is_write(record, op)``, ``belt(sim) -> list[dict]``, ``await wait_trace(sim, predicate,
within=30.0) -> dict``. ``OP_REQUEST_CONTROL``, ``OP_SET_SPEED``, ``OP_START``, ``OP_STOP``
(FTMS v1.0 Table 4.15: 0x00, 0x02, 0x07, 0x08; Stop/Pause share 0x08 with a parameter
``01`` stop / ``02`` pause, §4.16.2.9).

``await poll(condition, *, within=DEFAULT_WITHIN, what="condition", every=0.02)``: call
``condition()`` until it returns a truthy value (returned) or the deadline fails the test.

Also: ``daemon_rig(workdir, ...)`` (the same as ``DaemonRig`` as an ``asynccontextmanager``),
``to_toml(mapping) -> str`` (the small TOML writer the rig uses), ``REPO_ROOT``,
``DEFAULT_WITHIN`` (30 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import aiomqtt

from harness.mosquitto import Mosquitto
from harness.simulator import SimProcess, simulator_process, stop_process
from harness.twin import TwinProcess, twin_process

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WITHIN = 30.0
"""Deadline (seconds) against hangs; never a timing assertion."""

OP_REQUEST_CONTROL = 0x00
OP_SET_SPEED = 0x02
OP_START = 0x07
OP_STOP = 0x08
"""FTMS v1.0 Table 4.15 op codes (Stop or Pause is 0x08 with parameter 01 = stop, 02 = pause)."""

T = TypeVar("T")


async def poll(
    condition: Callable[[], T | None],
    *,
    within: float = DEFAULT_WITHIN,
    what: str = "condition",
    every: float = 0.02,
) -> T:
    """Call ``condition`` until it returns something truthy; fail after ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            while True:
                value = condition()
                if value:
                    return value
                await asyncio.sleep(every)  # polling interval of a deadline-bounded wait
    except TimeoutError:
        raise AssertionError(f"{what}: not met within {within} s") from None


# ====================================================================== simulator trace
def writes(sim: SimProcess, op: int | None = None) -> list[dict[str, Any]]:
    """Control point writes the simulator received (optionally of one op code)."""
    return [r for r in sim.trace_records("write") if op is None or r.get("op") == op]


def is_write(record: Mapping[str, Any], op: int) -> bool:
    return record.get("kind") == "write" and record.get("op") == op


def belt(sim: SimProcess) -> list[dict[str, Any]]:
    """Belt speed changes (``speed``, ``target`` in 0.01 km/h)."""
    records: list[dict[str, Any]] = sim.trace_records("belt")
    return records


async def wait_trace(
    sim: SimProcess,
    predicate: Callable[[dict[str, Any]], bool],
    *,
    within: float = DEFAULT_WITHIN,
) -> dict[str, Any]:
    """The first trace record matching ``predicate`` (waits for it)."""

    def find() -> dict[str, Any] | None:
        return next((r for r in sim.trace_records() if predicate(r)), None)

    return await poll(find, within=within, what="trace record")


# ====================================================================== MQTT
@dataclass(frozen=True, slots=True)
class Msg:
    topic: str
    payload: bytes
    retain: bool

    @property
    def text(self) -> str:
        return self.payload.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.payload)


_client_ids = itertools.count()


class MqttProbe:
    """A test client that records every message it receives (see the module docstring)."""

    def __init__(self, host: str, port: int, *topics: str, prefix: str = "treadctl") -> None:
        self.host = host
        self.port = port
        self.topics = topics or (f"{prefix}/#",)
        self.prefix = prefix
        self.messages: list[Msg] = []
        self._changed = asyncio.Event()
        self._stack: contextlib.AsyncExitStack | None = None
        self._client: aiomqtt.Client | None = None
        self._tx = itertools.count(1)

    async def __aenter__(self) -> MqttProbe:
        async with contextlib.AsyncExitStack() as stack:
            client = aiomqtt.Client(
                self.host,
                self.port,
                identifier=f"probe-{os.getpid()}-{next(_client_ids)}",
                protocol=aiomqtt.ProtocolVersion.V5,
            )
            await stack.enter_async_context(client)
            self._client = client
            for topic in self.topics:
                await client.subscribe(topic, qos=1)
            group = await stack.enter_async_context(asyncio.TaskGroup())
            reader = group.create_task(self._read(client), name="mqtt-probe")
            stack.callback(reader.cancel)
            self._stack = stack.pop_all()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stack is not None:
            stack, self._stack = self._stack, None
            await stack.aclose()

    async def _read(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            payload = message.payload if isinstance(message.payload, bytes) else b""
            self.messages.append(Msg(message.topic.value, payload, bool(message.retain)))
            changed, self._changed = self._changed, asyncio.Event()
            changed.set()

    def mark(self) -> int:
        return len(self.messages)

    async def wait_for(
        self,
        topic: str,
        match: Callable[[Msg], bool] | None = None,
        *,
        since: int = 0,
        within: float = 15.0,
    ) -> Msg:
        index = since
        try:
            async with asyncio.timeout(within):
                while True:
                    while index < len(self.messages):
                        msg = self.messages[index]
                        index += 1
                        if msg.topic == topic and (match is None or match(msg)):
                            return msg
                    await self._changed.wait()
        except TimeoutError:
            seen = [m for m in self.messages[since:] if m.topic == topic][-5:]
            raise AssertionError(
                f"no matching message on {topic} within {within} s; last seen: "
                + "; ".join(m.text[:300] for m in seen)
            ) from None

    async def wait_json(
        self,
        topic: str,
        match: Callable[[Any], bool] | None = None,
        *,
        since: int = 0,
        within: float = 15.0,
    ) -> Any:
        def ok(msg: Msg) -> bool:
            try:
                value = msg.json()
            except ValueError:
                return False
            return match is None or bool(match(value))

        return (await self.wait_for(topic, ok, since=since, within=within)).json()

    async def publish(
        self, topic: str, payload: bytes | str, *, qos: int = 1, retain: bool = False
    ) -> None:
        if self._client is None:
            raise RuntimeError("MqttProbe is not connected")
        await self._client.publish(topic, payload, qos=qos, retain=retain)

    async def request(
        self, device: str, command: str, *, within: float = 15.0, **body: Any
    ) -> dict[str, Any]:
        transaction = f"t{os.getpid()}-{next(self._tx)}"
        since = self.mark()
        payload = json.dumps({**body, "transaction": transaction})
        await self.publish(f"{self.prefix}/{device}/request/{command}", payload)
        reply: dict[str, Any] = await self.wait_json(
            f"{self.prefix}/{device}/response/{command}",
            lambda r: isinstance(r, dict) and r.get("transaction") == transaction,
            since=since,
            within=within,
        )
        return reply

    async def latest_state(
        self,
        device: str,
        match: Callable[[dict[str, Any]], bool] | None = None,
        *,
        within: float = 15.0,
    ) -> dict[str, Any]:
        """The newest state of ``device`` that matches (waits for one)."""
        topic = f"{self.prefix}/{device}/state"
        for msg in reversed(self.messages):
            if msg.topic == topic:
                state: dict[str, Any] = msg.json()
                if match is None or match(state):
                    return state
                break
        found: dict[str, Any] = await self.wait_json(topic, match, since=self.mark(), within=within)
        return found


async def read_retained(host: str, port: int, topic: str, *, within: float = 5.0) -> bytes | None:
    """What a newly subscribing client gets as the retained message of ``topic``."""
    async with aiomqtt.Client(
        host,
        port,
        identifier=f"retained-{os.getpid()}-{next(_client_ids)}",
        protocol=aiomqtt.ProtocolVersion.V5,
    ) as client:
        await client.subscribe(topic, qos=1)
        try:
            async with asyncio.timeout(within):
                async for message in client.messages:
                    if message.retain and isinstance(message.payload, bytes):
                        return message.payload
        except TimeoutError:
            return None
    return None


# ====================================================================== systemd notify
class NotifyListener:
    """A socket bound like systemd's notification socket (see the module docstring)."""

    def __init__(self, path: Path | None = None) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        if path is None:
            name = f"treadctl-test-{os.getpid()}-{os.urandom(6).hex()}"
            self.sock.bind(b"\0" + name.encode())
            self.address = "@" + name
        else:
            self.sock.bind(str(path))
            self.address = str(path)
        self.sock.setblocking(False)
        self.received: list[dict[str, str]] = []

    def drain(self) -> list[dict[str, str]]:
        """Read every datagram waiting on the socket (no waiting); returns ``received``."""
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return self.received
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if line)
            self.received.append(fields)

    async def wait_for(
        self, key: str, value: str | None = None, *, within: float = DEFAULT_WITHIN
    ) -> dict[str, str]:
        """The first datagram (received so far or later) with ``key`` (equal to ``value``)."""

        def find() -> dict[str, str] | None:
            self.drain()
            return next(
                (m for m in self.received if key in m and (value is None or m[key] == value)),
                None,
            )

        return await poll(find, within=within, what=f"notify {key}")

    async def wait_count(self, key: str, count: int, *, within: float = DEFAULT_WITHIN) -> None:
        """Until at least ``count`` datagrams carried ``key``."""
        await poll(
            lambda: sum(1 for m in self.drain() if key in m) >= count,
            within=within,
            what=f"{count} x notify {key}",
        )

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> NotifyListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ====================================================================== the daemon process
class DaemonProcess:
    """A running ``treadctl run`` (see the module docstring)."""

    def __init__(
        self, process: asyncio.subprocess.Process, stdout_path: Path, stderr_path: Path
    ) -> None:
        self.process = process
        self.stdout_path = stdout_path
        self.stderr_path = stderr_path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def send_signal(self, sig: int) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)

    async def wait(self, within: float = DEFAULT_WITHIN) -> int:
        try:
            async with asyncio.timeout(within):
                return await self.process.wait()
        except TimeoutError:
            raise AssertionError(
                f"treadctl run did not exit within {within} s\n{self.stderr()[-3000:]}"
            ) from None

    async def terminate(self, within: float = DEFAULT_WITHIN) -> int:
        self.send_signal(signal.SIGTERM)
        return await self.wait(within)

    async def kill(self) -> int:
        self.send_signal(signal.SIGKILL)
        return await self.wait()

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def logs(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for line in self.stdout().splitlines():
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError:
                value = None
            records.append(value if isinstance(value, dict) else {"raw": line})
        return records

    async def wait_log(
        self, predicate: Callable[[dict[str, Any]], bool], *, within: float = DEFAULT_WITHIN
    ) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            found = next((r for r in self.logs() if predicate(r)), None)
            if found is None and self.returncode is not None:
                raise AssertionError(
                    f"treadctl run exited ({self.returncode}) before the log line appeared\n"
                    + self.stderr()[-3000:]
                )
            return found

        return await poll(find, within=within, what="daemon log line")


# ====================================================================== the rig
@dataclass(frozen=True, slots=True)
class DeviceSpec:
    id: str
    preset: str = "generic"
    has_handrails: bool = True
    user_cap_kmh: float | None = None
    walker: bool = True
    name: str | None = None
    sim_args: tuple[str, ...] = ()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value))
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(config: Mapping[str, Any]) -> str:
    """A small TOML writer for the config's shape (scalars, tables, arrays of tables)."""
    lines: list[str] = []

    def table(prefix: str, values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            if not isinstance(value, Mapping) and not _is_table_list(value) and value is not None:
                lines.append(f"{key} = {_toml_value(value)}")
        for key, value in values.items():
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(value, Mapping):
                lines.append(f"\n[{name}]")
                table(name, value)
            elif _is_table_list(value):
                for item in value:
                    lines.append(f"\n[[{name}]]")
                    table(name, item)

    table("", config)
    return "\n".join(lines).strip() + "\n"


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


@dataclass
class DaemonRig:
    """Simulators + Mosquitto + configuration + ``treadctl run`` (see the module docstring)."""

    workdir: Path
    devices: Sequence[DeviceSpec] = (DeviceSpec("tm1"),)
    speedup: float = 20.0
    with_mqtt: bool = True
    profiles: Mapping[str, str] | None = None
    extra_config: Mapping[str, Any] | None = None
    topic_prefix: str = "treadctl"
    backend: str = "bumble"
    """``bumble``: the daemon reaches each simulator over its own Bumble transport. ``bluez``:
    one simulator behind the BlueZ twin on a private bus (``rig.twin``); the daemon runs
    bleak's BlueZ backend, unchanged."""
    sims: dict[str, SimProcess] = field(default_factory=dict)
    twin: TwinProcess | None = None
    broker: Mosquitto | None = None
    daemons: list[DaemonProcess] = field(default_factory=list)
    _probe: MqttProbe | None = None
    _stack: contextlib.AsyncExitStack | None = None

    @property
    def config_path(self) -> Path:
        return self.workdir / "treadctl.toml"

    @property
    def profiles_dir(self) -> Path:
        return self.workdir / "profiles"

    @property
    def mqtt(self) -> MqttProbe:
        if self._probe is None:
            raise RuntimeError("the rig has no MQTT (with_mqtt=False) or is not started")
        return self._probe

    async def __aenter__(self) -> DaemonRig:
        self.workdir.mkdir(parents=True, exist_ok=True)
        async with contextlib.AsyncExitStack() as stack:
            for index, spec in enumerate(self.devices):
                sim_dir = self.workdir / f"sim-{spec.id}"
                sim_dir.mkdir(exist_ok=True)
                args = ["--address", f"F0:F1:F2:F3:F4:{0x10 + index:02X}"]
                if spec.walker:
                    args.append("--walker")
                self.sims[spec.id] = await stack.enter_async_context(
                    simulator_process(
                        sim_dir, *args, *spec.sim_args, preset=spec.preset, speedup=self.speedup
                    )
                )
            if self.backend == "bluez":
                if len(self.devices) != 1:
                    raise ValueError("the BlueZ twin serves one simulator (one adapter)")
                sim = self.sims[self.devices[0].id]
                self.twin = await stack.enter_async_context(
                    twin_process(self.workdir / "twin", sim.hci_client_spec)
                )
            if self.with_mqtt:
                broker = Mosquitto(self.workdir / "mosquitto")
                await asyncio.to_thread(broker.start)
                stack.callback(broker.stop)
                self.broker = broker
                probe = MqttProbe(broker.host, broker.port, prefix=self.topic_prefix)
                self._probe = await stack.enter_async_context(probe)
            stack.push_async_callback(self._stop_daemons)
            if self.profiles:
                self.profiles_dir.mkdir(exist_ok=True)
                for name, text in self.profiles.items():
                    (self.profiles_dir / f"{name}.yaml").write_text(text, encoding="utf-8")
            self.write_config()
            self._stack = stack.pop_all()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._stack is not None:
            stack, self._stack = self._stack, None
            await stack.aclose()

    async def _stop_daemons(self) -> None:
        for daemon in self.daemons:
            await stop_process(daemon.process, grace=20.0)

    def config(self) -> dict[str, Any]:
        devices = []
        for index, spec in enumerate(self.devices):
            sim = self.sims[spec.id]
            device: dict[str, Any] = {
                "id": spec.id,
                "address": f"F0:F1:F2:F3:F4:{0x10 + index:02X}",
                "name": spec.name or sim.ready["name"],
                "has_handrails": spec.has_handrails,
                "simulator": True,
                "speedup": self.speedup,
                "backend": self.backend,
            }
            if self.backend == "bumble":
                device["transport"] = sim.hci_client_spec
            if spec.user_cap_kmh is not None:
                device["user_cap_kmh"] = spec.user_cap_kmh
            devices.append(device)
        config: dict[str, Any] = {
            "state_dir": str(self.workdir / "state"),
            "devices": devices,
            "ble": {"backend": self.backend, "connect_timeout_s": 20.0, "scan_timeout_s": 10.0},
            "logging": {"level": "INFO", "format": "json"},
        }
        if self.profiles:
            config["profiles_dir"] = str(self.profiles_dir)
        if self.with_mqtt and self.broker is not None:
            config["mqtt"] = {
                "enabled": True,
                "host": self.broker.host,
                "port": self.broker.port,
                "client_id": f"treadctl-test-{os.getpid()}",
                "topic_prefix": self.topic_prefix,
                "discovery": False,
            }
        if self.extra_config:
            config = _merge(config, self.extra_config)
        return config

    def write_config(self) -> Path:
        (self.workdir / "state").mkdir(exist_ok=True)
        self.config_path.write_text(to_toml(self.config()), encoding="utf-8")
        return self.config_path

    async def start_daemon(
        self,
        *,
        notify_socket: str | None = None,
        env: Mapping[str, str] | None = None,
        wait_online: bool = True,
        args: Sequence[str] = (),
        within: float = DEFAULT_WITHIN,
    ) -> DaemonProcess:
        n = len(self.daemons)
        stdout_path = self.workdir / f"daemon-{n}.stdout"
        stderr_path = self.workdir / f"daemon-{n}.stderr"
        environ = dict(os.environ)
        environ.pop("NOTIFY_SOCKET", None)
        environ.pop("WATCHDOG_USEC", None)
        environ.pop("WATCHDOG_PID", None)
        environ["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), environ.get("PYTHONPATH", "")])
        if notify_socket is not None:
            environ["NOTIFY_SOCKET"] = notify_socket
        if self.twin is not None:
            environ.update(self.twin.environ())
        environ.update(env or {})
        since = self._probe.mark() if self._probe is not None else 0
        command = [sys.executable, "-m", "treadctl.cli.main", "run"]
        command += ["--config", str(self.config_path), *args]
        with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
            process = await asyncio.create_subprocess_exec(
                *command,
                cwd=REPO_ROOT,
                env=environ,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        daemon = DaemonProcess(process, stdout_path, stderr_path)
        self.daemons.append(daemon)
        if wait_online and self.with_mqtt:
            for spec in self.devices:
                await self.wait_online(spec.id, since=since, within=within)
                # A start needs fresh telemetry: wait for the first record too.
                await self.mqtt.wait_for(
                    f"{self.topic_prefix}/{spec.id}/telemetry", since=since, within=within
                )
        return daemon

    async def wait_online(
        self, device: str, *, since: int = 0, within: float = DEFAULT_WITHIN
    ) -> None:
        """Until ``device``'s availability ``online`` arrives (at probe index >= ``since``)."""
        topic = f"{self.topic_prefix}/{device}/availability"
        try:
            await self.mqtt.wait_for(
                topic, lambda m: m.text == "online", since=since, within=within
            )
        except AssertionError:
            details = self.daemons[-1].stderr()[-3000:] if self.daemons else ""
            raise AssertionError(f"{device} not online within {within} s\n{details}") from None


@contextlib.asynccontextmanager
async def daemon_rig(workdir: Path, *args: Any, **kwargs: Any) -> AsyncIterator[DaemonRig]:
    """``async with daemon_rig(tmp_path, [...], speedup=20) as rig`` (same as ``DaemonRig``)."""
    async with DaemonRig(workdir, *args, **kwargs) as rig:
        yield rig
