"""Helpers to run the treadsim simulator in tests, and a plain Bumble FTMS client to drive it.

In-process (fast; a client device on the simulator's own ``LocalLink``)::

    async with in_process_simulator(preset="citysports-wp8", speedup=20) as sim:
        async with central(sim.link) as c, c.connect_ftms() as ftms:
            response = await ftms.request(b"\\x00")          # 80 00 01

Cross-process (a ``treadsim`` process with ``--hci tcp-server:127.0.0.1:0``, a control socket
and a trace file in ``tmp_path``)::

    async with simulator_process(tmp_path, preset="generic", speedup=20) as proc:
        async with central(hci=proc.hci_client_spec) as c, c.connect_ftms() as ftms:
            ...
        await proc.command("press_stop")
        proc.trace_records()

The client records every ATT PDU it *receives* in wire order (an HCI snooper on its host), so
tests can assert the order of notifications, indications and the write response.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import struct
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from bumble import hci
from bumble.core import UUID, AdvertisingData
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.gatt import Characteristic
from bumble.gatt_client import CharacteristicProxy
from bumble.host import Host
from bumble.link import LocalLink
from bumble.snoop import Snooper
from bumble.transport import open_transport
from bumble.transport.common import AsyncPipeSink

from simulators.treadsim import SimController, SimState, Simulator

REPO_ROOT = Path(__file__).resolve().parents[1]
FTMS_UUID16 = 0x1826
CLIENT_ADDRESS = "C0:00:00:00:00:01"
DEFAULT_TIMEOUT = 10.0
"""Seconds any helper waits for the simulator before failing (a deadline, never a pause)."""

# ATT op codes (Core v5.3 Vol 3 Part F §3.4.8) of the PDUs a client receives.
_ATT_KINDS = {
    0x01: "error_response",
    0x13: "write_response",
    0x1B: "notification",
    0x1D: "indication",
    0x0B: "read_response",
}
_ATT_CID = 0x0004
_HCI_ACL = 0x02


@dataclass(frozen=True, slots=True)
class AttEvent:
    """One ATT PDU the client received, in wire order."""

    kind: str  # notification | indication | write_response | error_response | read_response
    handle: int | None
    value: bytes
    uuid16: int | None = None
    error: int | None = None


class _AttSnooper(Snooper):
    """Collects the ATT PDUs of controller -> host ACL packets."""

    def __init__(self, sink: Callable[[int, bytes], None]) -> None:
        self._sink = sink

    def snoop(self, hci_packet: bytes, direction: Snooper.Direction) -> None:
        if direction != Snooper.Direction.CONTROLLER_TO_HOST or hci_packet[0] != _HCI_ACL:
            return
        _handle, _length, l2cap_length, cid = struct.unpack_from("<HHHH", hci_packet, 1)
        if cid == _ATT_CID:
            self._sink(hci_packet[9], hci_packet[9 : 9 + l2cap_length])


class FtmsClient:
    """A connected plain-Bumble client of the simulator's FTMS service."""

    def __init__(self, device: Device, connection: Connection, events: list[AttEvent]) -> None:
        self.device = device
        self.connection = connection
        self.peer = Peer(connection)
        self.events = events
        """Every ATT PDU received since the client connected (wire order)."""
        self.characteristics: dict[int, CharacteristicProxy[bytes]] = {}
        self._changed = asyncio.Event()
        self.disconnected = asyncio.Event()
        connection.on(connection.EVENT_DISCONNECTION, lambda _reason: self.disconnected.set())

    async def discover(self) -> None:
        await self.peer.discover_services()
        await self.peer.discover_characteristics()
        for service in self.peer.services:
            for characteristic in service.characteristics:
                uuid = characteristic.uuid.to_bytes()
                if len(uuid) == 2:
                    self.characteristics[int.from_bytes(uuid, "little")] = characteristic

    def uuid_of(self, handle: int) -> int | None:
        for uuid16, characteristic in self.characteristics.items():
            if characteristic.handle == handle:
                return uuid16
        return None

    async def subscribe(self, *uuid16s: int) -> None:
        """Enable notifications / indications (indications for the control point)."""
        for uuid16 in uuid16s:
            characteristic = self.characteristics[uuid16]
            indicate = bool(characteristic.properties & Characteristic.Properties.INDICATE)
            await self.peer.subscribe(characteristic, prefer_notify=not indicate)

    async def subscribe_all(self) -> None:
        """Subscribe to 0x2ACD, 0x2AD3, 0x2AD9 and 0x2ADA (those present)."""
        await self.subscribe(
            *(u for u in (0x2ACD, 0x2AD3, 0x2AD9, 0x2ADA) if u in self.characteristics)
        )

    async def read(self, uuid16: int) -> bytes:
        return bytes(await self.peer.read_value(self.characteristics[uuid16]))

    async def write(self, data: bytes) -> None:
        """Write the control point with response (raises ``att.ATT_Error`` on an ATT error)."""
        await self.peer.write_value(self.characteristics[0x2AD9], data, with_response=True)

    async def wait_event(
        self,
        predicate: Callable[[AttEvent], bool],
        *,
        start: int = 0,
        within: float = DEFAULT_TIMEOUT,
    ) -> tuple[int, AttEvent]:
        """The first received event at index >= ``start`` matching ``predicate``."""
        async with asyncio.timeout(within):
            while True:
                for index in range(start, len(self.events)):
                    if predicate(self.events[index]):
                        return index, self.events[index]
                await self._changed.wait()

    def signal(self) -> None:
        """Wake every :meth:`wait_event` (a new event arrived)."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def request(self, data: bytes, *, within: float = DEFAULT_TIMEOUT) -> bytes:
        """Write ``data`` to the control point and return the indication that answers it."""
        start = len(self.events)
        await self.write(data)
        _, event = await self.wait_event(
            lambda e: e.kind == "indication" and e.uuid16 == 0x2AD9, start=start, within=within
        )
        return event.value

    def received(self, uuid16: int, *, start: int = 0) -> list[bytes]:
        """Values notified/indicated on ``uuid16`` since index ``start``."""
        return [
            e.value
            for e in self.events[start:]
            if e.uuid16 == uuid16 and e.kind in ("notification", "indication")
        ]

    async def next_value(
        self, uuid16: int, *, start: int | None = None, within: float = DEFAULT_TIMEOUT
    ) -> bytes:
        """The next value notified on ``uuid16`` after ``start`` (default: from now)."""
        begin = len(self.events) if start is None else start
        _, event = await self.wait_event(
            lambda e: e.uuid16 == uuid16 and e.kind in ("notification", "indication"),
            start=begin,
            within=within,
        )
        return event.value


class Central:
    """A plain Bumble central (scanner + GATT client)."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self._events: list[AttEvent] = []
        self._client: FtmsClient | None = None
        device.host.snooper = _AttSnooper(self._on_att)

    def _on_att(self, op: int, pdu: bytes) -> None:
        kind = _ATT_KINDS.get(op)
        if kind is None:
            return
        handle: int | None = None
        value = b""
        error: int | None = None
        if kind in ("notification", "indication"):
            handle = int.from_bytes(pdu[1:3], "little")
            value = bytes(pdu[3:])
        elif kind == "error_response":
            handle = int.from_bytes(pdu[2:4], "little")
            error = pdu[4]
        elif kind == "read_response":
            value = bytes(pdu[1:])
        client = self._client
        uuid16 = client.uuid_of(handle) if client is not None and handle is not None else None
        self._events.append(AttEvent(kind, handle, value, uuid16, error))
        if client is not None:
            client.signal()

    async def scan(
        self,
        accept: Callable[[Advertisement], bool] | None = None,
        *,
        within: float = DEFAULT_TIMEOUT,
    ) -> Advertisement:
        """The first advertisement accepted (default: one listing the FTMS UUID 0x1826)."""
        found: asyncio.Future[Advertisement] = asyncio.get_running_loop().create_future()

        def check(advertisement: Advertisement) -> None:
            ok = accept(advertisement) if accept is not None else advertises_ftms(advertisement)
            if ok and not found.done():
                found.set_result(advertisement)

        self.device.on(self.device.EVENT_ADVERTISEMENT, check)
        try:
            await self.device.start_scanning(filter_duplicates=False)
            async with asyncio.timeout(within):
                return await found
        finally:
            self.device.remove_listener(self.device.EVENT_ADVERTISEMENT, check)
            await self.device.stop_scanning()

    @contextlib.asynccontextmanager
    async def connect_ftms(
        self,
        address: str | None = None,
        *,
        subscribe: bool = True,
        within: float = DEFAULT_TIMEOUT,
    ) -> AsyncIterator[FtmsClient]:
        """Connect (scanning first when no address is given), discover, subscribe."""
        target = address or str((await self.scan(within=within)).address)
        connection = await self.device.connect(hci.Address(target), timeout=within)
        self._events = []
        client = FtmsClient(self.device, connection, self._events)
        self._client = client
        try:
            async with asyncio.timeout(within):
                await client.discover()
                if subscribe:
                    await client.subscribe_all()
            yield client
        finally:
            self._client = None
            if not client.disconnected.is_set():
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(within):
                        await connection.disconnect()


