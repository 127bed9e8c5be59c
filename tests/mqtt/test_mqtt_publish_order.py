"""What a client sees of the bridge's publication order, against a real Mosquitto."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from harness.mosquitto import Mosquitto
from tests.mqtt.mqtt_watch import Watcher
from treadctl.commands import Arm, CommandResult
from treadctl.config.mqtt import MqttConfig
from treadctl.mqtt.bridge import BridgeDevice, MqttBridge
from treadctl.mqtt.outbound import DeviceState

pytestmark = pytest.mark.crossprocess

HANG_GUARD_S = 10.0


@pytest.fixture
async def bridge(
    mosquitto: Mosquitto, settings_for: Callable[..., MqttConfig], watch: Watcher
) -> AsyncIterator[MqttBridge]:
    async with MqttBridge(settings_for(mosquitto), [BridgeDevice("tm1", "Treadmill")]) as b:
        await b.wait_connected()
        await b.set_availability("tm1", True)
        await watch.expect("treadctl/tm1/availability", lambda m: m.payload == b"online")
        yield b


async def test_reply_arrives_ahead_of_the_state_it_caused(
    bridge: MqttBridge, watch: Watcher
) -> None:
    """docs/benchmarks.md: the reply used to wait for the broker's acknowledgement of the
    retained state message the command caused."""
    requests = bridge.requests()
    for n in range(5):
        await watch.publish("treadctl/tm1/request/arm", "{}")
        async with asyncio.timeout(HANG_GUARD_S):
            request = await anext(requests)
        assert request.command == Arm()
        # As the daemon does: the state changes, then the command is answered.
        await bridge.publish_state("tm1", DeviceState(armed=True, armed_remaining_s=float(n)))
        await request.reply(CommandResult.success({"n": n}))
        reply = await watch.expect_json("treadctl/tm1/response/arm")
        assert reply["data"] == {"n": n}
        early = [m for m in watch.drain_pending("treadctl/tm1/state") if m.json()["armed"]]
        assert early == [], "the state message arrived before the reply to the command"
        state = await watch.expect("treadctl/tm1/state")
        assert state.json()["armed"] is True
        assert state.json()["armed_remaining_s"] == float(n)
    await requests.aclose()
