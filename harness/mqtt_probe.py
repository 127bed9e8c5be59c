"""An MQTT test client that records what the daemon publishes and sends it requests.

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
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiomqtt


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
