"""A test-side MQTT client that records what arrives and waits for what a test expects."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from harness.mosquitto import Mosquitto

EXPECT_TIMEOUT_S = 10.0
"""A deadline against hangs, not a timing assertion."""


@dataclass(frozen=True)
class Msg:
    topic: str
    payload: bytes
    retain: bool
    properties: Properties | None

    def json(self) -> Any:
        return json.loads(self.payload)

    @property
    def correlation_data(self) -> bytes | None:
        value = getattr(self.properties, "CorrelationData", None)
        return bytes(value) if value is not None else None


class Watcher:
    """Records every message; :meth:`expect` returns (and consumes) the first that matches."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.pending: list[Msg] = []
        self.all: list[Msg] = []

    async def expect(
        self,
        topic: str,
        match: Callable[[Msg], bool] | None = None,
        *,
        within: float = EXPECT_TIMEOUT_S,
    ) -> Msg:
        def ok(m: Msg) -> bool:
            return m.topic == topic and (match is None or match(m))

        for i, m in enumerate(self.pending):
            if ok(m):
                return self.pending.pop(i)
        try:
            async with asyncio.timeout(within):
                async for message in self.client.messages:
                    m = _convert(message)
                    self.all.append(m)
                    if ok(m):
                        return m
                    self.pending.append(m)
        except TimeoutError:
            seen = "\n".join(f"  {m.topic} {m.payload[:200]!r}" for m in self.all)
            raise AssertionError(f"no message on {topic} matched; seen:\n{seen}") from None
        raise AssertionError("message stream ended")

    async def expect_json(
        self, topic: str, match: Callable[[Any], bool] | None = None, **kw: Any
    ) -> Any:
        m = await self.expect(topic, lambda m: match is None or match(m.json()), **kw)
        return m.json()

    def drain_pending(self, topic: str) -> list[Msg]:
        """Take every already-received message on ``topic`` (no waiting)."""
        taken = [m for m in self.pending if m.topic == topic]
        self.pending = [m for m in self.pending if m.topic != topic]
        return taken

    async def publish(
        self,
        topic: str,
        payload: bytes | str,
        *,
        qos: int = 1,
        retain: bool = False,
        response_topic: str | None = None,
        correlation: bytes | None = None,
        expiry_s: int | None = None,
    ) -> None:
        props = None
        if response_topic is not None or correlation is not None or expiry_s is not None:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            if response_topic is not None:
                props.ResponseTopic = response_topic
            if correlation is not None:
                props.CorrelationData = correlation
            if expiry_s is not None:
                props.MessageExpiryInterval = expiry_s
        await self.client.publish(topic, payload, qos=qos, retain=retain, properties=props)


def _convert(message: aiomqtt.Message) -> Msg:
    payload = message.payload if isinstance(message.payload, bytes) else b""
    return Msg(message.topic.value, payload, bool(message.retain), message.properties)


_ids = iter(range(1_000_000))


@asynccontextmanager
async def watcher(
    broker: Mosquitto,
    *topics: str,
    username: str | None = None,
    password: str | None = None,
    protocol: aiomqtt.ProtocolVersion = aiomqtt.ProtocolVersion.V5,
    tls_params: aiomqtt.TLSParameters | None = None,
    connect_deadline_s: float | None = None,
) -> AsyncIterator[Watcher]:
    """A client subscribed to ``topics`` (QoS 1)."""
    async with aiomqtt.Client(
        broker.host,
        broker.port,
        identifier=f"watcher-{next(_ids)}",
        protocol=protocol,
        username=username,
        password=password,
        tls_params=tls_params,
        timeout=connect_deadline_s,
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    ) as client:
        for topic in topics:
            await client.subscribe(topic, qos=1)
        yield Watcher(client)
