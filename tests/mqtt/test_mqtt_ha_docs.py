"""The dashboard card and automations in docs/home-assistant.md are valid YAML and name only
entities the discovery creates (entity ids as Home Assistant derives them: the device name and
the entity name, slugified; checked against a real Home Assistant in tests/ha)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from treadctl.mqtt.discovery import Origin, discovery_payload
from treadctl.mqtt.journey_entities import JOURNEY_BUTTONS
from treadctl.mqtt.outbound import Caps, DeviceState, ProfileSummary
from treadctl.mqtt.topics import Topics
from treadctl.observations import DeviceInfo, InclineRange, SpeedRange

DOC = Path(__file__).resolve().parents[2] / "docs" / "home-assistant.md"
ENTITY = re.compile(r"\b(button|sensor|switch|select|number|event|binary_sensor)\.living_room_\w+")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def entity_ids() -> set[str]:
    info = DeviceInfo("AA:BB:CC:DD:EE:FF", "x", SpeedRange(50, 1200, 10), InclineRange(0, 100, 5))
    payload = discovery_payload(
        topics=Topics(),
        device="living-room",
        device_name="living-room",
        state=DeviceState(info=info, caps=Caps(300, 100)),
        profiles=[ProfileSummary("gentle")],
        origin=Origin("treadctl", "0"),
    )
    cmps: dict[str, Any] = payload["cmps"]  # type: ignore[assignment]
    return {f"{c['p']}.{slug('living-room ' + c['name'])}" for c in cmps.values() if len(c) > 1}


def test_documented_yaml_parses_and_names_real_entities() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 3  # the dashboard and two automations (and the cue automation)
    known = entity_ids()
    assert "button.living_room_start_next_program_session" in known
    assert any(key == "start_next" for key, _, _ in JOURNEY_BUTTONS)
    for block in blocks:
        assert yaml.safe_load(block)
        for match in ENTITY.finditer(block):
            assert match.group(0) in known, match.group(0)
