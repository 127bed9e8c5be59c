"""Home Assistant device discovery payload, checked against Home Assistant's own schemas.

The key lists are in ``ha_schema.py`` (taken from Home Assistant 2025.4.4's MQTT integration).
The templates are rendered with Jinja2 (as Home Assistant does, with its ``to_json`` filter) on
the JSON the bridge really publishes.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import jinja2
import pytest

from tests.mqtt.ha_schema import expand, problems
from treadctl.commands import JsonValue
from treadctl.control.session_states import SessionState
from treadctl.daemon.mqtt_sink import journey_json
from treadctl.history.journey import JourneySummary
from treadctl.mqtt.discovery import Origin, discovery_payload, speed_number_bounds
from treadctl.mqtt.entities import COMMAND_PLATFORMS, EVENT_TYPES, SESSION_STATES
from treadctl.mqtt.outbound import (
    BridgeEvent,
    Caps,
    DeviceState,
    HeartRateState,
    ProfileSummary,
    event_json,
    state_json,
    telemetry_json,
)
from treadctl.mqtt.topics import Topics
from treadctl.observations import DeviceIdentity, DeviceInfo, InclineRange, Reading, SpeedRange
from treadctl.safety.events import PUBLISHED_EVENTS, SAFETY_EVENTS

TOPICS = Topics()
ORIGIN = Origin("treadctl", "0.1.0", "https://example.org/treadctl")
INFO = DeviceInfo(
    address="AA:BB:CC:DD:EE:FF",
    name="Retro T1",
    speed_range=SpeedRange(minimum=50, maximum=1600, increment=10),
    incline_range=InclineRange(minimum=0, maximum=150, increment=5),
)
PROFILES = [ProfileSummary("gentle", "Gentle"), ProfileSummary("steady", "Steady")]


def build(state: DeviceState | None = None, profiles: list[ProfileSummary] | None = None) -> Any:
    return expand(
        discovery_payload(
            topics=TOPICS,
            device="tm1",
            device_name="Living room",
            state=state if state is not None else DeviceState(info=INFO, caps=Caps(400, 100)),
            profiles=PROFILES if profiles is None else profiles,
            origin=ORIGIN,
        )
    )


def render(template: str, payload: Any) -> str:
    """A value template as Home Assistant renders it (``value_json``, ``to_json``)."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters["to_json"] = json.dumps
    return env.from_string(template).render(value_json=payload)


def test_the_payload_passes_home_assistants_schema() -> None:
    assert problems(build()) == []
    bare = build(DeviceState(), profiles=[])
    assert problems(bare) == []


def test_device_and_origin() -> None:
    payload = build()
    assert payload["device"]["identifiers"] == ["treadctl_tm1"]
    assert payload["device"]["connections"] == [["bluetooth", "AA:BB:CC:DD:EE:FF"]]
    assert payload["device"]["model"] == "Retro T1"
    assert expand(payload["origin"]) == {
        "name": "treadctl",
        "sw_version": "0.1.0",
        "support_url": "https://example.org/treadctl",
    }


def test_device_information_service_strings_fill_the_device() -> None:
    ident = DeviceIdentity(
        manufacturer="Retro GmbH",
        model_number="RT-1",
        serial_number="SN123",
        hardware_revision="B",
        firmware_revision="2.4.1",
        software_revision="9",
    )
    info = DeviceInfo("AA:BB:CC:DD:EE:FF", "Retro T1", INFO.speed_range, None, ident)
    payload = expand(
        discovery_payload(
            topics=TOPICS,
            device="tm1",
            device_name="Living room",
            state=DeviceState(info=info, caps=Caps(400)),
            profiles=PROFILES,
            origin=ORIGIN,
            device_url="http://pi.local/help",
        )
    )
    assert payload["device"] == {
        "identifiers": ["treadctl_tm1"],
        "name": "Living room",
        "connections": [["bluetooth", "AA:BB:CC:DD:EE:FF"]],
        "model": "RT-1",
        "manufacturer": "Retro GmbH",
        "serial_number": "SN123",
        "hw_version": "B",
        "sw_version": "2.4.1",
        "configuration_url": "http://pi.local/help",
    }
    assert problems(payload) == []


