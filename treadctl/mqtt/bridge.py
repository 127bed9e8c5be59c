"""The MQTT bridge: the aiomqtt adapter between a broker and the daemon.

It turns command messages into :class:`Request` values (a device id, a
:class:`~treadctl.commands.Command` and where to reply) and publishes what the daemon hands it.
It never touches the BLE link or the control layer.

Usage (the daemon is the only composition root)::

    async with MqttBridge(settings, devices=[BridgeDevice("tm1", "Treadmill")]) as bridge:
        await bridge.set_availability("tm1", True)
        async for request in bridge.requests():
            result = await handle(request.device, request.command)   # arming, governor, ...
            await request.reply(result)

Emergency stops are delivered ahead of everything else, also while the device's link is down:
by :meth:`MqttBridge.emergency_requests` when someone iterates it (a dedicated task in the
daemon), otherwise first in :meth:`MqttBridge.requests`.

Connection: a **new** ``aiomqtt.Client`` per attempt (a re-entered client was seen reporting
"connected" without a CONNACK after an unexpected disconnect, aiomqtt #288/#369), with backoff;
``TCP_NODELAY`` on the socket; the will ``<prefix>/bridge/state = offline`` (retained); a clean
session each time, so the broker keeps nothing for us while we are away and no command is ever
replayed; on every (re)connect: subscribe, then re-publish discovery, bridge state,
availability, state and profiles. On a clean exit: device availability and bridge ``offline``.

Safety: retained command messages are ignored; commands past their MQTT v5 message expiry, older
than ``max_command_age_s`` (``timestamp`` field) or waiting longer than that in the bridge are
refused with ``expired``/``too_old``; a command for a device whose link is down is answered
``link_down`` at once (and queued requests are refused the moment the link goes down): nothing
waits for a reconnect. A repeated ``transaction`` gets the first answer again, never a second
execution.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import socket
import ssl
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import aiomqtt
import structlog
from paho.mqtt import client as paho_client
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from treadctl import __version__
from treadctl.commands import Command as CommandValue
from treadctl.commands import CommandResult, EmergencyStop, ErrorCode
from treadctl.control.port import Reading
from treadctl.errors import LocalProtocolError
from treadctl.mqtt.backoff import backoff_delay
from treadctl.mqtt.discovery import Origin, discovery_payload
from treadctl.mqtt.outbound import (
    BridgeEvent,
    DeviceState,
    ProfileSummary,
    TelemetryThrottle,
    dumps,
    event_json,
    profiles_json,
    state_json,
    telemetry_json,
)
from treadctl.mqtt.requests import (
    Accepted,
    Ignored,
    Inbound,
    Rejected,
    ReplyTo,
    encode_reply,
    interpret,
)
from treadctl.mqtt.settings import MqttSettings
from treadctl.mqtt.topics import Topics, check_device_id
from treadctl.mqtt.transactions import Answered, Conflict, InFlight, TransactionCache

log = structlog.get_logger("treadctl.mqtt")

ONLINE = b"online"
OFFLINE = b"offline"
STREAM_LIMIT = 512
"""Non-retained messages (replies, events, telemetry) held while waiting for the broker."""
INCOMING_LIMIT = 1024
GOODBYE_TIMEOUT_S = 5.0


class UnknownDeviceError(LocalProtocolError):
    """The daemon named a device the bridge was not configured with."""

    def __init__(self, device: str) -> None:
        self.device = device
        super().__init__(f"unknown device {device!r}")


class AlreadyRepliedError(LocalProtocolError):
    """A request was answered twice."""


@dataclass(frozen=True, slots=True)
class BridgeDevice:
    """A configured treadmill: ``id`` appears in topics (``[A-Za-z0-9_-]``), ``name`` in HA."""

    id: str
    name: str

    def __post_init__(self) -> None:
        check_device_id(self.id)


class Request:
    """One command for the daemon. Answer it exactly once with :meth:`reply`."""

    __slots__ = (
        "_bridge",
        "_replied",
        "command",
        "deadline",
        "received_at",
        "reply_to",
        "stale_code",
    )

    def __init__(
        self, bridge: MqttBridge, accepted: Accepted, received_at: float, deadline: float
    ) -> None:
        self._bridge = bridge
        self._replied = False
        self.command: CommandValue = accepted.command
        self.reply_to: ReplyTo = accepted.reply_to
        self.received_at = received_at
        """Monotonic time of arrival."""
        self.deadline = deadline
        self.stale_code: ErrorCode = accepted.stale_code
        """``expired`` or ``too_old``: the code to refuse with once past the deadline."""
        """Monotonic time after which the bridge would have refused it as stale."""

    @property
    def device(self) -> str:
        return self.reply_to.device

    @property
    def replied(self) -> bool:
        return self._replied

    def stale(self, now: float | None = None) -> bool:
        """Past its deadline (on the bridge's clock): the daemon should refuse it, not run it."""
        return (self._bridge._clock() if now is None else now) > self.deadline

    async def reply(self, result: CommandResult) -> None:
        """Publish the result (to ``response/<command>`` and the v5 Response Topic)."""
        if self._replied:
            raise AlreadyRepliedError(f"request {self.reply_to} was already answered")
        self._replied = True
        self._bridge._finish(self.reply_to, result)

    def __repr__(self) -> str:
        return f"Request({self.device!r}, {self.command!r}, tx={self.reply_to.transaction!r})"


class _Closing(Exception):
    """Raised inside a connection's task group to end it cleanly."""


@dataclass(slots=True)
class _Outgoing:
    topic: str
    payload: bytes
    qos: int
    properties: Properties | None = None


class MqttBridge:
    """Async context manager; see the module docstring.

    ``removed_devices``: ids of devices that were configured before and are not any more; their
    discovery, state, availability and profiles topics are cleared (empty retained payloads).
    ``clock``/``wall_clock``/``rng`` are for tests.
    """

    def __init__(
        self,
        settings: MqttSettings,
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
        self._topics = Topics(settings.prefix, settings.discovery_prefix)
        self._devices = {d.id: d for d in devices}
        self._removed = [check_device_id(d) for d in removed_devices if d not in self._devices]
        self._origin = origin or Origin("treadctl", __version__, settings.origin_url)
        self._clock = clock
        self._wall = wall_clock
        self._rng = rng or random.Random()
        self._limits = settings.limits
        self._v5 = settings.protocol == "5"

        self._link: dict[str, bool] = dict.fromkeys(self._devices, False)
        self._states: dict[str, DeviceState] = {d: DeviceState() for d in self._devices}
        self._profiles: dict[str, list[ProfileSummary]] = {d: [] for d in self._devices}
        self._throttles = {
            d: TelemetryThrottle(settings.telemetry_interval_s) for d in self._devices
        }
        self._retained: dict[str, bytes] = {}
        self._dirty: set[str] = set()
        self._stream: deque[_Outgoing] = deque()
        self._wake = asyncio.Event()
        self._birth = asyncio.Event()
        self._closing = asyncio.Event()
        self._connected = asyncio.Event()
        self._client: aiomqtt.Client | None = None
        self.connections = 0
        """How many times the bridge has connected (for logs and tests)."""

        self._normal: deque[Request] = deque()
        self._urgent: deque[Request] = deque()
        self._waiters: set[asyncio.Event] = set()
        self._emergency_consumers = 0
        self._transactions: TransactionCache[ReplyTo] = TransactionCache(settings.transaction_cache)
        self._tg: asyncio.TaskGroup | None = None
        self._supervisor: asyncio.Task[None] | None = None

        for device in self._devices:
            self._set_retained(self._topics.availability(device), OFFLINE)
            self._render_state(device)
            self._render_discovery(device)
        self._set_retained(self._topics.bridge_state, ONLINE)
        for device in self._removed:
            for topic in self._device_topics(device):
                self._set_retained(topic, b"")

    # --- lifecycle -------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._tg is not None:
            raise LocalProtocolError("MqttBridge is not reusable")
        self._tg = asyncio.TaskGroup()
        await self._tg.__aenter__()
        self._supervisor = self._tg.create_task(self._supervise(), name="mqtt-bridge")
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
        while self._normal or self._urgent:
            queue = self._urgent if self._urgent else self._normal
            self._refuse(queue.popleft(), ErrorCode.REFUSED, "treadctl is shutting down")
        self._wake.set()
        self._wake_requests()
        if self._tg is not None:
            await self._tg.__aexit__(None, None, None)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self) -> None:
        """Until the bridge is connected and has subscribed (it may drop again at any time)."""
        await self._connected.wait()

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
                request = self._pop(urgent=urgent or self._emergency_consumers == 0, normal=normal)
                if request is None:
                    await wake.wait()
                    continue
                yield request
        finally:
            self._waiters.discard(wake)

    def _pop(self, *, urgent: bool, normal: bool) -> Request | None:
        while True:
            if urgent and self._urgent:
                return self._urgent.popleft()
            if not (normal and self._normal):
                return None
            request = self._normal.popleft()
            # Re-checked at hand-over: the request may have waited while the daemon was busy.
            if request.stale():
                self._refuse(request, request.stale_code, "too old to act on; not executed")
            elif not self._link[request.device]:
                self._refuse(request, ErrorCode.LINK_DOWN, "the treadmill link is down")
            else:
                return request

    def _refuse(self, request: Request, code: ErrorCode, message: str) -> None:
        request._replied = True
        log.warning("mqtt command refused", device=request.device, code=code, reason=message)
        self._finish(request.reply_to, CommandResult.failure(code, message))

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
        self._states[device] = state
        self._render_state(device)
        self._render_discovery(device)
        self._wake.set()

    async def publish_profiles(self, device: str, profiles: Sequence[ProfileSummary]) -> None:
        self._check(device)
        self._profiles[device] = list(profiles)
        self._set_retained(self._topics.profiles(device), dumps(profiles_json(profiles)))
        self._render_discovery(device)
        self._wake.set()

    async def set_availability(self, device: str, up: bool) -> None:
        """The treadmill link is up or down. Down refuses every queued request at once."""
        self._check(device)
        self._link[device] = up
        self._set_retained(self._topics.availability(device), ONLINE if up else OFFLINE)
        self._render_state(device)
        if not up:
            kept: deque[Request] = deque()
            while self._normal:
                request = self._normal.popleft()
                if request.device == device:
                    self._refuse(request, ErrorCode.LINK_DOWN, "the treadmill link went down")
                else:
                    kept.append(request)
            self._normal = kept
        self._wake.set()

    async def publish_telemetry(self, device: str, reading: Reading) -> None:
        """One merged Treadmill Data record; rate limited; dropped while disconnected."""
        self._check(device)
        if self._client is None or not self._throttles[device].admit(self._clock()):
            return
        payload = dumps(telemetry_json(reading, wall_time=self._wall()))
        self._send(_Outgoing(self._topics.telemetry(device), payload, 0))

    async def publish_event(self, device: str, event: BridgeEvent) -> None:
        """A notable event (not retained; held while disconnected, up to a bound)."""
        self._check(device)
        payload = dumps(event_json(event, wall_time=self._wall()))
        self._send(_Outgoing(self._topics.event(device), payload, 1))

    # --- internals: retained topics ------------------------------------------------------------

    def _device_topics(self, device: str) -> list[str]:
        t = self._topics
        return [t.discovery(device), t.availability(device), t.state(device), t.profiles(device)]

    def _set_retained(self, topic: str, payload: bytes) -> None:
        if self._retained.get(topic) != payload:
            self._retained[topic] = payload
            self._dirty.add(topic)

    def _render_state(self, device: str) -> None:
        body = state_json(self._states[device], link=self._link[device])
        self._set_retained(self._topics.state(device), dumps(body))

    def _render_discovery(self, device: str) -> None:
        if not self._settings.discovery:
            return
        body = discovery_payload(
            topics=self._topics,
            device=device,
            device_name=self._devices[device].name,
            state=self._states[device],
            profiles=self._profiles[device],
            origin=self._origin,
        )
        self._set_retained(self._topics.discovery(device), dumps(body))

    def _retained_order(self) -> list[str]:
        """Publication order: removals, discovery, bridge, availability, state, profiles."""
        t = self._topics
        order: list[str] = []
        for device in self._removed:
            order += self._device_topics(device)
        order += [t.discovery(d) for d in self._devices]
        order.append(t.bridge_state)
        order += [t.availability(d) for d in self._devices]
        order += [t.state(d) for d in self._devices]
        order += [t.profiles(d) for d in self._devices]
        return order

    def _send(self, item: _Outgoing) -> None:
        if len(self._stream) >= STREAM_LIMIT:
            dropped = self._stream.popleft()
            log.warning("mqtt outgoing queue full, dropping oldest", topic=dropped.topic)
        self._stream.append(item)
        self._wake.set()

    # --- internals: replies -------------------------------------------------------------------

    def _finish(self, reply_to: ReplyTo, result: CommandResult) -> None:
        self._reply(reply_to, result)
        if reply_to.transaction is not None:
            for waiting in self._transactions.finish(reply_to.device, reply_to.transaction, result):
                self._reply(waiting, result)

    def _reply(self, reply_to: ReplyTo, result: CommandResult) -> None:
        try:
            payload = encode_reply(result, reply_to.transaction)
        except (TypeError, ValueError) as exc:
            log.error("mqtt reply not serialisable", error=str(exc), reply_to=str(reply_to))
            payload = encode_reply(
                CommandResult.failure(ErrorCode.INTERNAL, "result could not be encoded"),
                reply_to.transaction,
            )
        self._send(_Outgoing(self._topics.response(reply_to.device, reply_to.command), payload, 1))
        if reply_to.response_topic is not None and self._v5:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            if reply_to.correlation_data is not None:
                props.CorrelationData = reply_to.correlation_data
            self._send(_Outgoing(reply_to.response_topic, payload, 1, props))

    # --- internals: incoming ------------------------------------------------------------------

    def _on_message(self, message: aiomqtt.Message) -> None:
        topic = message.topic.value
        payload = message.payload if isinstance(message.payload, bytes) else b""
        if topic == self._topics.ha_status:
            if payload == ONLINE and not message.retain:
                log.info("home assistant online, re-publishing discovery soon")
                self._birth.set()
            return
        props = message.properties
        expiry = getattr(props, "MessageExpiryInterval", None) if props is not None else None
        response_topic = getattr(props, "ResponseTopic", None) if props is not None else None
        correlation = getattr(props, "CorrelationData", None) if props is not None else None
        inbound = Inbound(
            topic=topic,
            payload=payload,
            retain=bool(message.retain),
            expiry_s=float(expiry) if expiry is not None else None,
            response_topic=response_topic if isinstance(response_topic, str) else None,
            correlation_data=bytes(correlation) if correlation is not None else None,
        )
        self._on_command(inbound)

    def _on_command(self, inbound: Inbound) -> None:
        now = self._clock()
        outcome = interpret(
            inbound,
            topics=self._topics,
            devices=self._devices,
            limits=self._limits,
            wall_now=self._wall(),
        )
        if isinstance(outcome, Ignored):
            log.warning("mqtt message ignored", topic=inbound.topic, reason=outcome.reason)
            return
        if isinstance(outcome, Rejected):
            error = outcome.result.error
            log.warning(
                "mqtt command rejected",
                topic=inbound.topic,
                code=error.code if error else None,
                reason=error.message if error else None,
            )
            if outcome.reply_to is not None:
                self._reply(outcome.reply_to, outcome.result)
            return
        reply_to = outcome.reply_to
        if reply_to.transaction is not None:
            seen = self._transactions.begin(
                reply_to.device, reply_to.transaction, outcome.command, reply_to
            )
            if isinstance(seen, Answered):
                log.info("mqtt duplicate transaction answered", tx=reply_to.transaction)
                self._reply(reply_to, seen.result)
                return
            if isinstance(seen, InFlight):
                log.info("mqtt duplicate transaction joins the running one")
                return
            if isinstance(seen, Conflict):
                self._reply(
                    reply_to,
                    CommandResult.failure(
                        ErrorCode.TRANSACTION_CONFLICT,
                        f"transaction {reply_to.transaction!r} was used for another command",
                    ),
                )
                return
        request = Request(self, outcome, now, now + outcome.max_wait_s)
        if isinstance(outcome.command, EmergencyStop):
            # Ahead of everything, and also while the link is down: the daemon decides.
            self._urgent.append(request)
        elif not self._link[reply_to.device]:
            self._refuse(request, ErrorCode.LINK_DOWN, "the treadmill link is down")
            return
        elif len(self._normal) >= self._settings.max_pending_requests:
            self._refuse(request, ErrorCode.BUSY, "too many commands waiting")
            return
        else:
            self._normal.append(request)
        log.info("mqtt command", device=request.device, command=repr(request.command))
        self._wake_requests()

    # --- internals: connection ----------------------------------------------------------------

    def _new_client(self) -> aiomqtt.Client:
        s = self._settings
        tls_params = None
        tls_insecure = None
        if s.tls is not None:
            tls_params = aiomqtt.TLSParameters(
                ca_certs=str(s.tls.ca_file) if s.tls.ca_file else None,
                certfile=str(s.tls.cert_file) if s.tls.cert_file else None,
                keyfile=str(s.tls.key_file) if s.tls.key_file else None,
                cert_reqs=ssl.CERT_REQUIRED,
            )
            tls_insecure = s.tls.insecure
        return aiomqtt.Client(
            s.host,
            s.port,
            username=s.username,
            password=s.password.get_secret_value() if s.password is not None else None,
            identifier=s.client_id,
            protocol=aiomqtt.ProtocolVersion.V5 if self._v5 else aiomqtt.ProtocolVersion.V311,
            will=aiomqtt.Will(self._topics.bridge_state, OFFLINE, qos=1, retain=True),
            # A clean session every time: the broker must not keep commands for us while we
            # are away (they would replay on reconnect).
            clean_session=None if self._v5 else True,
            clean_start=True if self._v5 else paho_client.MQTT_CLEAN_START_FIRST_ONLY,
            keepalive=s.keepalive_s,
            timeout=s.connect_timeout_s,
            tls_params=tls_params,
            tls_insecure=tls_insecure,
            max_queued_incoming_messages=INCOMING_LIMIT,
            # Nagle + delayed ACK made request/response round trips 88 ms instead of 1 ms
            # (docs/references.md#mqtt-aiomqtt, measured with set_tcp_nodelay on the broker too).
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        )

    async def _supervise(self) -> None:
        attempt = 0
        while not self._closing.is_set():
            client = self._new_client()
            was_connected = self.connections
            try:
                async with client:
                    await self._serve(client)
            except* aiomqtt.MqttError as group:
                log.warning(
                    "mqtt connection lost"
                    if self.connections > was_connected
                    else "mqtt connect failed",
                    host=self._settings.host,
                    port=self._settings.port,
                    error="; ".join(str(e) for e in group.exceptions),
                )
            finally:
                self._client = None
                self._connected.clear()
            if self.connections > was_connected:
                attempt = 0
            if self._closing.is_set():
                break
            delay = backoff_delay(
                attempt,
                initial_s=self._settings.backoff_initial_s,
                maximum_s=max(self._settings.backoff_max_s, self._settings.backoff_initial_s),
                jitter=self._rng.random(),
            )
            attempt += 1
            await self._wait_closing(delay)

    async def _wait_closing(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._closing.wait()

    async def _serve(self, client: aiomqtt.Client) -> None:
        t = self._topics
        patterns = list(t.command_subscriptions)
        if self._settings.discovery:
            patterns.append(t.ha_status)
        codes: Sequence[object]
        if self._v5:
            # MQTT v5: never send us retained commands, and keep the retain flag as published
            # so that a retained command published while we are connected is recognised too.
            command_options = SubscribeOptions(
                qos=1,
                noLocal=True,
                retainAsPublished=True,
                retainHandling=SubscribeOptions.RETAIN_DO_NOT_SEND,
            )
            codes = await client.subscribe(
                [
                    (p, command_options if p in t.command_subscriptions else SubscribeOptions(1))
                    for p in patterns
                ]
            )
        else:
            # MQTT 3.1.1 has no such options: retained copies arrive flagged and are dropped.
            codes = await client.subscribe([(p, 1) for p in patterns])
        refused = [p for p, c in zip(patterns, codes, strict=False) if _refused(c)]
        if refused:
            log.error("mqtt subscriptions refused (broker ACL?)", topics=refused)
        self._client = client
        self.connections += 1
        self._dirty.update(self._retained)
        self._wake.set()
        self._connected.set()
        log.info("mqtt connected", host=self._settings.host, connections=self.connections)
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._read(client))
                tg.create_task(self._write(client))
                tg.create_task(self._republish_after_birth())
                await self._closing.wait()
                raise _Closing
        except* _Closing:
            pass
        # Clean exit: say so (the will only fires on an unexpected disconnect).
        self._client = None
        self._connected.clear()
        for device in self._devices:
            self._set_retained(t.availability(device), OFFLINE)
        self._set_retained(t.bridge_state, OFFLINE)
        try:
            async with asyncio.timeout(GOODBYE_TIMEOUT_S):
                await self._flush(client)
        except TimeoutError:
            log.warning("mqtt goodbye not acknowledged in time")
        else:
            log.info("mqtt bridge offline")

    async def _read(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            try:
                self._on_message(message)
            except Exception:  # a bad message must not stop the bridge
                log.exception("mqtt message handling failed", topic=message.topic.value)

    async def _write(self, client: aiomqtt.Client) -> None:
        while not self._closing.is_set():
            await self._wake.wait()
            self._wake.clear()
            if self._closing.is_set():
                return
            await self._flush(client)

    async def _flush(self, client: aiomqtt.Client) -> None:
        # timeout=math.inf: aiomqtt then awaits the acknowledgement directly instead of through
        # asyncio.wait_for, which on Python 3.11 can swallow a cancellation that arrives as the
        # acknowledgement does (the task group could then never finish). A lost connection ends
        # the wait through the reader's error and the task group's cancellation; the goodbye
        # flush has its own deadline.
        for topic in self._retained_order():
            if topic not in self._dirty:
                continue
            self._dirty.discard(topic)
            try:
                await client.publish(
                    topic, self._retained[topic], qos=1, retain=True, timeout=math.inf
                )
            except BaseException:
                self._dirty.add(topic)
                raise
        while self._stream:
            item = self._stream.popleft()
            try:
                await client.publish(
                    item.topic, item.payload, item.qos, False, item.properties, timeout=math.inf
                )
            except BaseException:
                self._stream.appendleft(item)
                raise

    async def _republish_after_birth(self) -> None:
        while True:
            await self._birth.wait()
            self._birth.clear()
            # Home Assistant asks for a short random delay so that not every device answers its
            # birth message at once (docs/references.md#ha-discovery).
            await self._wait_closing(self._rng.uniform(0, self._settings.birth_delay_max_s))
            if self._closing.is_set():
                return
            self._dirty.update(self._retained)
            self._wake.set()


def _refused(code: object) -> bool:
    value = getattr(code, "value", code)
    return isinstance(value, int) and value >= 0x80
