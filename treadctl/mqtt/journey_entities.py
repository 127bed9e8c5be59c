"""Home Assistant components for the journey (docs/journey.md), part of the device discovery.

Sensors read the retained ``<prefix>/<device>/journey`` topic; ``start_next`` and the rating
are commands on ``set/<key>``: the pain number, difficulty select and near-fall switch are held
by the daemon per treadmill (shown back in the journey's ``rating``) until the submit button.
Pure module.
"""

from __future__ import annotations

from treadctl.commands import JsonValue
from treadctl.mqtt.topics import Topics

JOURNEY_SENSORS: tuple[tuple[str, str, str, dict[str, JsonValue]], ...] = (
    # key, name, journey field, extra options
    ("stage", "Program stage", "stage_label", {"icon": "mdi:stairs-up"}),
    (
        "sessions_week",
        "Sessions this week",
        "sessions_this_week",
        {"state_class": "measurement", "icon": "mdi:calendar-week"},
    ),
    (
        "backward_week",
        "Backward minutes this week",
        "backward_min_this_week",
        {"unit_of_measurement": "min", "device_class": "duration", "state_class": "measurement"},
    ),
    ("last_session", "Last session", "last_session", {"icon": "mdi:history"}),
    ("next_due", "Next session due", "next_due", {"device_class": "timestamp"}),
)

JOURNEY_BUTTONS: tuple[tuple[str, str, str], ...] = (
    ("start_next", "Start next program session", "mdi:skip-next"),
    ("rate_session", "Submit rating", "mdi:send"),
)


def journey_components(topics: Topics, device: str, uid: str) -> dict[str, JsonValue]:
    journey = topics.journey(device)
    cmps: dict[str, JsonValue] = {}
    for key, name, field, extra in JOURNEY_SENSORS:
        cmps[key] = {
            "p": "sensor",
            "name": name,
            "unique_id": f"{uid}_{key}",
            "state_topic": journey,
            "value_template": f"{{{{ value_json.{field} }}}}",
            **extra,
        }
    for key, name, icon in JOURNEY_BUTTONS:
        cmps[key] = {
            "p": "button",
            "name": name,
            "unique_id": f"{uid}_{key}",
            "qos": 1,
            "command_topic": topics.set(device, key),
            "payload_press": "PRESS",
            "icon": icon,
        }
    cmps["rating_pain"] = {
        "p": "number",
        "name": "Rating: pain",
        "unique_id": f"{uid}_rating_pain",
        "qos": 1,
        "command_topic": topics.set(device, "rating_pain"),
        "state_topic": journey,
        # An unset pain renders "None": Home Assistant's payload_reset, the number is unknown.
        "value_template": "{{ value_json.rating.pain }}",
        "min": 0,
        "max": 10,
        "step": 1,
        "mode": "slider",
        "icon": "mdi:emoticon-sad-outline",
    }
    cmps["rating_difficulty"] = {
        "p": "select",
        "name": "Rating: difficulty",
        "unique_id": f"{uid}_rating_difficulty",
        "qos": 1,
        "command_topic": topics.set(device, "rating_difficulty"),
        "state_topic": journey,
        "value_template": "{{ value_json.rating.difficulty }}",
        "options": ["easy", "ok", "hard"],
        "icon": "mdi:gauge",
    }
    cmps["rating_near_fall"] = {
        "p": "switch",
        "name": "Rating: near-fall",
        "unique_id": f"{uid}_rating_near_fall",
        "qos": 1,
        "command_topic": topics.set(device, "rating_near_fall"),
        "state_topic": journey,
        "value_template": "{{ 'ON' if value_json.rating.near_fall else 'OFF' }}",
        "payload_on": "ON",
        "payload_off": "OFF",
        "icon": "mdi:human-handsdown",
    }
    return cmps