def test_every_command_component_has_qos_1_emergency_stop_first() -> None:
    components = build()["components"]
    commands = {k: v for k, v in components.items() if v["p"] in COMMAND_PLATFORMS and len(v) > 1}
    assert len(commands) == 18  # 13, and the journey's 2 buttons, pain, difficulty, near-fall
    assert all(c["qos"] == 1 for c in commands.values())
    assert next(iter(components)) == "emergency_stop"


def test_the_entities_the_issue_asks_for() -> None:
    c = build()["components"]

    def of(platform: str) -> set[str]:
        return {k for k, v in c.items() if v["p"] == platform and len(v) > 1}

    assert of("sensor") == {
        "speed", "distance", "incline", "elapsed", "remaining", "heart_rate", "energy",
        "steps", "session", "segment", "cue", "last_error", "link_error",
        "stage", "sessions_week", "backward_week", "last_session", "next_due",
    }  # fmt: skip
    assert of("binary_sensor") == {"link", "running", "heart_rate_hold"}
    assert of("button") == {
        "start", "pause", "resume", "stop", "emergency_stop", "arm", "disarm", "skip_segment",
        "reload_profiles", "start_next", "rate_session",
    }  # fmt: skip
    assert of("switch") == {"remote_control", "rating_near_fall"}
    assert of("select") == {"profile", "rating_difficulty"}
    assert of("number") == {"speed_setpoint", "incline_setpoint", "rating_pain"}
    # The journey (issue 13): sensors from the retained journey topic, the rating entities.
    assert c["stage"]["state_topic"] == "treadctl/tm1/journey"
    assert c["next_due"]["device_class"] == "timestamp"
    assert c["backward_week"]["unit_of_measurement"] == "min"
    assert (c["rating_pain"]["min"], c["rating_pain"]["max"], c["rating_pain"]["step"]) == (
        0,
        10,
        1,
    )
    assert c["rating_pain"]["command_topic"] == "treadctl/tm1/set/rating_pain"
    assert c["rating_difficulty"]["options"] == ["easy", "ok", "hard"]
    assert c["start_next"]["command_topic"] == "treadctl/tm1/set/start_next"
    assert of("event") == {"events"}
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
    for key in ("start", "pause", "resume", "stop", "emergency_stop", "arm", "disarm",
                "skip_segment", "reload_profiles"):  # fmt: skip
        assert c[key]["command_topic"] == f"treadctl/tm1/set/{key}"
        assert c[key]["payload_press"] == "PRESS"
    assert c["remote_control"]["command_topic"] == "treadctl/tm1/set/armed"
    assert (c["remote_control"]["payload_on"], c["remote_control"]["payload_off"]) == ("ON", "OFF")
    assert c["profile"]["options"] == ["gentle", "steady"]
    assert c["profile"]["command_topic"] == "treadctl/tm1/set/profile"
    assert c["armed"] == {"p": "binary_sensor"}  # replaced by the switch: removal form


def test_display_precision_categories_and_names() -> None:
    c = build()["components"]
    precision = {k: v.get("suggested_display_precision") for k, v in c.items()}
    assert precision["speed"] == 1
    assert precision["incline"] == 1
    assert precision["distance"] == 0
    assert precision["elapsed"] == precision["remaining"] == 0
    diagnostic = {k for k, v in c.items() if v.get("entity_category") == "diagnostic"}
    assert diagnostic == {"link", "last_error", "link_error"}
    for key, v in c.items():
        name = v.get("name", "")
        assert "treadmill" not in name.lower(), key
        assert "living room" not in name.lower(), key


def test_session_is_an_enum_of_the_session_states() -> None:
    session = build()["components"]["session"]
    assert session["device_class"] == "enum"
    assert session["options"] == [s.value for s in SessionState]
    assert list(SESSION_STATES) == [s.value for s in SessionState]
    state = state_json(DeviceState(session="paused"), link=True)
    assert render(session["value_template"], state) == "paused"


