"""The running simulator: model + clock + Bumble device + console/fault API.

``async with Simulator(link=LocalLink(), preset="generic") as sim:`` powers a Bumble device on
a virtual controller of ``link``, serves the FTMS service, advertises, and runs the machine
until the block ends. A test puts a client device on the same ``link``; other processes reach
it through ``expose=["tcp-server:127.0.0.1:0"]`` (one extra virtual controller per spec).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TextIO

from bumble import hci
from bumble.device import Connection, Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport import open_transport
from bumble.transport.common import AsyncPipeSink, Transport

from simulators.treadsim import wire
from simulators.treadsim.console_faults import ConsoleAndFaults
from simulators.treadsim.control_point import ControlPointServer
from simulators.treadsim.controller import SimController
from simulators.treadsim.gatt import (
    CCCD_NOTIFY,
    FtmsService,
    IndicationFaults,
    Outbox,
)
from simulators.treadsim.hci_server import SERVER_SCHEMES, HciServer
from simulators.treadsim.model import (
    BeltChanged,
    Event,
    TrainingChanged,
    Treadmill,
)
from simulators.treadsim.peripheral import Peripheral, advertise, link_controller, power_off
from simulators.treadsim.presets import Preset, load_preset
from simulators.treadsim.quirks import Quirk
from simulators.treadsim.state import ClientSession, SimState
from simulators.treadsim.strap import HeartRateStrap, StrapOptions
from simulators.treadsim.trace import Trace
from treadctl.clock import Clock, MonotonicClock
from treadctl.ftms import ResultCode

logger = logging.getLogger(__name__)

DEFAULT_ADDRESS = "F0:F1:F2:F3:F4:F5"
"""Static random address of the simulated treadmill (top bits 11: static, Core Vol 6 B §1.3)."""
ADVERTISING_INTERVAL_MS = (50.0, 60.0)
"""Fast advertising so discovery takes tens of milliseconds (issue 3: 20-100 ms). Bumble's
virtual controller sends one advertising event per minimum interval, each costing about 0.2 ms
of CPU: 50 ms keeps an idle simulator well under 1 % of a core (bench/bench_sim.py)."""
RADIO_SCHEMES = ("usb", "pyusb", "hci-socket", "serial")
"""HCI specs naming a real controller: the simulator's own device runs on it."""


