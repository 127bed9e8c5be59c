"""The MQTT bridge: the aiomqtt adapter between a broker and the daemon.

It turns command messages into :class:`Request` values (a device id, a
:class:`~treadctl.commands.Command` and where to reply) and publishes what the daemon hands it.
It never touches the BLE link or the control layer. The decisions are made by two pure parts:
:class:`~treadctl.mqtt.inbox.Inbox` (which command runs, which is refused, duplicates) and
:class:`~treadctl.mqtt.outbox.Outbox` (what to publish, in which order); this module only moves
bytes between them and the broker.

Usage (the daemon is the only composition root)::

    async with MqttBridge(settings, devices=[BridgeDevice("tm1", "Treadmill")]) as bridge:
        await bridge.set_availability("tm1", True)
        async for request in bridge.requests():
            result = await handle(request.device, request.command)   # arming, governor, ...
            await request.reply(result)

Emergency stops are delivered ahead of everything else, also while the device's link is down:
by :meth:`MqttBridge.emergency_requests` when someone iterates it (a dedicated task in the
daemon), otherwise first in :meth:`MqttBridge.requests`.

Connection (:mod:`treadctl.mqtt.connection`): a **new** ``aiomqtt.Client`` per attempt, with
backoff; ``TCP_NODELAY`` on the socket; the will ``<prefix>/bridge/state = offline``
(retained); a clean session each time, so the broker keeps nothing for us while we are away and
no command is ever replayed; on every (re)connect: subscribe, then re-publish discovery, bridge
state, availability, state and profiles. On a clean exit: device availability and bridge
``offline``.

Publishing: each flush issues its QoS 1 publishes in order (replies first, then the retained
topics, then events and telemetry) and then awaits their acknowledgements together, so one
broker round trip covers a whole flush; whatever is not acknowledged is sent again after a
reconnect.

Which commands run and which are refused (retained, expired, too old, link down, busy,
duplicate transactions) is the inbox's decision, see :mod:`treadctl.mqtt.inbox`.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import aiomqtt
import structlog

from treadctl import __version__
from treadctl.commands import JsonValue
from treadctl.config.mqtt import MqttConfig
from treadctl.errors import LocalProtocolError
from treadctl.mqtt.client import inbound_message
from treadctl.mqtt.connection import BrokerConnection
from treadctl.mqtt.discovery import Origin
from treadctl.mqtt.inbox import (
    AlreadyRepliedError,
    Answered,
    Dropped,
    Inbox,
    Joined,
    Queued,
    Reply,
    Request,
)
from treadctl.mqtt.outbound import BridgeEvent, DeviceState, ProfileSummary
from treadctl.mqtt.outbox import Outbox, OutboxDevice
from treadctl.mqtt.requests import Limits
from treadctl.mqtt.topics import Topics, check_device_id
from treadctl.observations import DeviceInfo, Reading

__all__ = ["AlreadyRepliedError", "BridgeDevice", "MqttBridge", "Request", "UnknownDeviceError"]

log = structlog.get_logger("treadctl.mqtt")

GOODBYE_TIMEOUT_S = 5.0


class UnknownDeviceError(LocalProtocolError):
    """The daemon named a device the bridge was not configured with."""

    def __init__(self, device: str) -> None:
        self.device = device
        super().__init__(f"unknown device {device!r}")


@dataclass(frozen=True, slots=True)
class BridgeDevice:
    """A configured treadmill: ``id`` appears in topics (``[A-Za-z0-9_-]``), ``name`` in HA;
    ``info``: its last known device info (kept in the state directory by the daemon), used by
    the discovery until the treadmill is seen in this run."""

    id: str
    name: str
    info: DeviceInfo | None = None

    def __post_init__(self) -> None:
        check_device_id(self.id)


class MqttBridge:
    """Async context manager; see the module docstring.

    ``removed_devices``: ids of devices that were configured before and are not any more; their
    discovery, state, availability and profiles topics are cleared (empty retained payloads).
    ``clock``/``wall_clock``/``rng`` are for tests.
    """

    def __init__(
        self,
        settings: MqttConfig,
        devices: Sequence[BridgeDevice],
        *,
        removed_devices: Sequence[str] = (),
        origin: Origin | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        if not devices:
            raise ValueError("the bridge needs at least one device")
        ids = [d.id for d in devices]
        if len(set(ids)) != len(ids):
            raise ValueError(f"device ids must be unique: {ids}")
        self._settings = settings
        self._topics = Topics(
            settings.topic_prefix, settings.discovery_prefix, settings.birth_topic
        )
        self._devices = {d.id: d for d in devices}
        self._clock = clock
        self._wall = wall_clock
        self._rng = rng or random.Random()
        self._v5 = settings.protocol == "5"
        self._outbox = Outbox(
            self._topics,
            [OutboxDevice(d.id, d.name, d.info) for d in devices],
            removed=[check_device_id(d) for d in removed_devices if d not in self._devices],
            discovery=settings.discovery,
            origin=origin or Origin("treadctl", __version__, settings.origin_url),
            device_url=settings.device_url,
            telemetry_interval_s=settings.telemetry_min_interval_s,
            v5=self._v5,
        )
        self._inbox = Inbox(
            self._topics,
            self._devices,
            limits=Limits(
                max_payload_bytes=settings.max_payload_bytes,
                max_age_s=settings.command_max_age_s,
                max_clock_skew_s=settings.max_clock_skew_s,
            ),
            max_pending=settings.max_pending_requests,
            transaction_cache=settings.transaction_cache,
            clock=clock,
            on_reply=self._send_replies,
        )
        self._broker = BrokerConnection(
            settings, self._topics, self._outbox, self._on_message, self._rng
        )
        self._wake = self._broker.wake
        self._closing = self._broker.closing
        self._waiters: set[asyncio.Event] = set()
        self._emergency_consumers = 0
        self._tg: asyncio.TaskGroup | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._tg is not None:
            raise LocalProtocolError("MqttBridge is not reusable")
        self._tg = asyncio.TaskGroup()
        await self._tg.__aenter__()
        self._tg.create_task(self._broker.run(), name="mqtt-bridge")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Always the graceful path (offline published, clean disconnect), also when the body
        # failed or was cancelled: a cancelled client would disconnect cleanly *without* the
        # will, leaving "online" retained.
        self._closing.set()
        # Nothing waits for a next run: whatever the daemon did not take is refused now (the
        # replies go out with the goodbye when connected).
        self._send_replies(self._inbox.close())
        self._wake_requests()
        if self._tg is not None:
            await self._tg.__aexit__(None, None, None)

    @property
    def settings(self) -> MqttConfig:
        """The ``[mqtt]`` configuration the bridge runs with (as given, not a copy)."""
        return self._settings

    def known_info(self, device: str) -> DeviceInfo | None:
        """The last known device info of ``device`` (what the discovery shows)."""
        self._check(device)
        return self._outbox.known_info(device)

    @property
    def connected(self) -> bool:
        return self._broker.connected.is_set()

    @property
    def connections(self) -> int:
        """How many times the bridge has connected (for logs and tests)."""
        return self._broker.connections

    async def wait_connected(self) -> None:
        """Until the bridge is connected and has subscribed (it may drop again at any time)."""
        await self._broker.connected.wait()

    # --- requests ---------------------------------------------------------------------------------

    async def requests(self) -> AsyncGenerator[Request, None]:
        """Requests in arrival order, emergency stops first (unless
        :meth:`emergency_requests` is being iterated). Ends when the bridge closes."""
        async for request in self._iterate(urgent=False, normal=True):
            yield request

    async def emergency_requests(self) -> AsyncGenerator[Request, None]:
        """Only the emergency stops, for a dedicated task; ends when the bridge closes."""
        self._emergency_consumers += 1
        try:
            async for request in self._iterate(urgent=True, normal=False):
                yield request
        finally:
            self._emergency_consumers -= 1

    async def _iterate(self, *, urgent: bool, normal: bool) -> AsyncGenerator[Request, None]:
        wake = asyncio.Event()
        self._waiters.add(wake)
        try:
            while not self._closing.is_set():
                wake.clear()
                request, refusals = self._inbox.pop(
                    urgent=urgent or self._emergency_consumers == 0, normal=normal
                )
                self._send_replies(refusals)
                if request is None:
                    await wake.wait()
                    continue
                yield request
        finally:
            self._waiters.discard(wake)

    def _wake_requests(self) -> None:
        for wake in self._waiters:
            wake.set()

    # --- publishing (called by the daemon) -------------------------------------------------

    def _check(self, device: str) -> None:
        if device not in self._devices:
            raise UnknownDeviceError(device)

    async def publish_state(self, device: str, state: DeviceState) -> None:
        """Set the retained state (and the discovery, when ranges, caps or info changed)."""
        self._check(device)
        self._outbox.state(device, state)
        self._wake.set()

    async def publish_profiles(self, device: str, profiles: Sequence[ProfileSummary]) -> None:
        self._check(device)
        self._outbox.profiles(device, profiles)
        self._wake.set()

    async def publish_journey(self, device: str, body: dict[str, JsonValue]) -> None:
        """The retained journey summary (program stage, this week, next due, rating draft)."""
        self._check(device)
        self._outbox.journey(device, body)
        self._wake.set()

    async def set_availability(self, device: str, up: bool) -> None:
        """The treadmill link is up or down. Down refuses every queued request at once."""
        self._check(device)
        self._outbox.link(device, up)
        self._send_replies(self._inbox.link(device, up))
        self._wake.set()

    async def publish_telemetry(self, device: str, reading: Reading) -> None:
        """One merged Treadmill Data record; rate limited; dropped while disconnected."""
        self._check(device)
        if self._broker.client is None:
            return
        if self._outbox.telemetry(device, reading, now=self._clock(), wall_time=self._wall()):
            self._wake.set()

    async def publish_event(self, device: str, event: BridgeEvent) -> None:
        """A notable event (not retained; held while disconnected, up to a bound)."""
        self._check(device)
        self._outbox.event(device, event, wall_time=self._wall())
        self._wake.set()

    # --- internals: replies and incoming --------------------------------------------------------

    def _send_replies(self, replies: list[Reply]) -> None:
        for reply in replies:
            if reply.refusal is not None:
                error = reply.result.error
                log.warning(
                    "mqtt command refused",
                    device=reply.reply_to.device,
                    code=error.code if error else None,
                    reason=reply.refusal,
                )
            problem = self._outbox.reply(reply.reply_to, reply.result)
            if problem is not None:
                log.error(
                    "mqtt reply not serialisable", error=problem, reply_to=str(reply.reply_to)
                )
        if replies:
            self._wake.set()

    def _on_message(self, message: aiomqtt.Message) -> None:
        topic = message.topic.value
        receipt = self._inbox.receive(inbound_message(message), wall_now=self._wall())
        if isinstance(receipt, Dropped):
            log.warning("mqtt message ignored", topic=topic, reason=receipt.reason)
        elif isinstance(receipt, Joined):
            log.info("mqtt duplicate transaction joins the running one")
        elif isinstance(receipt, Answered):
            if receipt.replies and receipt.replies[0].refusal is None:
                log.info("mqtt duplicate transaction answered", topic=topic)
            self._send_replies(receipt.replies)
        elif isinstance(receipt, Queued):
            request = receipt.request
            log.info("mqtt command", device=request.device, command=repr(request.command))
            self._wake_requests()
