"""What the bridge has to publish, and in which order (pure: no broker, no event loop).

The :class:`Outbox` keeps

* the **retained topics** (discovery, bridge state, availability, state, profiles, and the empty
  payloads that clear a removed device), rendered from the values the daemon hands it; only
  topics whose payload changed are sent again (``dirty``), and all of them after a (re)connect or
  Home Assistant's birth message;
* the **replies** to commands (``response/<command>`` and MQTT v5 response topics);
* the **stream** of events and telemetry (not retained).

:meth:`Outbox.take` hands the adapter one batch in publication order: replies first (a command's
answer must not wait behind the state message the command caused, docs/benchmarks.md), then the
dirty retained topics (removals, discovery, bridge, availability, state, profiles), then the
stream. What could not be published goes back with :meth:`Outbox.restore`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import Enum

from treadctl.commands import CommandResult, ErrorCode, JsonValue
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
from treadctl.mqtt.requests import ReplyTo, encode_reply
from treadctl.mqtt.topics import Topics
from treadctl.observations import DeviceInfo, Reading

ONLINE = b"online"
OFFLINE = b"offline"
QUEUE_LIMIT = 512
"""Replies, and separately events and telemetry, held while waiting for the broker; beyond it
the oldest is dropped (and counted)."""


class Kind(Enum):
    REPLY = "reply"
    RETAINED = "retained"
    STREAM = "stream"


@dataclass(frozen=True, slots=True)
class Publication:
    """One message to publish. ``correlation_data`` only on an MQTT v5 response topic."""

    topic: str
    payload: bytes
    qos: int
    kind: Kind
    correlation_data: bytes | None = None
    v5_response: bool = False
    """Sent to a client-chosen MQTT v5 Response Topic (carries ``correlation_data``)."""

    @property
    def retain(self) -> bool:
        return self.kind is Kind.RETAINED


@dataclass(frozen=True, slots=True)
class OutboxDevice:
    id: str
    name: str
    info: DeviceInfo | None = None
    """The last known device info (from an earlier run), kept in the discovery until the
    treadmill is seen again."""


class Outbox:
    """See the module docstring. ``v5``: replies also go to the request's Response Topic."""

    def __init__(
        self,
        topics: Topics,
        devices: Sequence[OutboxDevice],
        *,
        removed: Sequence[str] = (),
        discovery: bool = True,
        origin: Origin,
        device_url: str | None = None,
        telemetry_interval_s: float = 0.0,
        v5: bool = True,
        limit: int = QUEUE_LIMIT,
    ) -> None:
        self._topics = topics
        self._names = {d.id: d.name for d in devices}
        self._removed = list(removed)
        self._discovery = discovery
        self._origin = origin
        self._device_url = device_url
        self._known: dict[str, DeviceInfo | None] = {d.id: d.info for d in devices}
        self._v5 = v5
        self._limit = limit
        self._link: dict[str, bool] = dict.fromkeys(self._names, False)
        self._states: dict[str, DeviceState] = {d: DeviceState() for d in self._names}
        self._profiles: dict[str, list[ProfileSummary]] = {d: [] for d in self._names}
        self._throttles = {d: TelemetryThrottle(telemetry_interval_s) for d in self._names}
        self._retained: dict[str, bytes] = {}
        self._dirty: set[str] = set()
        self._replies: deque[Publication] = deque()
        self._stream: deque[Publication] = deque()
        self.dropped = 0
        """Replies, events and telemetry dropped because their queue was full."""

        for device in self._names:
            self._set_retained(topics.availability(device), OFFLINE)
            self._render_state(device)
            self._render_discovery(device)
        self._set_retained(topics.bridge_state, ONLINE)
        for device in self._removed:
            for topic in self._device_topics(device):
                self._set_retained(topic, b"")

    # --- what the daemon hands over --------------------------------------------------------------

    def state(self, device: str, state: DeviceState) -> None:
        """A device's state (and its discovery, which follows ranges, caps and info)."""
        self._states[device] = state
        if state.info is not None:
            self._known[device] = state.info
        self._render_state(device)
        self._render_discovery(device)

    def profiles(self, device: str, profiles: Iterable[ProfileSummary]) -> None:
        self._profiles[device] = list(profiles)
        self._set_retained(
            self._topics.profiles(device), dumps(profiles_json(self._profiles[device]))
        )
        self._render_discovery(device)

    def journey(self, device: str, body: dict[str, JsonValue]) -> None:
        """The journey summary of the person on this treadmill (retained)."""
        self._set_retained(self._topics.journey(device), dumps(body))

    def link(self, device: str, up: bool) -> None:
        self._link[device] = up
        self._set_retained(self._topics.availability(device), ONLINE if up else OFFLINE)
        self._render_state(device)

    def offline(self) -> None:
        """The clean goodbye: every device and the bridge ``offline`` (the will only fires on an
        unexpected disconnect)."""
        for device in self._names:
            self._set_retained(self._topics.availability(device), OFFLINE)
        self._set_retained(self._topics.bridge_state, OFFLINE)

    def telemetry(self, device: str, reading: Reading, *, now: float, wall_time: float) -> bool:
        """Queue one record unless the rate limit holds it back; returns whether it was queued."""
        if not self._throttles[device].admit(now):
            return False
        payload = dumps(telemetry_json(reading, wall_time=wall_time))
        self._queue(
            self._stream, Publication(self._topics.telemetry(device), payload, 0, Kind.STREAM)
        )
        return True

    def event(self, device: str, event: BridgeEvent, *, wall_time: float) -> None:
        payload = dumps(event_json(event, wall_time=wall_time))
        self._queue(self._stream, Publication(self._topics.event(device), payload, 1, Kind.STREAM))

    def reply(self, reply_to: ReplyTo, result: CommandResult) -> str | None:
        """Queue the reply to one command; returns an error text when the result could not be
        encoded (an ``internal`` error is sent instead)."""
        problem = None
        try:
            payload = encode_reply(result, reply_to.transaction)
        except (TypeError, ValueError) as exc:
            problem = str(exc)
            failure = CommandResult.failure(ErrorCode.INTERNAL, "result could not be encoded")
            payload = encode_reply(failure, reply_to.transaction)
        topic = self._topics.response(reply_to.device, reply_to.command)
        self._queue(self._replies, Publication(topic, payload, 1, Kind.REPLY))
        if reply_to.response_topic is not None and self._v5:
            self._queue(
                self._replies,
                Publication(
                    reply_to.response_topic,
                    payload,
                    1,
                    Kind.REPLY,
                    correlation_data=reply_to.correlation_data,
                    v5_response=True,
                ),
            )
        return problem

    # --- what the adapter sends -------------------------------------------------------------------

    def republish_all(self) -> None:
        """Every retained topic again (after a (re)connect or Home Assistant's birth)."""
        self._dirty.update(self._retained)

    def pending(self) -> bool:
        return bool(self._replies or self._dirty or self._stream)

    def take(self) -> list[Publication]:
        """Everything to publish now, in order: replies, dirty retained topics, the stream."""
        batch = list(self._replies)
        self._replies.clear()
        for topic in self._retained_order():
            if topic in self._dirty:
                self._dirty.discard(topic)
                batch.append(Publication(topic, self._retained[topic], 1, Kind.RETAINED))
        batch.extend(self._stream)
        self._stream.clear()
        return batch

    def restore(self, unsent: Iterable[Publication]) -> None:
        """Give back what was taken and not acknowledged: retained topics become dirty again
        (their newest payload is sent), replies and the stream go back in front, in order."""
        replies = [p for p in unsent if p.kind is Kind.REPLY]
        stream = [p for p in unsent if p.kind is Kind.STREAM]
        self._dirty.update(p.topic for p in unsent if p.kind is Kind.RETAINED)
        self._replies.extendleft(reversed(replies))
        self._stream.extendleft(reversed(stream))
        for queue in (self._replies, self._stream):
            while len(queue) > self._limit:
                queue.pop()
                self.dropped += 1

    def known_info(self, device: str) -> DeviceInfo | None:
        """The last known device info the discovery uses."""
        return self._known[device]

    def retained(self, topic: str) -> bytes | None:
        """The retained payload held for ``topic`` (for tests and diagnostics)."""
        return self._retained.get(topic)

    # --- internals --------------------------------------------------------------------------------

    def _queue(self, queue: deque[Publication], item: Publication) -> None:
        if len(queue) >= self._limit:
            queue.popleft()
            self.dropped += 1
        queue.append(item)

    def _device_topics(self, device: str) -> list[str]:
        t = self._topics
        return [
            t.discovery(device),
            t.availability(device),
            t.state(device),
            t.profiles(device),
            t.journey(device),
        ]

    def _set_retained(self, topic: str, payload: bytes) -> None:
        if self._retained.get(topic) != payload:
            self._retained[topic] = payload
            self._dirty.add(topic)

    def _render_state(self, device: str) -> None:
        body = state_json(self._states[device], link=self._link[device])
        self._set_retained(self._topics.state(device), dumps(body))

    def _render_discovery(self, device: str) -> None:
        if not self._discovery:
            return
        # The last known device info, also while the treadmill is away: a link drop must not
        # change the device or its entities in Home Assistant.
        state = replace(self._states[device], info=self._known[device])
        body = discovery_payload(
            topics=self._topics,
            device=device,
            device_name=self._names[device],
            state=state,
            profiles=self._profiles[device],
            origin=self._origin,
            device_url=self._device_url,
        )
        self._set_retained(self._topics.discovery(device), dumps(body))

    def _retained_order(self) -> list[str]:
        """Removals, discovery, bridge, availability, state, profiles."""
        t = self._topics
        order: list[str] = []
        for device in self._removed:
            order += self._device_topics(device)
        order += [t.discovery(d) for d in self._names]
        order.append(t.bridge_state)
        order += [t.availability(d) for d in self._names]
        order += [t.state(d) for d in self._names]
        order += [t.profiles(d) for d in self._names]
        order += [t.journey(d) for d in self._names]
        return order
