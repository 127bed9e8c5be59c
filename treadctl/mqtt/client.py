"""The aiomqtt/paho side of the bridge: the client, its subscriptions, message conversion.

Kept apart from :mod:`treadctl.mqtt.bridge` (the connection's life and the task structure) so
that each is short; neither decides anything (the inbox and outbox do).
"""

from __future__ import annotations

import asyncio
import math
import socket
import ssl
from collections.abc import Callable, Sequence

import aiomqtt
from paho.mqtt import client as paho_client
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from treadctl.config.mqtt import MqttConfig
from treadctl.mqtt.outbox import OFFLINE, Publication
from treadctl.mqtt.requests import Inbound
from treadctl.mqtt.topics import Topics

INCOMING_LIMIT = 1024
"""Incoming messages aiomqtt holds for the reader before it drops (and logs) them."""


def new_client(s: MqttConfig, will_topic: str) -> aiomqtt.Client:
    """A new client for one connection attempt (never re-entered: aiomqtt #288/#369)."""
    v5 = s.protocol == "5"
    tls_params = None
    tls_insecure = None
    if s.tls.enabled:
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
        identifier=s.client_identifier(),
        protocol=aiomqtt.ProtocolVersion.V5 if v5 else aiomqtt.ProtocolVersion.V311,
        will=aiomqtt.Will(will_topic, OFFLINE, qos=1, retain=True),
        # A clean session every time: the broker must not keep commands for us while we
        # are away (they would replay on reconnect).
        clean_session=None if v5 else True,
        clean_start=True if v5 else paho_client.MQTT_CLEAN_START_FIRST_ONLY,
        keepalive=s.keepalive_s,
        timeout=s.connect_timeout_s,
        tls_params=tls_params,
        tls_insecure=tls_insecure,
        max_queued_incoming_messages=INCOMING_LIMIT,
        # Nagle + delayed ACK made request/response round trips 88 ms instead of 1 ms
        # (docs/references.md#mqtt-aiomqtt, measured with set_tcp_nodelay on the broker too).
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    )


async def subscribe(client: aiomqtt.Client, t: Topics, s: MqttConfig) -> list[str]:
    """Subscribe to the command topics (and Home Assistant's status); returns the patterns the
    broker refused (an ACL, usually)."""
    patterns = list(t.command_subscriptions)
    if s.discovery:
        patterns.append(t.ha_status)
    codes: Sequence[object]
    if s.protocol == "5":
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
    return [p for p, c in zip(patterns, codes, strict=False) if _refused(c)]


def inbound_message(message: aiomqtt.Message) -> Inbound:
    """The parts of a received message the inbox looks at."""
    props = message.properties
    expiry = getattr(props, "MessageExpiryInterval", None) if props is not None else None
    response_topic = getattr(props, "ResponseTopic", None) if props is not None else None
    correlation = getattr(props, "CorrelationData", None) if props is not None else None
    return Inbound(
        topic=message.topic.value,
        payload=message.payload if isinstance(message.payload, bytes) else b"",
        retain=bool(message.retain),
        expiry_s=float(expiry) if expiry is not None else None,
        response_topic=response_topic if isinstance(response_topic, str) else None,
        correlation_data=bytes(correlation) if correlation is not None else None,
    )


def publish_properties(item: Publication) -> Properties | None:
    """MQTT v5 properties of one publication: the Correlation Data of a v5 response."""
    if not item.v5_response:
        return None
    props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    if item.correlation_data is not None:
        props.CorrelationData = item.correlation_data
    return props


async def publish_batch(
    client: aiomqtt.Client,
    batch: Sequence[Publication],
    unacked: Callable[[list[Publication]], None],
) -> None:
    """Publish one batch: every publish is issued in order (tasks start in creation order, and
    each hands its message to paho in its first step), then the acknowledgements are awaited
    together, so one broker round trip covers the batch. What is not acknowledged (the
    connection broke, the wait was cancelled) is handed to ``unacked``, in order.

    timeout=math.inf: aiomqtt then awaits the acknowledgement directly instead of through
    asyncio.wait_for, which on Python 3.11 can swallow a cancellation that arrives as the
    acknowledgement does (a task group could then never finish). A lost connection ends the
    wait through the reader's error and the task group's cancellation."""
    acked = [False] * len(batch)

    async def publish(index: int, item: Publication) -> None:
        properties = publish_properties(item)
        await client.publish(
            item.topic, item.payload, item.qos, item.retain, properties, timeout=math.inf
        )
        acked[index] = True

    try:
        async with asyncio.TaskGroup() as tg:
            for index, item in enumerate(batch):
                tg.create_task(publish(index, item))
    finally:
        unacked([item for item, ok in zip(batch, acked, strict=True) if not ok])


def _refused(code: object) -> bool:
    value = getattr(code, "value", code)
    return isinstance(value, int) and value >= 0x80
