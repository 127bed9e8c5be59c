"""The Home Assistant tier: a real Home Assistant 2025.4 (in .venv-ha, Python 3.13) fed with the
payloads treadctl's outbox publishes; every entity is created, every command goes out at QoS 1,
events fire, a link drop changes nothing and the removal form removes (tests/ha_side/).

Skipped, saying why, when .venv-ha is missing: create it with ``scripts/ha-venv`` (needs Python
3.13; about 4 minutes and 1 GB once). Not part of CI (the install would take longer than the
test); run it with ``.venv/bin/python -m pytest tests/ha`` after ``scripts/ha-venv``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from treadctl.mqtt.discovery import Origin
from treadctl.mqtt.outbound import BridgeEvent, Caps, DeviceState, ProfileSummary
from treadctl.mqtt.outbox import Outbox, OutboxDevice
from treadctl.mqtt.topics import Topics
from treadctl.observations import DeviceIdentity, DeviceInfo, InclineRange, Reading, SpeedRange

pytestmark = pytest.mark.crossprocess

ROOT = Path(__file__).resolve().parents[2]
HA_PYTHON = ROOT / ".venv-ha" / "bin" / "python"
HA_SIDE = ROOT / "tests" / "ha_side"
TIMEOUT_S = 300.0

INFO = DeviceInfo(
    "AA:BB:CC:DD:EE:FF",
    "treadsim",
    SpeedRange(50, 1200, 10),
    InclineRange(0, 100, 5),
    DeviceIdentity(
        manufacturer="treadsim",
        model_number="treadsim generic",
        serial_number="TS-000001",
        hardware_revision="sim",
        firmware_revision="1.0",
    ),
)
LONG_CUE = "Keep your hands on the rails and look back over your shoulder now and then. " * 5


def messages(box: Outbox) -> list[list[Any]]:
    return [[p.topic, p.payload.decode(), p.retain] for p in box.take()]


def payloads() -> dict[str, Any]:
    """What the bridge publishes, step by step, from the outbox the bridge uses."""
    topics = Topics()
    box = Outbox(topics, [OutboxDevice("tm1", "Living room")], origin=Origin("treadctl", "0.1.0"))
    box.link("tm1", True)
    box.profiles("tm1", [ProfileSummary("gentle", "Gentle")])
    running = DeviceState(
        session="running",
        running=True,
        profile="gentle",
        selected_profile="gentle",
        cue=LONG_CUE,
        target_speed=150,
        reported_speed=148,
        caps=Caps(300, 100),
        armed=True,
        info=INFO,
    )
    box.state("tm1", running)
    box.telemetry("tm1", Reading(at=1.0, speed=148, distance_m=12), now=1.0, wall_time=1.0)
    startup = messages(box)
    discovery_body = box.retained(topics.discovery("tm1"))
    assert discovery_body is not None
    discovery = json.loads(discovery_body)
    events: dict[str, str] = {}
    for event in (
        BridgeEvent("safety_key", "safety key pulled"),
        BridgeEvent("session_finished", "", {"profile": "gentle", "distance_m": 420}),
        BridgeEvent("cue", "Look back", {"speak": "Look back"}),
    ):
        box.event("tm1", event, wall_time=2.0)
        ((_, payload, _),) = messages(box)
        events[event.kind] = payload
    box.link("tm1", False)
    box.state("tm1", DeviceState(caps=Caps(300, 100)))  # as the daemon reports it: no info
    link_drop = messages(box)
    box.link("tm1", True)
    box.state("tm1", DeviceState(info=INFO, caps=Caps(40, 100)))
    cap_below_minimum = messages(box)
    return {
        "startup": startup,
        "discovery": discovery,
        "entity_count": sum(1 for c in discovery["cmps"].values() if len(c) > 1),
        "long_cue": LONG_CUE,
        "event_topic": topics.event("tm1"),
        "events": events,
        "link_drop": link_drop,
        "cap_below_minimum": cap_below_minimum,
    }


def test_a_real_home_assistant_takes_what_treadctl_publishes(tmp_path: Path) -> None:
    if not HA_PYTHON.exists():
        pytest.skip(
            "Home Assistant tier: no .venv-ha; create it with scripts/ha-venv (Python 3.13)"
        )
    path = tmp_path / "payloads.json"
    path.write_text(json.dumps(payloads()), encoding="utf-8")
    run = subprocess.run(
        [str(HA_PYTHON), "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-c", str(HA_SIDE / "pytest.ini"), "--rootdir", str(HA_SIDE), str(HA_SIDE)],
        cwd=HA_SIDE,
        env={**os.environ, "TREADCTL_HA_PAYLOADS": str(path), "PYTHONPATH": ""},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )  # fmt: skip
    sys.stdout.write(run.stdout[-3000:])
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
