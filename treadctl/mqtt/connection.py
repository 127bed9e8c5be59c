"""The broker side of the MQTT bridge: one connection after the other, until closing.

A **new** ``aiomqtt.Client`` per attempt (a re-entered client was seen reporting "connected"
without a CONNACK after an unexpected disconnect, aiomqtt #288/#369), with backoff; on every
(re)connect: subscribe, then publish every retained topic again; then read (commands to the
bridge, Home Assistant's birth message here), write (the outbox's batches, when woken) and
re-publish after a birth, until closing; on a clean exit the goodbye (``offline``) is flushed
with a deadline. Decides nothing about commands or payloads (the inbox and outbox do).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable

import aiomqtt
import structlog

from treadctl.backoff import backoff_delay
from treadctl.config.mqtt import MqttConfig
from treadctl.mqtt.client import new_client, publish_batch, subscribe
from treadctl.mqtt.outbox import ONLINE, Outbox
from treadctl.mqtt.topics import Topics

log = structlog.get_logger("treadctl.mqtt")

GOODBYE_TIMEOUT_S = 5.0


class _Closing(Exception):
    """Raised inside a connection's task group to end it cleanly."""


class BrokerConnection:
    """See the module docstring. ``on_message`` gets every message but the birth message."""

    def __init__(
        self,
        settings: MqttConfig,
        topics: Topics,
        outbox: Outbox,
        on_message: Callable[[aiomqtt.Message], None],
        rng: random.Random,
    ) -> None:
        self._settings = settings
        self._topics = topics
        self._outbox = outbox
        self._on_message = on_message
        self._rng = rng
        self._dropped_logged = 0
        self.wake = asyncio.Event()
        """Set when the outbox has something to publish."""
        self.closing = asyncio.Event()
        """Set to end the connection (after the goodbye)."""
        self.connected = asyncio.Event()
        self.birth = asyncio.Event()
        self.client: aiomqtt.Client | None = None
        self.connections = 0
        """How many times a connection came up."""

    def _receive(self, message: aiomqtt.Message) -> None:
        if message.topic.value == self._topics.ha_status:
            if message.payload == ONLINE and not message.retain:
                log.info("home assistant online, re-publishing discovery soon")
                self.birth.set()
            return
        self._on_message(message)

    async def run(self) -> None:
        """Connect, serve, reconnect with backoff, until :attr:`closing` is set."""
        failures = 0  # consecutive, since the last connection that came up
        while not self.closing.is_set():
            client = new_client(self._settings, self._topics.bridge_state)
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
                self.client = None
                self.connected.clear()
            if self.connections > was_connected:
                failures = 0
            if self.closing.is_set():
                break
            failures += 1
            delay = backoff_delay(
                failures,
                initial_s=self._settings.backoff_initial_s,
                maximum_s=self._settings.backoff_max_s,
                jitter=self._rng.random(),
            )
            await self._wait_closing(delay)

    async def _wait_closing(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.closing.wait()

    async def _serve(self, client: aiomqtt.Client) -> None:
        refused = await subscribe(client, self._topics, self._settings)
        if refused:
            log.error("mqtt subscriptions refused (broker ACL?)", topics=refused)
        self.client = client
        self.connections += 1
        self._outbox.republish_all()
        self.wake.set()
        self.connected.set()
        log.info("mqtt connected", host=self._settings.host, connections=self.connections)
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._read(client))
                tg.create_task(self._write(client))
                tg.create_task(self._republish_after_birth())
                await self.closing.wait()
                raise _Closing
        except* _Closing:
            pass
        # Clean exit: say so (the will only fires on an unexpected disconnect).
        self.client = None
        self.connected.clear()
        self._outbox.offline()
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
                self._receive(message)
            except Exception:  # a bad message must not stop the bridge
                log.exception("mqtt message handling failed", topic=message.topic.value)

    async def _write(self, client: aiomqtt.Client) -> None:
        while not self.closing.is_set():
            await self.wake.wait()
            self.wake.clear()
            if self.closing.is_set():
                return
            await self._flush(client)

    async def _flush(self, client: aiomqtt.Client) -> None:
        batch = self._outbox.take()
        self._log_dropped()
        if batch:
            await publish_batch(client, batch, self._outbox.restore)

    def _log_dropped(self) -> None:
        if self._outbox.dropped > self._dropped_logged:
            log.warning(
                "mqtt outgoing queue full, dropped oldest",
                dropped=self._outbox.dropped - self._dropped_logged,
            )
            self._dropped_logged = self._outbox.dropped

    async def _republish_after_birth(self) -> None:
        while True:
            await self.birth.wait()
            self.birth.clear()
            # Home Assistant asks for a short random delay so that not every device answers its
            # birth message at once (docs/references.md#ha-discovery).
            await self._wait_closing(self._rng.uniform(0, self._settings.birth_delay_max_s))
            if self.closing.is_set():
                return
            self._outbox.republish_all()
            self.wake.set()