def advertises_ftms(advertisement: Advertisement) -> bool:
    """Whether the advertisement lists the FTMS service UUID 0x1826."""

    uuids = (
        advertisement.data.get(AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS) or []
    )
    return UUID.from_16_bits(FTMS_UUID16) in (uuids or [])


@contextlib.asynccontextmanager
async def central(
    link: LocalLink | None = None, *, hci_spec: str | None = None, address: str = CLIENT_ADDRESS
) -> AsyncIterator[Central]:
    """A powered-on client device: on ``link`` (in-process) or over ``hci_spec`` (a transport
    such as ``tcp-client:127.0.0.1:PORT`` to a simulator process)."""
    if (link is None) == (hci_spec is None):
        raise ValueError("give exactly one of link or hci_spec")
    async with contextlib.AsyncExitStack() as stack:
        if link is not None:
            controller = SimController("client", link=link)
            stack.callback(_detach, link, controller)
            host = Host(controller, AsyncPipeSink(controller))
        else:
            assert hci_spec is not None
            transport = await open_transport(hci_spec)
            stack.push_async_callback(transport.close)
            host = Host(controller_source=transport.source, controller_sink=transport.sink)
        device = Device(name="client", address=hci.Address(address), host=host)
        async with asyncio.timeout(DEFAULT_TIMEOUT):
            await device.power_on()
        stack.push_async_callback(device.power_off)
        yield Central(device)


