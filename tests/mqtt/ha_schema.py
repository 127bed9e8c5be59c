"""What Home Assistant accepts in MQTT device discovery: the keys of each platform we use.

Taken from Home Assistant 2025.4.4, ``homeassistant/components/mqtt/`` (``schemas.py``:
``MQTT_ENTITY_COMMON_SCHEMA``, ``MQTT_ENTITY_DEVICE_INFO_SCHEMA``, ``MQTT_ORIGIN_INFO_SCHEMA``,
``DEVICE_DISCOVERY_SCHEMA``, ``SHARED_OPTIONS``; ``config.py``: ``MQTT_BASE_SCHEMA``,
``MQTT_RO_SCHEMA``, ``MQTT_RW_SCHEMA``; and each platform's ``PLATFORM_SCHEMA_MODERN``), with
the abbreviations of ``abbreviations.py`` that the payload uses. Update it together with the
Home Assistant version the documentation names (docs/home-assistant.md).
"""

from __future__ import annotations

from typing import Any

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
    "entity_category",
    "entity_picture",
    "icon",
    "json_attributes_template",
    "json_attributes_topic",
    "object_id",
    "origin",
    "unique_id",
    "platform",
}
BASE = {"qos", "encoding"}
READ_ONLY = BASE | {"state_topic", "value_template"}
READ_WRITE = BASE | {"command_topic", "optimistic", "retain", "state_topic"}

KEYS: dict[str, set[str]] = {
    "sensor": COMMON
    | READ_ONLY
    | {
        "device_class",
        "expire_after",
        "force_update",
        "last_reset_value_template",
        "name",
        "options",
        "suggested_display_precision",
        "state_class",
        "unit_of_measurement",
    },
    "binary_sensor": COMMON
    | READ_ONLY
    | {
        "device_class",
        "expire_after",
        "force_update",
        "name",
        "off_delay",
        "payload_off",
        "payload_on",
    },
    "button": COMMON
    | BASE
    | {"command_template", "command_topic", "device_class", "name", "payload_press", "retain"},
    "number": COMMON
    | READ_WRITE
    | {
        "command_template",
        "device_class",
        "max",
        "min",
        "mode",
        "name",
        "payload_reset",
        "step",
        "unit_of_measurement",
        "value_template",
    },
    "select": COMMON | READ_WRITE | {"command_template", "name", "options", "value_template"},
    "switch": COMMON
    | READ_WRITE
    | {
        "command_template",
        "device_class",
        "name",
        "payload_off",
        "payload_on",
        "state_off",
        "state_on",
        "value_template",
    },
    "event": COMMON | READ_ONLY | {"device_class", "event_types", "name"},
}
REQUIRED: dict[str, set[str]] = {
    "sensor": {"state_topic"},
    "binary_sensor": {"state_topic"},
    "button": {"command_topic"},
    "number": {"command_topic"},
    "select": {"command_topic", "options"},
    "switch": {"command_topic"},
    "event": {"state_topic", "event_types"},
}
"""Besides ``platform`` and (for an entity, not a removal) ``unique_id``."""

DEVICE_PAYLOAD = AVAILABILITY | {
    "device", "components", "origin", "state_topic", "command_topic", "qos", "encoding",
}  # fmt: skip
DEVICE_KEYS = {
    "configuration_url", "connections", "hw_version", "identifiers", "manufacturer", "model",
    "model_id", "name", "serial_number", "suggested_area", "sw_version", "via_device",
}  # fmt: skip
ORIGIN_KEYS = {"name", "sw_version", "support_url"}
SHARED_OPTIONS = {
    "availability", "availability_mode", "availability_template", "availability_topic",
    "command_topic", "payload_available", "payload_not_available", "state_topic",
}  # fmt: skip
"""Device-level keys Home Assistant copies into each component (``qos`` is not among them)."""
ENTITY_CATEGORIES = {"config", "diagnostic"}


def expand(payload: dict[str, Any]) -> dict[str, Any]:
    return {ABBREVIATIONS.get(k, k): v for k, v in payload.items()}


def problems(payload: dict[str, Any]) -> list[str]:
    """Everything in a device discovery payload that Home Assistant 2025.4 would refuse."""
    found: list[str] = []
    p = expand(payload)
    found += [f"device payload key {k}" for k in set(p) - DEVICE_PAYLOAD]
    found += [f"missing {k}" for k in {"device", "origin", "components"} - set(p)]
    device = p.get("device", {})
    found += [f"device key {k}" for k in set(device) - DEVICE_KEYS]
    if not (device.get("identifiers") or device.get("connections")):
        found.append("device without identifiers or connections")
    origin = expand(p.get("origin", {}))
    found += [f"origin key {k}" for k in set(origin) - ORIGIN_KEYS]
    if "name" not in origin:
        found.append("origin without name")
    for cid, raw in p.get("components", {}).items():
        c = expand(raw)
        platform = c.get("platform")
        if platform not in KEYS:
            found.append(f"{cid}: platform {platform}")
            continue
        if set(c) == {"platform"}:
            continue  # the removal form
        found += [f"{cid}: key {k}" for k in set(c) - KEYS[platform]]
        found += [f"{cid}: missing {k}" for k in (REQUIRED[platform] | {"unique_id"}) - set(c)]
        if c.get("entity_category", "diagnostic") not in ENTITY_CATEGORIES:
            found.append(f"{cid}: entity_category {c['entity_category']}")
        enum_ok = c.get("device_class") == "enum" and not {
            "unit_of_measurement",
            "state_class",
        } & set(c)
        if platform == "sensor" and "options" in c and not enum_ok:
            found.append(f"{cid}: options need device_class enum, no unit or state class")
        for entry in c.get("availability", []):
            extra = set(entry) - {"topic", "payload_available", "payload_not_available",
                                  "value_template"}  # fmt: skip
            found += [f"{cid}: availability key {k}" for k in extra]
    return found