class Simulator(ControlPointServer, ConsoleAndFaults, Peripheral):
    """An FTMS treadmill on Bumble. See the module docstring and docs/simulator.md."""

    def __init__(
        self,
        *,
        link: LocalLink | None = None,
        preset: Preset | str = "generic",
        quirks: Sequence[Quirk] = (),
        without_quirks: Sequence[Quirk] = (),
        speedup: float = 1.0,
        clock: Clock | None = None,
        address: str = DEFAULT_ADDRESS,
        name: str | None = None,
        walker: bool = False,
        trace: TextIO | None = None,
        expose: Sequence[str] = (),
        radio: str | None = None,
        strap: StrapOptions | None = None,
    ) -> None:
        base = load_preset(preset) if isinstance(preset, str) else preset
        self.preset = base.with_quirks(
            frozenset(Quirk(q) for q in quirks), frozenset(Quirk(q) for q in without_quirks)
        )
        self.clock: Clock = clock or MonotonicClock(speedup, start=0.0)
        self.link = link if link is not None else LocalLink()  # type: ignore[no-untyped-call]
        self.address = address
        self.name = name or self.preset.device_name
        self.trace = Trace(trace, self.clock)
        self.model = Treadmill(self.preset, now=self.clock.now(), walker=walker)
        self._expose = list(expose)
        self._radio = radio
        self.servers: list[HciServer] = []
        self.controllers: list[SimController] = []
        self.faults = IndicationFaults()
        self._answer_next: ResultCode | None = None
        self._notifying = True
        self._sessions: dict[int, ClientSession] = {}
        self._wake = asyncio.Event()
        self._changed = asyncio.Condition()
        self._stack = contextlib.AsyncExitStack()
        self._tasks: asyncio.TaskGroup | None = None
        self._owned: set[asyncio.Task[None]] = set()
        self._radio_transport: Transport | None = None
        self.device: Device | None = None
        self.gatt = FtmsService(self.preset, self._training_bytes, self._on_control_point)
        if strap is not None and radio is not None:
            raise ValueError("the heart-rate strap lives on the virtual link, not on a real radio")
        self._strap_options = strap
        self.strap: HeartRateStrap | None = None
        """The simulated heart-rate strap (a second peripheral on ``link``), if requested."""

    # ================================================================ lifecycle
    async def _start(self) -> None:
        if self._radio is not None:
            self._radio_transport = await open_transport(self._radio)
            self._stack.push_async_callback(self._radio_transport.close)
            source, sink = self._radio_transport.source, self._radio_transport.sink
            host = Host(controller_source=source, controller_sink=sink)
        else:
            own = link_controller(self._stack, self.link, "treadsim")
            self.controllers.append(own)
            host = Host(own, AsyncPipeSink(own))
        device = Device(name=self.name, address=hci.Address(self.address), host=host)
        self.device = device
        self.gatt.install(device)
        device.on(device.EVENT_CONNECTION, self._on_connection)
        self._watch_confirmations(device)
        # A client enabling Treadmill Data notifications starts the data stream at once.
        device.on("characteristic_subscription", lambda *_: self._kick())
        await device.power_on()
        self._stack.push_async_callback(self._power_off)
        for spec in self._expose:
            await self._expose_one(spec)
        self._tasks = await self._stack.enter_async_context(asyncio.TaskGroup())
        self._stack.callback(self._cancel_tasks)
        self._spawn(self._engine())
        await self._advertise()
        if self._strap_options is not None:
            self.strap = await self._stack.enter_async_context(
                HeartRateStrap(
                    link=self.link,
                    clock=self.clock,
                    trace=self.trace,
                    effort=self._effort,
                    changed=self._notify_changed,
                    options=self._strap_options,
                )
            )
        self.trace.record(
            "start",
            preset=self.preset.name,
            quirks=sorted(q.value for q in self.preset.quirks),
            address=self.address,
            name=self.name,
        )

    async def _expose_one(self, spec: str) -> None:
        scheme = spec.partition(":")[0]
        controller = link_controller(self._stack, self.link, f"hci{len(self.controllers)}")
        self.controllers.append(controller)
        if scheme in SERVER_SCHEMES:
            server = await self._stack.enter_async_context(HciServer(controller, spec))
            self.servers.append(server)
            return
        if scheme in RADIO_SCHEMES:
            raise ValueError(f"{spec}: a real controller is given with radio=, not expose=")
        # e.g. vhci: the other side (the kernel) is the host of this virtual controller.
        transport = await open_transport(spec)
        self._stack.push_async_callback(transport.close)
        transport.source.set_packet_sink(controller)
        controller.host = transport.sink

    async def _power_off(self) -> None:
        for session in list(self._sessions.values()):
            if session.task is not None:
                session.task.cancel()
        self._sessions.clear()
        await power_off(self.device)

    def _cancel_tasks(self) -> None:
        for task in list(self._owned):
            task.cancel()

    async def _advertise(self) -> None:
        assert self.device is not None
        adv, scan = wire.advertising_data(self.preset, self.name)
        await advertise(self.device, ADVERTISING_INTERVAL_MS, adv, scan)

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        assert self._tasks is not None
        task = self._tasks.create_task(coro)
        self._owned.add(task)
        task.add_done_callback(self._owned.discard)
        return task

    # ================================================================ engine
    async def _engine(self) -> None:
        """Advance the machine at its deadlines and send Treadmill Data at the data interval."""
        next_data: float | None = None
        while True:
            now = self.clock.now()
            self._dispatch(self.model.advance(now))
            if self._data_subscribers():
                if next_data is None or now >= next_data:
                    self._send_data()
                    interval = self._data_interval()
                    next_data = (
                        now + interval if next_data is None else max(next_data + interval, now)
                    )
            else:
                next_data = None
            await self._notify_changed()
            deadlines = [d for d in (self.model.next_deadline(), next_data) if d is not None]
            self._wake.clear()
            if not deadlines:
                await self._wake.wait()
                continue
            timeout = self.clock.wall(min(deadlines) - self.clock.now())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    def _data_interval(self) -> float:
        interval = self.preset.data_interval
        if Quirk.ZERO_FRAME_SPAM in self.preset.quirks and self.model.belt_speed == 0:
            return interval / 4
        return interval

    def _data_subscribers(self) -> list[ClientSession]:
        assert self.device is not None
        return [
            s
            for s in self._sessions.values()
            if FtmsService.cccd(self.device, s.connection, self.gatt.treadmill_data) & CCCD_NOTIFY
        ]

    def _send_data(self) -> None:
        if not self._notifying:
            return
        snap = self.model.snapshot()
        if self.strap is not None and snap.heart_rate:
            # Hands on the grips of a moving belt: the same heart as the strap's.
            snap = replace(snap, heart_rate=min(254, round(self.strap.heart.exact_bpm)))
        for session in self._data_subscribers():
            mtu = session.connection.att_mtu
            for frame in wire.treadmill_data_frames(self.preset, snap, mtu):
                session.outbox.notify(self.gatt.treadmill_data, frame)

    def _dispatch(self, events: Sequence[Event]) -> None:
        """Machine events to notifications (every session) and trace records."""
        for event in events:
            if isinstance(event, BeltChanged):
                self.trace.record("belt", speed=event.speed, target=event.target)
                continue
            if isinstance(event, TrainingChanged):
                characteristic, value = (
                    self.gatt.training,
                    wire.training_status(self.preset, event.status),
                )
            else:
                characteristic = self.gatt.machine_status
                value = wire.machine_status(self.preset, event)
            for session in self._sessions.values():
                session.outbox.notify(characteristic, value)

    async def _notify_changed(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _kick(self) -> None:
        self._wake.set()

    def _effort(self) -> tuple[int, int, bool]:
        """What the walker's heart sees: belt speed, incline, someone on the belt."""
        return self.model.belt_speed, self.model.incline, self.model.walker

    def _training_bytes(self) -> bytes:
        return wire.training_status(self.preset, self.model.training)

    # ================================================================ connections
    def _on_connection(self, connection: Connection) -> None:
        assert self.device is not None
        if connection.role != hci.Role.PERIPHERAL:
            return
        outbox = Outbox(
            self.device, connection, self.faults, lambda: self._procedure_done(connection)
        )
        session = ClientSession(connection, outbox)
        self._sessions[connection.handle] = session
        session.task = self._spawn(outbox.run())
        peer = str(connection.peer_address)
        self.trace.record("connection", event="connected", peer=peer)
        logger.info("client %s connected", peer)

        def on_disconnection(reason: int) -> None:
            self._on_disconnection(connection, reason)

        connection.on(connection.EVENT_DISCONNECTION, on_disconnection)
        self._kick()

    def _on_disconnection(self, connection: Connection, reason: int) -> None:
        session = self._sessions.pop(connection.handle, None)
        if session is not None and session.task is not None:
            session.task.cancel()
        self._dispatch(self.model.client_left(self.clock.now(), connection))
        peer = str(connection.peer_address)
        self.trace.record("connection", event="disconnected", peer=peer, reason=reason)
        logger.info("client %s disconnected (0x%02x)", peer, reason)
        self._kick()

    def _watch_confirmations(self, device: Device) -> None:
        """End the procedure the moment the client's Handle Value Confirmation arrives.

        The outbox task only resumes a loop iteration later; a client's next write, handled
        in between, must not see the finished procedure as still pending (0xFE).
        """
        server = device.gatt_server
        original = server.on_att_handle_value_confirmation

        def on_confirmation(bearer: Any, confirmation: Any) -> None:
            original(bearer, confirmation)
            session = self._sessions.get(getattr(bearer, "handle", -1))
            if session is not None and session.connection is bearer:
                session.procedure_pending = False

        server.on_att_handle_value_confirmation = on_confirmation  # type: ignore[method-assign]

    def _procedure_done(self, connection: Connection) -> None:
        session = self._sessions.get(connection.handle)
        if session is not None and session.connection is connection:
            session.procedure_pending = False

    # ================================================================ observation
    def state(self) -> SimState:
        """The machine and link as they are now."""
        session = next(iter(self._sessions.values()), None)
        return SimState(
            machine=self.model.snapshot(),
            connected=session is not None,
            peer=str(session.connection.peer_address) if session else None,
            notifying=self._notifying,
            procedure_pending=bool(session and session.procedure_pending),
            strap=self.strap.state() if self.strap is not None else None,
        )

    async def wait_for(self, predicate: Callable[[SimState], bool]) -> SimState:
        """Wait until ``predicate(state)`` holds (checked at every change; wrap in a timeout)."""
        async with self._changed:
            while not predicate(state := self.state()):
                await self._changed.wait()
            return state
