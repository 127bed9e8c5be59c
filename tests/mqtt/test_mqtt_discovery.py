"""Home Assistant device discovery payload, checked against the keys Home Assistant documents.

The key lists below were taken from the "Configuration Variables" of each platform's page:

* https://www.home-assistant.io/integrations/mqtt/#device-discovery-payload (shared keys,
  ``dev``, ``o``, ``cmps``; ``o.name`` required; ``p`` and ``unique_id`` required per component)
* https://www.home-assistant.io/integrations/sensor.mqtt/
* https://www.home-assistant.io/integrations/binary_sensor.mqtt/
* https://www.home-assistant.io/integrations/button.mqtt/
* https://www.home-assistant.io/integrations/number.mqtt/
* https://www.home-assistant.io/integrations/select.mqtt/

Abbreviations used in the payload are expanded with the table of
https://www.home-assistant.io/integrations/mqtt/#supported-abbreviations-in-mqtt-discovery-messages
before checking.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from treadctl.mqtt.discovery import Origin, discovery_payload, speed_number_bounds
from treadctl.mqtt.outbound import (
    Caps,
    DeviceState,
    HeartRateState,
    ProfileSummary,
    state_json,
    telemetry_json,
)
from treadctl.mqtt.topics import Topics
from treadctl.observations import DeviceInfo, InclineRange, Reading, SpeedRange

ABBREVIATIONS = {
    "p": "platform",
    "o": "origin",
    "dev": "device",
    "cmps": "components",
    "sw": "sw_version",
    "url": "support_url",
    "avty": "availability",
    "avty_mode": "availability_mode",
}

AVAILABILITY = {
    "availability",
    "availability_mode",
    "availability_template",
    "availability_topic",
    "payload_available",
    "payload_not_available",
}
COMMON = AVAILABILITY | {
    "device",
    "enabled_by_default",
    "encoding",
    "entity_category",
    "entity_picture",
    "icon",
    "json_attributes_template",
    "json_attributes_topic",
    "name",
    "object_id",
    "platform",
    "qos",
    "unique_id",
}
DOCUMENTED: dict[str, set[str]] = {
    "sensor": COMMON
    | {
        "device_class",
        "expire_after",
        "force_update",
        "last_reset_value_template",
        "options",
        "suggested_display_precision",
        "state_class",
        "state_topic",
        "unit_of_measurement",
        "value_template",
    },
    "binary_sensor": COMMON
    | {
        "device_class",
        "expire_after",
        "force_update",
        "off_delay",
        "payload_off",
        "payload_on",
        "state_topic",
        "value_template",
    },
    "button": COMMON
    | {"command_template", "command_topic", "device_class", "payload_press", "retain"},
    "number": COMMON
    | {
        "command_template",
        "command_topic",
        "device_class",
        "max",
        "min",
        "mode",
        "optimistic",
        "payload_reset",
        "retain",
        "state_topic",
        "step",
        "unit_of_measurement",
        "value_template",
    },
    "select": COMMON
    | {
        "command_template",
        "command_topic",
        "optimistic",
        "options",
        "retain",
        "state_topic",
        "value_template",
    },
}
REQUIRED: dict[str, set[str]] = {
    "sensor": {"platform", "unique_id", "state_topic"},
    "binary_sensor": {"platform", "unique_id", "state_topic"},
    "button": {"platform", "unique_id", "command_topic"},
    "number": {"platform", "unique_id", "command_topic"},
    "select": {"platform", "unique_id", "command_topic", "options"},
}
DEVICE_SHARED = AVAILABILITY | {
    "device",
    "origin",
    "components",
    "state_topic",
    "command_topic",
    "qos",
    "encoding",
}
DEVICE_KEYS = {
    "configuration_url",
    "connections",
    "hw_version",
    "identifiers",
    "manufacturer",
    "model",
    "model_id",
    "name",
    "serial_number",
    "suggested_area",
    "sw_version",
    "via_device",
}
ORIGIN_KEYS = {"name", "sw_version", "support_url"}

TOPICS = Topics()
ORIGIN = Origin("treadctl", "0.1.0", "https://example.org/treadctl")
INFO = DeviceInfo(
    address="AA:BB:CC:DD:EE:FF",
    name="Retro T1",
    speed_range=SpeedRange(minimum=50, maximum=1600, increment=10),
    incline_range=InclineRange(minimum=0, maximum=150, increment=5),
)
PROFILES = [ProfileSummary("gentle", "Gentle"), ProfileSummary("steady", "Steady")]


def expand(payload: dict[str, Any]) -> dict[str, Any]:
    return {ABBREVIATIONS.get(k, k): v for k, v in payload.items()}


def build(state: DeviceState | None = None, profiles: list[ProfileSummary] | None = None) -> Any:
    return expand(
        discovery_payload(
            topics=TOPICS,
            device="tm1",
            device_name="Living room",
            state=state if state is not None else DeviceState(info=INFO, caps=Caps(400)),
            profiles=PROFILES if profiles is None else profiles,
            origin=ORIGIN,
        )
    )


def test_shared_keys_device_and_origin_are_documented() -> None:
    payload = build()
    assert set(payload) <= DEVICE_SHARED
    assert {"device", "origin", "components"} <= set(payload)
    assert set(payload["device"]) <= DEVICE_KEYS
    assert payload["device"]["identifiers"] == ["treadctl_tm1"]
    assert payload["device"]["connections"] == [["bluetooth", "AA:BB:CC:DD:EE:FF"]]
    origin = expand(payload["origin"])
    assert set(origin) <= ORIGIN_KEYS
    assert origin == {
        "name": "treadctl",
        "sw_version": "0.1.0",
        "support_url": "https://example.org/treadctl",
    }


def test_every_component_uses_documented_keys_and_has_the_required_ones() -> None:
    components = build()["components"]
    platforms = set()
    unique_ids = set()
    for cid, raw in components.items():
        component = expand(raw)
        platform = component["platform"]
        platforms.add(platform)
        undocumented = set(component) - DOCUMENTED[platform]
        assert not undocumented, f"{cid}: {undocumented} not documented for {platform}"
        missing = REQUIRED[platform] - set(component)
        assert not missing, f"{cid}: missing {missing}"
        unique_ids.add(component["unique_id"])
        for entry in component.get("availability", []):
            assert set(entry) <= {"topic", "payload_available", "payload_not_available"}
    assert platforms == {"sensor", "binary_sensor", "button", "number", "select"}
    assert len(unique_ids) == len(components)


def test_the_entities_the_issue_asks_for() -> None:
    c = build()["components"]
    sensors = {k for k, v in c.items() if v["p"] == "sensor"}
    assert sensors == {
        "speed", "distance", "incline", "elapsed", "remaining", "heart_rate", "energy",
        "steps", "session", "segment", "cue",
    }  # fmt: skip
    assert {k for k, v in c.items() if v["p"] == "binary_sensor"} == {
        "link", "armed", "running", "heart_rate_hold",
    }  # fmt: skip
    assert {k for k, v in c.items() if v["p"] == "button"} == {
        "start", "pause", "resume", "stop", "emergency_stop", "arm",
    }  # fmt: skip
    assert c["speed"]["unit_of_measurement"] == "km/h"
    assert c["speed"]["device_class"] == "speed"
    assert c["distance"]["device_class"] == "distance"
    assert c["incline"]["unit_of_measurement"] == "%"
    assert c["elapsed"]["unit_of_measurement"] == "s"
    assert c["remaining"]["device_class"] == "duration"
    assert c["heart_rate"]["unit_of_measurement"] == "bpm"
    assert "device_class" not in c["heart_rate"]
    assert c["heart_rate"]["state_topic"] == "treadctl/tm1/state"
    assert c["heart_rate"]["value_template"] == "{{ value_json.heart_rate_bpm }}"
    assert c["heart_rate_hold"]["value_template"] == (
        "{{ 'ON' if value_json.heart_rate_holding else 'OFF' }}"
    )
    assert c["energy"]["unit_of_measurement"] == "kcal"
    assert c["energy"]["state_class"] == "total_increasing"
    for key in ("start", "pause", "resume", "stop", "emergency_stop", "arm"):
        assert c[key]["command_topic"] == f"treadctl/tm1/set/{key}"
        assert c[key]["payload_press"] == "PRESS"
    assert c["profile"]["options"] == ["gentle", "steady"]
    assert c["profile"]["command_topic"] == "treadctl/tm1/set/profile"


def test_availability_needs_bridge_and_link_but_link_and_estop_need_only_the_bridge() -> None:
    payload = build()
    assert payload["availability"] == [
        {"topic": "treadctl/bridge/state"},
        {"topic": "treadctl/tm1/availability"},
    ]
    assert payload["availability_mode"] == "all"
    c = payload["components"]
    assert c["link"]["availability"] == [{"topic": "treadctl/bridge/state"}]
    assert c["emergency_stop"]["availability"] == [{"topic": "treadctl/bridge/state"}]


def test_templates_name_fields_that_the_bridge_publishes() -> None:
    state_keys = set(state_json(DeviceState(), link=True))
    telemetry_keys = set(telemetry_json(Reading(at=0.0), wall_time=0.0))
    for cid, c in build()["components"].items():
        template = c.get("value_template")
        if template is None:
            continue
        fields = re.findall(r"value_json\.(\w+)", template)
        assert fields, cid
        keys = telemetry_keys if c["state_topic"].endswith("/telemetry") else state_keys
        assert set(fields) <= keys, f"{cid}: {fields}"


def test_speed_number_comes_from_device_range_and_cap() -> None:
    number = build()["components"]["speed_setpoint"]
    assert (number["min"], number["max"], number["step"]) == (0.5, 4.0, 0.1)
    assert number["command_topic"] == "treadctl/tm1/set/speed"
    # A device that cannot go as fast as the cap: its own maximum.
    slow = DeviceInfo("x", None, SpeedRange(minimum=100, maximum=300, increment=5), None)
    number = build(DeviceState(info=slow, caps=Caps(400)))["components"]["speed_setpoint"]
    assert (number["min"], number["max"], number["step"]) == (1.0, 3.0, 0.05)


def test_speed_number_max_is_rounded_down_to_the_device_increment() -> None:
    assert speed_number_bounds(DeviceState(info=INFO, caps=Caps(395))) == (0.5, 3.9, 0.1)


@pytest.mark.parametrize(
    "state",
    [
        DeviceState(),
        DeviceState(info=INFO),
        DeviceState(caps=Caps(400)),
        DeviceState(info=DeviceInfo("x", None, None, None), caps=Caps(400)),
        DeviceState(info=INFO, caps=Caps(40)),  # cap below the device minimum
    ],
)
def test_no_speed_number_without_range_and_cap(state: DeviceState) -> None:
    assert "speed_setpoint" not in build(state)["components"]


def test_no_profile_select_without_profiles() -> None:
    assert "profile" not in build(profiles=[])["components"]


def test_heart_rate_keys_in_the_state() -> None:
    none = state_json(DeviceState(), link=True)
    assert none["heart_rate_bpm"] is None
    assert none["heart_rate_holding"] is False
    hr = HeartRateState(
        bpm=112, source="strap", contact="detected", holding=True, hold_reason="above soft"
    )
    state = state_json(DeviceState(heart_rate=hr), link=True)
    assert {k: v for k, v in state.items() if k.startswith("heart_rate")} == {
        "heart_rate_bpm": 112,
        "heart_rate_source": "strap",
        "heart_rate_contact": "detected",
        "heart_rate_holding": True,
        "heart_rate_hold_reason": "above soft",
        "heart_rate_battery_percent": None,
    }
