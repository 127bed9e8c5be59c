"""The bridge driven by the real mosquitto_pub / mosquitto_sub clients, as a person would."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import pytest

from harness.mosquitto import Mosquitto, find_binary
from tests.mqtt.mqtt_watch import Watcher
from treadctl.commands import CommandResult, SetSpeed, Stop
from treadctl.config.mqtt import MqttConfig
from treadctl.mqtt.bridge import BridgeDevice, MqttBridge

pytestmark = pytest.mark.crossprocess

HANG_GUARD_S = 10.0


@pytest.fixture
async def bridge(
    mosquitto: Mosquitto, settings_for: Callable[..., MqttConfig]
) -> AsyncIterator[MqttBridge]:
    async with MqttBridge(settings_for(mosquitto), [BridgeDevice("tm1", "Treadmill")]) as b:
        await b.set_availability("tm1", True)
        await b.wait_connected()
        yield b


async def run(*argv: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    async with asyncio.timeout(HANG_GUARD_S):
        out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode()


async def test_v5_request_with_response_topic_and_correlation_data(
    mosquitto: Mosquitto, bridge: MqttBridge, watch: Watcher
) -> None:
    pub = find_binary("mosquitto_pub")
    sub = find_binary("mosquitto_sub")
    base = ["-h", mosquitto.host, "-p", str(mosquitto.port)]
    # mosquitto_sub waits for one reply on the script's own topic, printing the correlation data.
    subscriber = await asyncio.create_subprocess_exec(
        sub, *base, "-V", "mqttv5", "-q", "1", "-t", "scripts/replies", "-C", "1",
        "-i", "cli-sub", "-F", "REPLY %t|%D|%p",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        # Subscribed once the broker logs it ("<client id> <qos> <topic>").
        await asyncio.to_thread(mosquitto.wait_for_log, "cli-sub 1 scripts/replies")
        await run(
            pub, *base, "-V", "mqttv5", "-q", "1",
            "-t", "treadctl/tm1/request/set_speed",
            "-m", '{"kmh": 2.5, "transaction": "cli-1"}',
            "-D", "publish", "response-topic", "scripts/replies",
            "-D", "publish", "correlation-data", "abc123",
        )  # fmt: skip
        requests = bridge.requests()
        async with asyncio.timeout(HANG_GUARD_S):
            request = await anext(requests)
        assert request.command == SetSpeed(2.5)
        await request.reply(CommandResult.success({"target_kmh": 2.5}))
        async with asyncio.timeout(HANG_GUARD_S):
            out, _ = await subscriber.communicate()
    finally:
        if subscriber.returncode is None:
            subscriber.kill()
            await subscriber.communicate()
    lines = [ln for ln in out.decode().splitlines() if ln.startswith("REPLY ")]
    assert len(lines) == 1, out.decode()
    topic, correlation, payload = lines[0].removeprefix("REPLY ").split("|", 2)
    assert topic == "scripts/replies"
    assert correlation == "abc123"
    assert json.loads(payload) == {
        "status": "ok",
        "data": {"target_kmh": 2.5},
        "error": None,
        "transaction": "cli-1",
    }
    # The same reply also went to the bridge's own response topic.
    default = await watch.expect_json("treadctl/tm1/response/set_speed")
    assert default == json.loads(payload)

    # A Home Assistant style button press from the 3.1.1 command line client.
    await run(pub, *base, "-t", "treadctl/tm1/set/stop", "-m", "PRESS")
    async with asyncio.timeout(HANG_GUARD_S):
        request = await anext(requests)
    assert request.command == Stop()
    await request.reply(CommandResult.success())
    await requests.aclose()