def test_cues_longer_than_the_state_limit_go_whole_into_an_attribute() -> None:
    cue = build()["components"]["cue"]
    text = "Look over your shoulder now and then. " * 10
    state = state_json(DeviceState(cue=text), link=True)
    shown = render(cue["value_template"], state)
    assert shown == text[:255]
    assert json.loads(render(cue["json_attributes_template"], state)) == {"text": text}
    assert cue["json_attributes_topic"] == "treadctl/tm1/state"
    # No cue: "None", which Home Assistant shows as unknown.
    assert render(cue["value_template"], state_json(DeviceState(), link=True)) == "None"


def test_event_entity_offers_every_published_safety_event_and_session_end() -> None:
    events = build()["components"]["events"]
    published = {r.reason.value for r in SAFETY_EVENTS.values() if r.published}
    published |= {kind.value for kind in PUBLISHED_EVENTS}
    assert published <= set(events["event_types"])
    assert {"session_finished", "session_aborted", "restart_stop"} <= set(events["event_types"])
    summary: dict[str, JsonValue] = {"profile": "gentle", "ended": "finished", "distance_m": 420}
    body = event_json(BridgeEvent("session_finished", "", summary), wall_time=1.0)
    rendered = json.loads(render(events["value_template"], body))
    assert rendered == {"event_type": "session_finished", "message": "", "data": summary}
    key = event_json(BridgeEvent("safety_key", "key pulled"), wall_time=1.0)
    assert json.loads(render(events["value_template"], key))["event_type"] == "safety_key"
    # A kind the entity does not offer renders empty: Home Assistant ignores it.
    cue = event_json(BridgeEvent("cue", "Look back"), wall_time=1.0)
    assert render(events["value_template"], cue) == ""
    assert set(EVENT_TYPES) == set(events["event_types"])


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
    assert c["events"]["availability"] == [{"topic": "treadctl/bridge/state"}]


def test_templates_name_fields_that_the_bridge_publishes() -> None:
    state_keys = set(state_json(DeviceState(), link=True))
    telemetry_keys = set(telemetry_json(Reading(at=0.0), wall_time=0.0))
    event_keys = set(event_json(BridgeEvent("x"), wall_time=0.0))
    now = datetime(2026, 3, 2, tzinfo=UTC)
    summary = JourneySummary("ann", "p", 1, "week 1", 6, 0, 0.0, None, None, False, now)
    journey_keys = set(journey_json(summary, {"pain": None}))
    for cid, c in build()["components"].items():
        for option in ("value_template", "json_attributes_template"):
            template = c.get(option)
            if template is None:
                continue
            fields = re.findall(r"value_json\.(\w+)", template)
            assert fields, cid
            topic = c["state_topic"]
            keys = (
                telemetry_keys
                if topic.endswith("/telemetry")
                else event_keys
                if topic.endswith("/event")
                else journey_keys
                if topic.endswith("/journey")
                else state_keys
            )
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
def test_speed_number_in_removal_form_without_range_and_cap(state: DeviceState) -> None:
    assert build(state)["components"]["speed_setpoint"] == {"p": "number"}


def test_profile_select_in_removal_form_without_profiles() -> None:
    assert build(profiles=[])["components"]["profile"] == {"p": "select"}


def test_incline_number_from_the_inclination_range_and_cap() -> None:
    number = build(DeviceState(info=INFO, caps=Caps(400, max_incline=100)))["components"]
    incline = number["incline_setpoint"]
    assert (incline["min"], incline["max"], incline["step"]) == (0.0, 10.0, 0.5)
    assert incline["command_topic"] == "treadctl/tm1/set/incline"
    assert incline["qos"] == 1
    # Incline not commanded (no incline cap), or no inclination range: removal form.
    uncapped = DeviceState(info=INFO, caps=Caps(400))
    assert build(uncapped)["components"]["incline_setpoint"] == {"p": "number"}
    flat = DeviceInfo("x", None, INFO.speed_range, None)
    state = DeviceState(info=flat, caps=Caps(400, max_incline=100))
    assert build(state)["components"]["incline_setpoint"] == {"p": "number"}


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
