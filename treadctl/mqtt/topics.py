"""MQTT topic names used by the bridge (pure).

Layout (``<prefix>`` defaults to ``treadctl``, ``<discovery>`` to ``homeassistant``)::

    <prefix>/bridge/state              online | offline, retained, also the will
    <prefix>/<device>/availability     online | offline (treadmill link), retained
    <prefix>/<device>/state            JSON object, retained
    <prefix>/<device>/telemetry        JSON per Treadmill Data record, not retained
    <prefix>/<device>/event            JSON per notable event, not retained
    <prefix>/<device>/profiles         JSON list, retained
    <prefix>/<device>/set/<key>        plain payloads from Home Assistant entities
    <prefix>/<device>/request/<cmd>    JSON requests from scripts
    <prefix>/<device>/response/<cmd>   JSON replies (to both of the above)
    <discovery>/device/<device>/config Home Assistant device discovery, retained
    homeassistant/status               Home Assistant birth / will (``birth_topic``)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""Device ids appear in topics and in Home Assistant discovery ids: Home Assistant allows only
``[a-zA-Z0-9_-]`` there (MQTT discovery, "Discovery topic")."""

_PREFIX = re.compile(r"^[^#+\x00]+(/[^#+\x00/]+)*$")


def check_prefix(prefix: str) -> str:
    """A topic prefix: non-empty, no wildcards, no leading/trailing or doubled ``/``."""
    if not prefix or prefix.startswith("/") or prefix.endswith("/") or "//" in prefix:
        raise ValueError(f"invalid topic prefix {prefix!r}")
    if not _PREFIX.match(prefix):
        raise ValueError(f"invalid topic prefix {prefix!r}")
    return prefix


def check_device_id(device: str) -> str:
    if not DEVICE_ID.match(device):
        raise ValueError(f"device id {device!r} must match {DEVICE_ID.pattern}")
    return device


class Channel(StrEnum):
    """Where an incoming command came from."""

    SET = "set"
    REQUEST = "request"


@dataclass(frozen=True, slots=True)
class CommandTopic:
    """A parsed ``<prefix>/<device>/<set|request>/<name>`` topic."""

    device: str
    channel: Channel
    name: str


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str = "treadctl"
    discovery_prefix: str = "homeassistant"
    birth_topic: str = "homeassistant/status"
    """Home Assistant's birth and will topic. Its own setting: Home Assistant keeps it at
    ``homeassistant/status`` when the discovery prefix is changed."""

    def __post_init__(self) -> None:
        check_prefix(self.prefix)
        check_prefix(self.discovery_prefix)
        check_prefix(self.birth_topic)

    @property
    def bridge_state(self) -> str:
        return f"{self.prefix}/bridge/state"

    @property
    def ha_status(self) -> str:
        return self.birth_topic

    def availability(self, device: str) -> str:
        return f"{self.prefix}/{device}/availability"

    def state(self, device: str) -> str:
        return f"{self.prefix}/{device}/state"

    def telemetry(self, device: str) -> str:
        return f"{self.prefix}/{device}/telemetry"

    def event(self, device: str) -> str:
        return f"{self.prefix}/{device}/event"

    def profiles(self, device: str) -> str:
        return f"{self.prefix}/{device}/profiles"

    def journey(self, device: str) -> str:
        """Retained: the person's program stage, week and rating draft (docs/journey.md)."""
        return f"{self.prefix}/{device}/journey"

    def set(self, device: str, key: str) -> str:
        return f"{self.prefix}/{device}/set/{key}"

    def request(self, device: str, command: str) -> str:
        return f"{self.prefix}/{device}/request/{command}"

    def response(self, device: str, command: str) -> str:
        return f"{self.prefix}/{device}/response/{command}"

    def discovery(self, device: str) -> str:
        return f"{self.discovery_prefix}/device/{device}/config"

    @property
    def command_subscriptions(self) -> tuple[str, str]:
        """The wildcard subscriptions that bring in every command (also for unknown devices,
        so that they can be answered with an error)."""
        return (f"{self.prefix}/+/set/+", f"{self.prefix}/+/request/+")

    def parse_command(self, topic: str) -> CommandTopic | None:
        """Parse a command topic; None when ``topic`` is not one."""
        head = self.prefix + "/"
        if not topic.startswith(head):
            return None
        parts = topic[len(head) :].split("/")
        if len(parts) != 3:
            return None
        device, channel, name = parts
        if not device or not name:
            return None
        try:
            kind = Channel(channel)
        except ValueError:
            return None
        return CommandTopic(device=device, channel=kind, name=name)

    def response_topic_allowed(self, topic: str) -> bool:
        """Whether a client-chosen MQTT v5 Response Topic may be published to.

        Refused: empty, wildcards or NUL, anything under ``<prefix>/`` other than a
        ``response/`` topic (a reply must never land on a command, state or availability topic,
        where it could act as a command or corrupt retained state), and the discovery prefix.
        """
        if not topic or len(topic.encode()) > 65535 or any(c in topic for c in "#+\x00"):
            return False
        if topic.startswith(self.discovery_prefix + "/") or topic == self.discovery_prefix:
            return False
        if topic == self.birth_topic:
            return False
        if topic == self.prefix or topic.startswith(self.prefix + "/"):
            parts = topic[len(self.prefix) + 1 :].split("/")
            return len(parts) == 3 and parts[1] == "response" and all(parts)
        return True
