"""The discovery sequence a Home Assistant sees, replayed through the outbox: start-up, the
treadmill connecting, a cap change, a link drop, the reconnect and a restart with the treadmill
switched off. Every retained discovery payload must pass Home Assistant's schema, keep every
entity's unique_id and the device info, and send left-out components in removal form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.mqtt.ha_schema import problems
from treadctl.daemon.known_devices import KnownDevices
from treadctl.mqtt.discovery import Origin
from treadctl.mqtt.outbound import Caps, DeviceState, ProfileSummary
from treadctl.mqtt.outbox import Outbox, OutboxDevice
from treadctl.mqtt.topics import Topics
from treadctl.observations import DeviceIdentity, DeviceInfo, InclineRange, SpeedRange

TOPICS = Topics()
TOPIC = "homeassistant/device/tm1/config"
INFO = DeviceInfo(
    "AA:BB:CC:DD:EE:FF",
    "Retro T1",
    SpeedRange(50, 1600, 10),
    InclineRange(0, 150, 5),
    DeviceIdentity(manufacturer="Retro GmbH", model_number="RT-1", firmware_revision="2.4.1"),
)
PROFILES = [ProfileSummary("gentle", "Gentle")]


class HomeAssistantView:
    """What Home Assistant holds: per component the last configuration it was sent (a component
    missing from a payload keeps its old configuration; ``{"p": ...}`` alone removes it)."""

    def __init__(self) -> None:
        self.components: dict[str, dict[str, Any]] = {}
        self.device: dict[str, Any] = {}
        self.payloads: list[dict[str, Any]] = []

    def receive(self, box: Outbox) -> None:
        for publication in box.take():
            if publication.topic != TOPIC:
                continue
            payload = json.loads(publication.payload)
            assert problems(payload) == [], problems(payload)
            self.payloads.append(payload)
            self.device = payload["dev"]
            for key, component in payload["cmps"].items():
                if set(component) == {"p"}:
                    self.components.pop(key, None)
                else:
                    self.components[key] = component


def outbox(info: DeviceInfo | None = None) -> Outbox:
    return Outbox(
        TOPICS,
        [OutboxDevice("tm1", "Living room", info)],
        origin=Origin("treadctl", "0.1.0"),
    )


def connected(cap: int = 300) -> DeviceState:
    return DeviceState(info=INFO, caps=Caps(cap, 100))


def away(cap: int = 300) -> DeviceState:
    """As the daemon reports it while the link is down: no device info."""
    return DeviceState(info=None, caps=Caps(cap, 100))


def test_replay_startup_cap_change_link_drop_reconnect_and_restart(tmp_path: Path) -> None:
    ha = HomeAssistantView()
    known = KnownDevices(tmp_path)

    # Start-up, treadmill never seen: no numbers yet (removal form), a plain device.
    box = outbox(known.load("tm1"))
    box.state("tm1", away())
    ha.receive(box)
    first = ha.payloads[-1]
    assert first["cmps"]["speed_setpoint"] == {"p": "number"}
    assert first["cmps"]["profile"] == {"p": "select"}
    assert "connections" not in first["dev"]
    ids_before = {k: c["unique_id"] for k, c in ha.components.items()}

    # The treadmill connects; profiles are known.
    box.link("tm1", True)
    box.profiles("tm1", PROFILES)
    box.state("tm1", connected())
    ha.receive(box)
    known.save("tm1", INFO)
    device = ha.device
    assert device["connections"] == [["bluetooth", "AA:BB:CC:DD:EE:FF"]]
    assert (device["model"], device["manufacturer"], device["sw_version"]) == (
        "RT-1", "Retro GmbH", "2.4.1",
    )  # fmt: skip
    assert ha.components["speed_setpoint"]["max"] == 3.0
    assert ha.components["incline_setpoint"]["max"] == 10.0
    unique_ids = {k: c["unique_id"] for k, c in ha.components.items()}
    assert ids_before.items() <= unique_ids.items()

    # The cap is lowered below the device minimum: Home Assistant must drop the number, not
    # keep its stale maximum.
    box.state("tm1", connected(cap=40))
    ha.receive(box)
    assert "speed_setpoint" not in ha.components
    box.state("tm1", connected(cap=250))
    ha.receive(box)
    assert ha.components["speed_setpoint"]["max"] == 2.5
    settled = ha.payloads[-1]

    # The link drops: the discovery does not change at all (no entity reconfigured).
    count = len(ha.payloads)
    box.link("tm1", False)
    box.state("tm1", away(cap=250))
    ha.receive(box)
    assert len(ha.payloads) == count
    box.republish_all()  # a broker reconnect or Home Assistant's birth meanwhile
    ha.receive(box)
    assert ha.payloads[-1] == settled

    # The treadmill comes back: still the same payload.
    box.link("tm1", True)
    box.state("tm1", connected(cap=250))
    ha.receive(box)
    assert ha.payloads[-1] == settled

    # treadctl restarts while the treadmill is switched off: the persisted info keeps the device.
    restarted = outbox(known.load("tm1"))
    restarted.profiles("tm1", PROFILES)
    restarted.state("tm1", away(cap=250))
    ha.receive(restarted)
    assert ha.payloads[-1] == settled
    assert {k: c["unique_id"] for k, c in ha.components.items()} == unique_ids


def test_known_device_file_round_trips_and_bad_files_are_ignored(tmp_path: Path) -> None:
    known = KnownDevices(tmp_path)
    assert known.load("tm1") is None
    assert known.save("tm1", INFO)
    assert known.load("tm1") == INFO
    known.path("tm1").write_text("{not json", encoding="utf-8")
    assert known.load("tm1") is None
    known.path("tm1").write_text('{"version": 1, "address": 5}', encoding="utf-8")
    assert known.load("tm1") is None
    blocked = KnownDevices(tmp_path / "file")
    (tmp_path / "file").write_text("", encoding="utf-8")
    assert blocked.save("tm1", INFO) is False
