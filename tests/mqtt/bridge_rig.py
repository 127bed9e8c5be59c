"""Shared pieces of the bridge tests against a real Mosquitto: the devices, a stand-in for
the daemon that takes requests, a barrier (a request for an unknown command is answered by the
bridge itself the moment it arrives, so once its reply is seen, everything the same client
published before it has reached the bridge: MQTT keeps one publisher's order) and the fixtures
(registered in tests/mqtt/conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from harness.mosquitto import Mosquitto
from tests.mqtt.mqtt_watch import Watcher
from treadctl.config.mqtt import MqttConfig
from treadctl.mqtt.bridge import BridgeDevice, MqttBridge, Request
from treadctl.observations import DeviceInfo, SpeedRange

DEVICES = [BridgeDevice("tm1", "Living room treadmill"), BridgeDevice("tm2", "Spare")]
INFO = DeviceInfo("AA:BB:CC:DD:EE:FF", "Retro T1", SpeedRange(50, 1600, 10), None)
HANG_GUARD_S = 10.0


class Daemon:
    """Stands in for the daemon: takes requests one by one."""

    def __init__(self, bridge: MqttBridge) -> None:
        self.bridge = bridge
        self._it = bridge.requests()

    async def next(self) -> Request:
        async with asyncio.timeout(HANG_GUARD_S):
            return await anext(self._it)

    async def close(self) -> None:
        await self._it.aclose()


async def barrier(watch: Watcher, device: str = "tm1") -> None:
    """Returns once the bridge has received everything ``watch`` published before."""
    await watch.publish(f"treadctl/{device}/request/barrier", "{}")
    reply = await watch.expect_json(f"treadctl/{device}/response/barrier")
    assert reply["error"]["code"] == "unknown_command"


@pytest.fixture
async def clock() -> list[float]:
    return [1000.0]


@pytest.fixture
async def bridge(
    mosquitto: Mosquitto,
    settings_for: Callable[..., MqttConfig],
    watch: Watcher,
    clock: list[float],
) -> AsyncIterator[MqttBridge]:
    async with MqttBridge(settings_for(mosquitto), DEVICES, clock=lambda: clock[0]) as b:
        await b.wait_connected()
        await b.set_availability("tm1", True)
        await watch.expect("treadctl/tm1/availability", lambda m: m.payload == b"online")
        yield b


@pytest.fixture
async def daemon(bridge: MqttBridge) -> AsyncIterator[Daemon]:
    d = Daemon(bridge)
    yield d
    await d.close()
