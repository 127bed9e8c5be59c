"""Home Assistant MQTT device-based discovery payload (pure).

One retained message on ``<discovery_prefix>/device/<device>/config`` describes the device, the
origin (this software), the availability topics and every entity (``cmps``), following
https://www.home-assistant.io/integrations/mqtt/#device-discovery-payload and the per-platform
pages (sensor, binary_sensor, button, number, select ``.mqtt``). An empty retained payload on the
same topic removes the device.

Entities read the retained state topic or the telemetry topic with ``value_template``; commands go
to ``<prefix>/<device>/set/<key>`` as plain payloads. Availability uses both the bridge topic and
the device's link topic with ``availability_mode: all``; the link sensor and the emergency stop
button override it with the bridge topic alone (a link that is down must show as "off", not as
"unavailable", and the emergency stop must stay pressable).

The manual speed number's ``min``/``max``/``step`` come from the device's Supported Speed Range
(FTMS 0x2AD4) and the cap in force: ``max`` is the lower of the device maximum and the cap. The
number is left out until both are known, and when the cap is below the device minimum: Home
Assistant's own defaults (1..100) must never stand in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from treadctl.commands import JsonValue
from treadctl.mqtt.outbound import DeviceState, ProfileSummary
from treadctl.mqtt.topics import Topics
from treadctl.units import centi_to_kmh, floor_to_grid


@dataclass(frozen=True, slots=True)
class Origin:
    """Discovery ``o``: the software that publishes the discovery (``name`` is required)."""

    name: str
    sw_version: str
    support_url: str | None = None


@dataclass(frozen=True, slots=True)
class SensorSpec:
    key: str
    name: str
    source: str  # "state" or "telemetry"
    field: str
    unit: str | None = None
    device_class: str | None = None
    state_class: str | None = None
    icon: str | None = None


SENSORS: tuple[SensorSpec, ...] = (
    SensorSpec("speed", "Speed", "telemetry", "speed_kmh", "km/h", "speed", "measurement"),
    SensorSpec(
        "distance", "Distance", "telemetry", "distance_m", "m", "distance", "total_increasing"
    ),
    SensorSpec(
        "incline",
        "Incline",
        "telemetry",
        "incline_percent",
        "%",
        None,
        "measurement",
        "mdi:slope-uphill",
    ),
    SensorSpec("elapsed", "Elapsed time", "telemetry", "elapsed_s", "s", "duration", "measurement"),
    SensorSpec(
        "remaining", "Remaining time", "telemetry", "remaining_s", "s", "duration", "measurement"
    ),
    # Heart rate has no device class in Home Assistant: plain bpm (docs/references.md#ha-discovery).
    # From the state: the source the heart-rate guard follows (a strap, else the treadmill).
    SensorSpec(
        "heart_rate",
        "Heart rate",
        "state",
        "heart_rate_bpm",
        "bpm",
        None,
        "measurement",
        "mdi:heart-pulse",
    ),
    SensorSpec(
        "energy", "Energy", "telemetry", "energy_kcal", "kcal", None, "total_increasing", "mdi:fire"
    ),
    SensorSpec(
        "steps", "Steps", "telemetry", "steps", "steps", None, "total_increasing", "mdi:shoe-print"
    ),
    SensorSpec("session", "Session", "state", "session", icon="mdi:run"),
    SensorSpec("segment", "Segment", "state", "segment", icon="mdi:format-list-numbered"),
    SensorSpec("cue", "Cue", "state", "cue", icon="mdi:message-text"),
)

BINARY_SENSORS: tuple[tuple[str, str, str, str | None], ...] = (
    # key, name, state field, device class
    ("link", "Treadmill link", "link", "connectivity"),
    ("armed", "Remote control armed", "armed", None),
    ("running", "Running", "running", "running"),
    ("heart_rate_hold", "Heart-rate guard holding", "heart_rate_holding", None),
)

BUTTONS: tuple[tuple[str, str, str], ...] = (
    # set/<key>, name, icon
    ("start", "Start profile", "mdi:play"),
    ("pause", "Pause", "mdi:pause"),
    ("resume", "Resume", "mdi:play-pause"),
    ("stop", "Stop", "mdi:stop"),
    ("emergency_stop", "Emergency stop", "mdi:alert-octagon"),
    ("arm", "Arm remote control", "mdi:shield-key"),
)


def speed_number_bounds(state: DeviceState) -> tuple[float, float, float] | None:
    """(min, max, step) in km/h for the manual speed number, or None when it must be left out."""
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


def discovery_payload(
    *,
    topics: Topics,
    device: str,
    device_name: str,
    state: DeviceState | None,
    profiles: Sequence[ProfileSummary],
    origin: Origin,
) -> dict[str, JsonValue]:
    """The device discovery message for one treadmill."""
    state = state or DeviceState()
    uid = f"treadctl_{device}"
    bridge_only: list[JsonValue] = [{"topic": topics.bridge_state}]
    dev: dict[str, JsonValue] = {
        "identifiers": [uid],
        "name": device_name,
        "manufacturer": "treadctl",
        "model": "FTMS treadmill",
    }
    info = state.info
    if info is not None:
        dev["connections"] = [["bluetooth", info.address]]
        if info.name:
            dev["model"] = info.name
    o: dict[str, JsonValue] = {"name": origin.name, "sw": origin.sw_version}
    if origin.support_url:
        o["url"] = origin.support_url

    state_topic = topics.state(device)
    telemetry_topic = topics.telemetry(device)
    cmps: dict[str, JsonValue] = {}
    for s in SENSORS:
        c: dict[str, JsonValue] = {
            "p": "sensor",
            "name": s.name,
            "unique_id": f"{uid}_{s.key}",
            "state_topic": telemetry_topic if s.source == "telemetry" else state_topic,
            "value_template": f"{{{{ value_json.{s.field} }}}}",
        }
        if s.unit is not None:
            c["unit_of_measurement"] = s.unit
        if s.device_class is not None:
            c["device_class"] = s.device_class
        if s.state_class is not None:
            c["state_class"] = s.state_class
        if s.icon is not None:
            c["icon"] = s.icon
        cmps[s.key] = c
    for key, name, state_field, device_class in BINARY_SENSORS:
        c = {
            "p": "binary_sensor",
            "name": name,
            "unique_id": f"{uid}_{key}",
            "state_topic": state_topic,
            "value_template": f"{{{{ 'ON' if value_json.{state_field} else 'OFF' }}}}",
            "payload_on": "ON",
            "payload_off": "OFF",
        }
        if device_class is not None:
            c["device_class"] = device_class
        if key == "link":
            c["availability"] = list(bridge_only)
        cmps[key] = c
    for key, name, icon in BUTTONS:
        c = {
            "p": "button",
            "name": name,
            "unique_id": f"{uid}_{key}",
            "command_topic": topics.set(device, key),
            "payload_press": "PRESS",
            "icon": icon,
        }
        if key == "emergency_stop":
            c["availability"] = list(bridge_only)
        cmps[key] = c
    if profiles:
        cmps["profile"] = {
            "p": "select",
            "name": "Profile",
            "unique_id": f"{uid}_profile",
            "command_topic": topics.set(device, "profile"),
            "state_topic": state_topic,
            "value_template": "{{ value_json.selected_profile }}",
            "options": [p.id for p in profiles],
            "icon": "mdi:playlist-play",
        }
    bounds = speed_number_bounds(state)
    if bounds is not None:
        low, high, step = bounds
        cmps["speed_setpoint"] = {
            "p": "number",
            "name": "Manual speed",
            "unique_id": f"{uid}_speed_setpoint",
            "command_topic": topics.set(device, "speed"),
            "state_topic": state_topic,
            "value_template": "{{ value_json.target_speed_kmh }}",
            "min": low,
            "max": high,
            "step": step,
            "mode": "box",
            "unit_of_measurement": "km/h",
            "device_class": "speed",
        }
    return {
        "dev": dev,
        "o": o,
        "availability": [
            {"topic": topics.bridge_state},
            {"topic": topics.availability(device)},
        ],
        "availability_mode": "all",
        "qos": 1,
        "cmps": cmps,
    }
