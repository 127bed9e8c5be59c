"""Run ``treadctl run`` as a real process against simulator processes and a real Mosquitto.

Import it as ``harness.daemon``. Everything waits on a condition with a deadline; nothing sleeps
a fixed time. Every process it starts is stopped on the way out (SIGTERM, then SIGKILL).

Typical use::

    from harness.daemon import DaemonRig, DeviceSpec
    from harness.sim_trace import OP_STOP, is_write, wait_trace

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

Also: ``daemon_rig(workdir, ...)`` (the same as ``DaemonRig`` as an ``asynccontextmanager``),
``REPO_ROOT``.

Next to it: :mod:`harness.mqtt_probe` (``MqttProbe``, ``read_retained``),
:mod:`harness.systemd_notify` (``NotifyListener``), :mod:`harness.sim_trace` (``writes``,
``belt``, ``wait_trace``, the ``OP_*`` codes), :mod:`harness.polling` (``poll``,
``DEFAULT_WITHIN``), :mod:`harness.toml_writer` (``to_toml``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from harness.mosquitto import Mosquitto
from harness.mqtt_probe import MqttProbe
from harness.polling import DEFAULT_WITHIN, poll
from harness.simulator import SimProcess, simulator_process, stop_process
from harness.toml_writer import to_toml
from harness.twin import TwinProcess, twin_process

REPO_ROOT = Path(__file__).resolve().parents[1]


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
