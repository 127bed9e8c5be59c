"""A real Home Assistant (2025.4, pytest-homeassistant-custom-component) fed with the payloads
treadctl publishes (written by tests/ha/test_ha_real.py into $TREADCTL_HA_PAYLOADS).

Runs under .venv-ha (scripts/ha-venv), never under the main suite. Home Assistant's own test
harness stands in for the broker: messages go in with ``async_fire_mqtt_message``, what Home
Assistant publishes is read from ``mqtt_mock.async_publish``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message

P: dict[str, Any] = json.loads(Path(os.environ["TREADCTL_HA_PAYLOADS"]).read_text("utf-8"))


async def publish_all(hass: HomeAssistant, messages: list[list[Any]], *, live: bool = True) -> None:
    """Deliver as a broker would: the discovery first, the other messages once Home Assistant
    has subscribed (the harness keeps no retained messages). A retained message carries the
    retain flag only on its first delivery after a subscription (``live=False``); published
    while Home Assistant is subscribed, it arrives without it (MQTT 3.1.1 §3.3.1.3)."""
    for config_first in (True, False):
        for topic, payload, retain in messages:
            if topic.endswith("/config") == config_first:
                async_fire_mqtt_message(hass, topic, payload, 1, retain and not live)
        await hass.async_block_till_done()


def entity_ids(hass: HomeAssistant, discovery: dict[str, Any]) -> dict[str, str | None]:
    registry = er.async_get(hass)
    return {
        key: registry.async_get_entity_id(c["p"], "mqtt", c["unique_id"])
        for key, c in discovery["cmps"].items()
        if len(c) > 1
    }


async def started(hass: HomeAssistant) -> dict[str, str]:
    await publish_all(hass, P["startup"], live=False)
    ids = entity_ids(hass, P["discovery"])
    missing = [key for key, eid in ids.items() if eid is None]
    assert not missing, missing
    return {k: v for k, v in ids.items() if v is not None}


async def test_every_entity_is_created_with_the_device(hass: HomeAssistant, mqtt_mock: Any) -> None:
    ids = await started(hass)
    assert len(ids) == P["entity_count"]
    device = dr.async_get(hass).async_get_device(identifiers={("mqtt", "treadctl_tm1")})
    assert device is not None
    assert (device.manufacturer, device.model, device.sw_version, device.serial_number) == (
        "treadsim", "treadsim generic", "1.0", "TS-000001",
    )  # fmt: skip
    assert device.name == "Living room"
    assert hass.states.get(ids["session"]).state == "running"
    assert hass.states.get(ids["speed"]).state == "1.48"
    cue = hass.states.get(ids["cue"])
    assert len(cue.state) == 255
    assert cue.attributes["text"] == P["long_cue"]
    assert hass.states.get(ids["remote_control"]).state == "on"
    assert hass.states.get(ids["profile"]).state == "gentle"
    assert hass.states.get(ids["link"]).state == "on"
    assert hass.states.get(ids["link"]).name == "Living room Link"
    assert er.async_get(hass).async_get(ids["link"]).entity_category == "diagnostic"


async def test_every_command_goes_out_at_qos_1(hass: HomeAssistant, mqtt_mock: Any) -> None:
    ids = await started(hass)
    calls: list[tuple[str, str, tuple[Any, ...]]] = []
    for key, c in P["discovery"]["cmps"].items():
        if c["p"] == "button":
            calls.append(("button", "press", (ids[key], c["command_topic"], "PRESS")))
    calls.append(("switch", "turn_off", (ids["remote_control"], "treadctl/tm1/set/armed", "OFF")))
    calls.append(("switch", "turn_on", (ids["remote_control"], "treadctl/tm1/set/armed", "ON")))
    for domain, service, (eid, topic, payload) in calls:
        mqtt_mock.async_publish.reset_mock()
        await hass.services.async_call(domain, service, {"entity_id": eid}, blocking=True)
        mqtt_mock.async_publish.assert_called_once_with(topic, payload, 1, False)
    mqtt_mock.async_publish.reset_mock()
    await hass.services.async_call(
        "select", "select_option", {"entity_id": ids["profile"], "option": "gentle"}, blocking=True
    )
    mqtt_mock.async_publish.assert_called_once_with("treadctl/tm1/set/profile", "gentle", 1, False)
    for key, value, topic in (
        ("speed_setpoint", 1.5, "treadctl/tm1/set/speed"),
        ("incline_setpoint", 2.5, "treadctl/tm1/set/incline"),
    ):
        mqtt_mock.async_publish.reset_mock()
        await hass.services.async_call(
            "number", "set_value", {"entity_id": ids[key], "value": value}, blocking=True
        )
        mqtt_mock.async_publish.assert_called_once_with(topic, str(value), 1, False)


async def test_the_event_entity_fires_for_safety_and_session_events(
    hass: HomeAssistant, mqtt_mock: Any
) -> None:
    ids = await started(hass)
    await publish_all(hass, [[P["event_topic"], P["events"]["safety_key"], False]])
    state = hass.states.get(ids["events"])
    assert state.attributes["event_type"] == "safety_key"
    assert state.attributes["message"] == "safety key pulled"
    await publish_all(hass, [[P["event_topic"], P["events"]["session_finished"], False]])
    state = hass.states.get(ids["events"])
    assert state.attributes["event_type"] == "session_finished"
    assert state.attributes["data"]["distance_m"] == 420
    before = state.state
    await publish_all(hass, [[P["event_topic"], P["events"]["cue"], False]])
    assert hass.states.get(ids["events"]).state == before  # not an offered kind: ignored


async def test_a_link_drop_changes_no_entity_and_the_removal_form_removes(
    hass: HomeAssistant, mqtt_mock: Any
) -> None:
    ids = await started(hass)
    device_before = dr.async_get(hass).async_get_device(identifiers={("mqtt", "treadctl_tm1")})
    await publish_all(hass, P["link_drop"])
    assert hass.states.get(ids["link"]).state == "off"
    assert hass.states.get(ids["speed"]).state == "unavailable"
    assert hass.states.get(ids["emergency_stop"]).state != "unavailable"
    device_after = dr.async_get(hass).async_get_device(identifiers={("mqtt", "treadctl_tm1")})
    assert device_after == device_before
    assert entity_ids(hass, P["discovery"]) == ids
    # The cap drops below the treadmill's minimum: the speed number goes away entirely.
    await publish_all(hass, P["cap_below_minimum"])
    assert hass.states.get(ids["speed_setpoint"]) is None
    assert er.async_get(hass).async_get(ids["speed_setpoint"]) is None