def _detach(link: LocalLink, controller: SimController) -> None:
    controller.on_host_lost()
    if controller in link.controllers:
        link.remove_controller(controller)


@contextlib.asynccontextmanager
async def in_process_simulator(**kwargs: Any) -> AsyncIterator[Simulator]:
    """``Simulator(link=LocalLink(), **kwargs)`` (a fresh link unless ``link=`` is given)."""
    kwargs.setdefault("link", LocalLink())  # type: ignore[no-untyped-call]
    async with Simulator(**kwargs) as sim:
        yield sim


async def wait_state(
    sim: Simulator, predicate: Callable[[SimState], bool], *, within: float = DEFAULT_TIMEOUT
) -> SimState:
    """``sim.wait_for(predicate)`` with a deadline."""
    async with asyncio.timeout(within):
        return await sim.wait_for(predicate)


# ====================================================================== process tier
class ControlError(RuntimeError):
    """The control socket answered ``ok: false``."""


@dataclass
class SimProcess:
    """A running ``treadsim`` process (see :func:`simulator_process`)."""

    process: asyncio.subprocess.Process
    ready: dict[str, Any]
    control_path: Path
    trace_path: Path
    stderr_path: Path
    hci_specs: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def port(self) -> int:
        """TCP port of the first tcp-server HCI spec."""
        spec = next(s for s in self.hci_specs if s.startswith("tcp-server:"))
        return int(spec.rsplit(":", 1)[1])

    @property
    def hci_client_spec(self) -> str:
        """The Bumble transport a client host uses: ``tcp-client:127.0.0.1:PORT``."""
        return f"tcp-client:127.0.0.1:{self.port}"

    async def request(self, cmd: str, args: dict[str, Any] | None = None) -> Any:
        reader, writer = await asyncio.open_unix_connection(str(self.control_path))
        try:
            message = {"cmd": cmd, "args": args or {}}
            writer.write(json.dumps(message).encode() + b"\n")
            await writer.drain()
            async with asyncio.timeout(DEFAULT_TIMEOUT + 5):
                answer = json.loads(await reader.readline())
        finally:
            writer.close()
            await writer.wait_closed()
        if not answer.get("ok"):
            raise ControlError(answer.get("error", "control socket error"))
        return answer["result"]

    async def command(self, name: str, **arguments: Any) -> dict[str, Any]:
        """A console or fault action (``press_stop``, ``answer_next_with(result=4)``, ...)."""
        result: dict[str, Any] = await self.request(name, arguments)
        return result

    async def state(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("state")
        return result

    async def wait(self, until: dict[str, Any], within: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        """Until every condition holds (see the control socket's ``wait``)."""
        result: dict[str, Any] = await self.request("wait", {"until": until, "timeout": within})
        return result

    def trace_records(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The trace so far (optionally of one ``kind``)."""
        if not self.trace_path.exists():
            return []
        lines = self.trace_path.read_text(encoding="utf-8").splitlines()
        records = [json.loads(line) for line in lines if line.strip()]
        return [r for r in records if kind is None or r["kind"] == kind]

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")


@contextlib.asynccontextmanager
async def simulator_process(
    tmp_path: Path,
    *extra_args: str,
    preset: str = "generic",
    speedup: float = 1.0,
    hci: Iterable[str] = ("tcp-server:127.0.0.1:0",),
    ready_within: float = DEFAULT_TIMEOUT,
) -> AsyncIterator[SimProcess]:
    """Start ``python -m simulators.treadsim`` and stop it (SIGTERM, then SIGKILL) afterwards."""
    control = tmp_path / "treadsim.sock"
    trace = tmp_path / "treadsim-trace.jsonl"
    stderr_path = tmp_path / "treadsim.stderr"
    args = [sys.executable, "-m", "simulators.treadsim", "--no-prompt"]
    for spec in hci:
        args += ["--hci", spec]
    args += ["--preset", preset, "--speedup", str(speedup), "--control", str(control)]
    args += ["--trace", str(trace), *extra_args]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])
    )
    with stderr_path.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            *args,
            cwd=REPO_ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(ready_within):
            line = await process.stdout.readline()
        if not line:
            raise RuntimeError(f"treadsim exited: {stderr_path.read_text(errors='replace')}")
        ready = json.loads(line)
        yield SimProcess(process, ready, control, trace, stderr_path, list(ready["hci"]))
    finally:
        await stop_process(process)


# ====================================================================== fixtures
# Import into a conftest.py to use: ``from harness.simulator import treadsim_process``.
FIXTURE_SPEEDUP = 20.0


@pytest.fixture
async def treadsim() -> AsyncIterator[Simulator]:
    """An in-process generic simulator (``--speedup 20``) on its own LocalLink (``.link``)."""
    async with in_process_simulator(preset="generic", speedup=FIXTURE_SPEEDUP) as sim:
        yield sim


@pytest.fixture
async def treadsim_process(tmp_path: Path) -> AsyncIterator[SimProcess]:
    """A generic simulator process (``--speedup 20``) on ``tcp-server:127.0.0.1:0`` with a
    control socket and a trace in ``tmp_path``."""
    async with simulator_process(tmp_path, preset="generic", speedup=FIXTURE_SPEEDUP) as proc:
        yield proc


async def stop_process(process: asyncio.subprocess.Process, *, grace: float = 5.0) -> int:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL; drain stdout; return the code."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(grace):
                await process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    if process.stdout is not None:
        await process.stdout.read()
    return process.returncode if process.returncode is not None else -1
