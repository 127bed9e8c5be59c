"""Fixtures of the MQTT bridge tests: a real Mosquitto, bridge settings, a watching client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from harness.mosquitto import Mosquitto, mosquitto
from tests.mqtt.bridge_rig import bridge, clock, daemon
from tests.mqtt.mqtt_watch import Watcher, watcher
from treadctl.config.mqtt import MqttConfig

__all__ = ["bridge", "clock", "daemon", "mosquitto", "settings_for", "watch"]


@pytest.fixture
def settings_for() -> Callable[..., MqttConfig]:
    """Settings pointing at a broker, with fast reconnects and no birth delay for tests."""

    def make(broker: Mosquitto, **overrides: Any) -> MqttConfig:
        values: dict[str, Any] = {
            "host": broker.host,
            "port": broker.port,
            "client_id": "treadctl-test",
            "backoff_initial_s": 0.05,
            "backoff_max_s": 0.2,
            "birth_delay_max_s": 0.0,
            "telemetry_min_interval_s": 0.0,
        }
        values.update(overrides)
        return MqttConfig(**values)

    return make


@pytest.fixture
async def watch(mosquitto: Mosquitto) -> AsyncIterator[Watcher]:
    """A v5 client subscribed to everything on the test broker."""
    async with watcher(mosquitto, "#") as w:
        yield w
