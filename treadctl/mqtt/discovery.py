"""Home Assistant MQTT device-based discovery payload (pure).

One retained message on ``<discovery_prefix>/device/<device>/config`` describes the device, the
origin (this software), the availability topics and every entity (``cmps``), following Home
Assistant's device discovery (docs/references.md#ha-discovery). An empty retained payload on
the same topic removes the device.

Rules the payload keeps (each tested in tests/mqtt/test_mqtt_discovery*.py):

* **Components are never just left out.** Home Assistant removes a component of a device
  payload only when it is sent as ``{"p": "<platform>"}`` alone; one that is merely missing
  keeps its old configuration (a speed number kept a stale maximum). The profile select and the
  speed and incline numbers are sent in that removal form while they do not apply, and so is
  the ``armed`` binary sensor the ``remote_control`` switch replaced.
* **The device stays the same** while the treadmill is away: the caller passes the last known
  :class:`~treadctl.observations.DeviceInfo` (kept across link drops and restarts), so a link
  drop changes no entity.
* **Every command component has ``qos: 1``** (device-level ``qos`` is not passed on to the
  components by Home Assistant before 2026.5), the emergency stop first.
* Entity names never repeat the device name (Home Assistant puts it in front).

Entities read the retained state topic, the telemetry topic or the event topic with
``value_template``; commands go to ``<prefix>/<device>/set/<key>`` as plain payloads.
Availability uses both the bridge topic and the device's link topic with ``availability_mode:
all``; the link sensor, the emergency stop and the event entity use the bridge topic alone (a
link that is down must show as "off", the emergency stop must stay pressable and a disconnect
event must not be dropped).

The manual speed number's ``min``/``max``/``step`` come from the device's Supported Speed Range
(FTMS 0x2AD4) and the cap in force: ``max`` is the lower of the device maximum and the cap,
rounded down to the device's step. The incline number likewise from the Supported Inclination
Range (0x2AD5) and the incline cap. Home Assistant's own defaults (1..100) never stand in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from treadctl.commands import JsonValue
from treadctl.mqtt.entities import (
    BINARY_SENSORS,
    BUTTONS,
    EVENT_TYPES,
    REMOVED,
    SENSORS,
    SESSION_STATES,
    STATE_LIMIT,
)
from treadctl.mqtt.journey_entities import journey_components
from treadctl.mqtt.outbound import DeviceState, ProfileSummary
from treadctl.mqtt.topics import Topics
from treadctl.observations import DeviceInfo
from treadctl.units import centi_to_kmh, deci_to_percent, floor_to_grid


@dataclass(frozen=True, slots=True)
class Origin:
    """Discovery ``o``: the software that publishes the discovery (``name`` is required)."""

    name: str
    sw_version: str
    support_url: str | None = None


def speed_number_bounds(state: DeviceState) -> tuple[float, float, float] | None:
    """(min, max, step) in km/h for the manual speed number, or None when it must be removed."""
    info = state.info
    if info is None or info.speed_range is None or state.caps is None:
        return None
    r = info.speed_range
    top = min(r.maximum, state.caps.max_speed)
    if r.increment <= 0 or top < r.minimum:
        return None
    # Align the top to the device's increment above its minimum so that HA's slider only offers
    # speeds the device can take, rounding down (never up) as everywhere else.
    top = floor_to_grid(top, r.minimum, r.increment)
    return centi_to_kmh(r.minimum), centi_to_kmh(top), centi_to_kmh(r.increment)


def incline_number_bounds(state: DeviceState) -> tuple[float, float, float] | None:
    """(min, max, step) in % for the incline number, or None when it must be removed (no
    inclination range, incline not commanded, or the cap below the device minimum)."""
    info = state.info
    if info is None or info.incline_range is None or state.caps is None:
        return None
    if state.caps.max_incline is None:
        return None
    r = info.incline_range
    top = min(r.maximum, state.caps.max_incline)
    if r.increment <= 0 or top < r.minimum:
        return None
    top = floor_to_grid(top, r.minimum, r.increment)
    return deci_to_percent(r.minimum), deci_to_percent(top), deci_to_percent(r.increment)


def device_json(uid: str, name: str, info: DeviceInfo | None, url: str | None) -> JsonValue:
    """``dev``: identifiers always; connection, model and the Device Information Service
    strings once the treadmill was seen (the last known, also while it is away)."""
    dev: dict[str, JsonValue] = {"identifiers": [uid], "name": name}
    if info is not None and info.address:
        dev["connections"] = [["bluetooth", info.address]]
    ident = info.identity if info is not None else None
    model = (ident.model_number if ident else None) or (info.name if info else None)
    dev["model"] = model or "FTMS treadmill"
    if ident is not None:
        fields: dict[str, str | None] = {
            "manufacturer": ident.manufacturer,
            "serial_number": ident.serial_number,
            "hw_version": ident.hardware_revision,
            "sw_version": ident.firmware_revision or ident.software_revision,
        }
        dev.update({k: v for k, v in fields.items() if v})
    if url:
        dev["configuration_url"] = url
    return dev


def discovery_payload(
    *,
    topics: Topics,
    device: str,
    device_name: str,
    state: DeviceState | None,
    profiles: Sequence[ProfileSummary],
    origin: Origin,
    device_url: str | None = None,
) -> dict[str, JsonValue]:
    """The device discovery message for one treadmill. ``state.info`` should be the last known
    device info (None only before the treadmill was ever seen)."""
    state = state or DeviceState()
    uid = f"treadctl_{device}"
    bridge_only: list[JsonValue] = [{"topic": topics.bridge_state}]
    o: dict[str, JsonValue] = {"name": origin.name, "sw": origin.sw_version}
    if origin.support_url:
        o["url"] = origin.support_url
    state_topic = topics.state(device)
    cmps: dict[str, JsonValue] = {}

    def command(key: str, platform: str, name: str, **options: JsonValue) -> None:
        cmps[key] = {
            "p": platform,
            "name": name,
            "unique_id": f"{uid}_{key}",
            "qos": 1,
            **options,
        }

    for key, name, icon in BUTTONS:
        command(key, "button", name, command_topic=topics.set(device, key), payload_press="PRESS")
        button = cmps[key]
        if isinstance(button, dict):
            button["icon"] = icon
            if key == "emergency_stop":
                button["availability"] = list(bridge_only)
    command(
        "remote_control",
        "switch",
        "Remote control",
        command_topic=topics.set(device, "armed"),
        state_topic=state_topic,
        value_template="{{ 'ON' if value_json.armed else 'OFF' }}",
        payload_on="ON",
        payload_off="OFF",
        icon="mdi:shield-key",
    )
    if profiles:
        command(
            "profile",
            "select",
            "Profile",
            command_topic=topics.set(device, "profile"),
            state_topic=state_topic,
            value_template="{{ value_json.selected_profile }}",
            options=[p.id for p in profiles],
            icon="mdi:playlist-play",
        )
    else:
        cmps["profile"] = {"p": "select"}
    _numbers(cmps, command, topics, device, state)
    _sensors(cmps, uid, topics, device)
    for key, name, field, device_class, diagnostic in BINARY_SENSORS:
        c: dict[str, JsonValue] = {
            "p": "binary_sensor",
            "name": name,
            "unique_id": f"{uid}_{key}",
            "state_topic": state_topic,
            "value_template": f"{{{{ 'ON' if value_json.{field} else 'OFF' }}}}",
            "payload_on": "ON",
            "payload_off": "OFF",
        }
        if device_class is not None:
            c["device_class"] = device_class
        if diagnostic:
            c["entity_category"] = "diagnostic"
        if key == "link":
            c["availability"] = list(bridge_only)
        cmps[key] = c
    cmps["events"] = {
        "p": "event",
        "name": "Event",
        "unique_id": f"{uid}_events",
        "state_topic": topics.event(device),
        "event_types": list(EVENT_TYPES),
        "value_template": _EVENT_TEMPLATE,
        "availability": list(bridge_only),
        "icon": "mdi:bell-alert",
    }
    cmps.update(journey_components(topics, device, uid))
    for key, platform in REMOVED.items():
        cmps[key] = {"p": platform}
    return {
        "dev": device_json(uid, device_name, state.info, device_url),
        "o": o,
        "availability": [
            {"topic": topics.bridge_state},
            {"topic": topics.availability(device)},
        ],
        "availability_mode": "all",
        "qos": 1,
        "cmps": cmps,
    }


_EVENT_TEMPLATE = (
    "{% if value_json.kind in " + repr(list(EVENT_TYPES)) + " %}"
    "{{ {'event_type': value_json.kind, 'message': value_json.message,"
    " 'data': value_json.data} | to_json }}{% endif %}"
)
"""Renders ``{"event_type", "message", "data"}`` for the kinds in :data:`EVENT_TYPES` and
nothing (ignored by Home Assistant) for any other kind."""


def _numbers(
    cmps: dict[str, JsonValue],
    command: Callable[..., None],
    topics: Topics,
    device: str,
    state: DeviceState,
) -> None:
    state_topic = topics.state(device)
    speed = speed_number_bounds(state)
    if speed is None:
        cmps["speed_setpoint"] = {"p": "number"}
    else:
        command(
            "speed_setpoint",
            "number",
            "Manual speed",
            command_topic=topics.set(device, "speed"),
            state_topic=state_topic,
            value_template="{{ value_json.target_speed_kmh }}",
            min=speed[0],
            max=speed[1],
            step=speed[2],
            mode="box",
            unit_of_measurement="km/h",
            device_class="speed",
        )
    incline = incline_number_bounds(state)
    if incline is None:
        cmps["incline_setpoint"] = {"p": "number"}
    else:
        command(
            "incline_setpoint",
            "number",
            "Incline",
            command_topic=topics.set(device, "incline"),
            state_topic=state_topic,
            value_template="{{ value_json.target_incline_percent }}",
            min=incline[0],
            max=incline[1],
            step=incline[2],
            mode="box",
            unit_of_measurement="%",
            icon="mdi:slope-uphill",
        )


def _sensors(cmps: dict[str, JsonValue], uid: str, topics: Topics, device: str) -> None:
    state_topic = topics.state(device)
    for s in SENSORS:
        template = (
            f"{{{{ (value_json.{s.field} or '')[:{STATE_LIMIT}] or None }}}}"
            if s.text
            else f"{{{{ value_json.{s.field} }}}}"
        )
        c: dict[str, JsonValue] = {
            "p": "sensor",
            "name": s.name,
            "unique_id": f"{uid}_{s.key}",
            "state_topic": topics.telemetry(device) if s.telemetry else state_topic,
            "value_template": template,
        }
        optional: dict[str, JsonValue] = {
            "unit_of_measurement": s.unit,
            "device_class": s.device_class,
            "state_class": s.state_class,
            "icon": s.icon,
            "suggested_display_precision": s.precision,
            "entity_category": "diagnostic" if s.diagnostic else None,
        }
        c.update({k: v for k, v in optional.items() if v is not None})
        cmps[s.key] = c
    cmps["session"] = {
        "p": "sensor",
        "name": "Session",
        "unique_id": f"{uid}_session",
        "state_topic": state_topic,
        "value_template": "{{ value_json.session }}",
        "device_class": "enum",
        "options": list(SESSION_STATES),
        "icon": "mdi:run",
    }
    cmps["cue"] = {
        "p": "sensor",
        "name": "Cue",
        "unique_id": f"{uid}_cue",
        "state_topic": state_topic,
        "value_template": f"{{{{ (value_json.cue or '')[:{STATE_LIMIT}] or None }}}}",
        "json_attributes_topic": state_topic,
        "json_attributes_template": "{{ {'text': value_json.cue} | to_json }}",
        "icon": "mdi:message-text",
    }
