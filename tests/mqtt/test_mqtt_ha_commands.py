"""Home Assistant's side of the commands, against a real Mosquitto: the retained discovery gives
every command component QoS 1, and an emergency stop pressed as Home Assistant sends it (the
button's command topic, payload and QoS from that discovery) arrives during a flood of 1,000
commands per second."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable

import pytest

from harness.mosquitto import Mosquitto, find_binary
from tests.faults.flood import garbage
from tests.mqtt.mqtt_watch import Watcher, watcher
from treadctl.commands import CommandResult, EmergencyStop
from treadctl.config.mqtt import MqttConfig
from treadctl.mqtt.bridge import BridgeDevice, MqttBridge, Request
from treadctl.mqtt.entities import COMMAND_PLATFORMS
from treadctl.mqtt.outbound import Caps, DeviceState, ProfileSummary
from treadctl.observations import DeviceInfo, InclineRange, SpeedRange

pytestmark = pytest.mark.crossprocess

INFO = DeviceInfo(
    "AA:BB:CC:DD:EE:FF", "Retro T1", SpeedRange(50, 1600, 10), InclineRange(0, 150, 5)
)
DISCOVERY = "homeassistant/device/tm1/config"
FLOOD_PER_S = 1000
FLOOD_S = 2.0
ESTOP_DEADLINE_S = 5.0
"""Generous on a loaded CI machine; the measured delivery time is printed."""


async def discovery_as_home_assistant_sees_it(broker: Mosquitto) -> dict[str, object]:
    """The retained discovery a Home Assistant subscribing now receives, once it is complete."""
    async with watcher(broker, DISCOVERY) as ha:
        message = await ha.expect(
            DISCOVERY, lambda m: "max" in json.loads(m.payload)["cmps"]["incline_setpoint"]
        )
        assert message.retain
        payload: dict[str, object] = json.loads(message.payload)
        return payload


async def test_every_command_component_has_qos_1_and_the_emergency_stop_beats_a_flood(
    mosquitto: Mosquitto, settings_for: Callable[..., MqttConfig], watch: Watcher
) -> None:
    settings = settings_for(mosquitto, max_pending_requests=1024)
    async with MqttBridge(settings, [BridgeDevice("tm1", "Living room")]) as bridge:
        await bridge.wait_connected()
        await bridge.set_availability("tm1", True)
        await bridge.publish_profiles("tm1", [ProfileSummary("gentle")])
        await bridge.publish_state("tm1", DeviceState(info=INFO, caps=Caps(300, 100)))
        payload = await discovery_as_home_assistant_sees_it(mosquitto)
        components = payload["cmps"]
        assert isinstance(components, dict)
        commands = {
            key: c for key, c in components.items() if c["p"] in COMMAND_PLATFORMS and len(c) > 1
        }
        assert {c["p"] for c in commands.values()} == COMMAND_PLATFORMS
        assert {key: c.get("qos") for key, c in commands.items()} == dict.fromkeys(commands, 1)
        estop = commands["emergency_stop"]

        # Home Assistant presses the emergency stop while the broker carries a flood of other
        # commands (QoS 0, half of them garbage) that nobody takes from the bridge.
        emergencies = bridge.emergency_requests()
        arrivals: list[tuple[float, Request]] = []

        async def take_emergency_stop() -> None:
            request = await anext(emergencies)
            arrivals.append((time.monotonic(), request))

        flood = await asyncio.create_subprocess_exec(
            find_binary("mosquitto_pub"),
            "-h", mosquitto.host, "-p", str(mosquitto.port), "-q", "0", "-l",
            "-t", "treadctl/tm1/set/speed",
            stdin=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert flood.stdin is not None
        rng = random.Random(16)
        total = int(FLOOD_PER_S * FLOOD_S)
        pressed_at: float | None = None
        try:
            async with asyncio.timeout(FLOOD_S + ESTOP_DEADLINE_S), asyncio.TaskGroup() as tg:
                taker = tg.create_task(take_emergency_stop())
                began = time.monotonic()
                for sent in range(0, total, 50):
                    for n in range(50):
                        line = garbage(rng) if n % 2 else b"1.5"
                        flood.stdin.write(line.replace(b"\n", b" ").replace(b"\r", b" ") + b"\n")
                    await flood.stdin.drain()
                    if pressed_at is None and sent >= total // 2:
                        pressed_at = time.monotonic()
                        topic, press = str(estop["command_topic"]), str(estop["payload_press"])
                        await watch.publish(topic, press, qos=int(estop["qos"]))
                    # Pacing of the flood generator (a rate, not a wait for a condition).
                    await asyncio.sleep(
                        max(0.0, began + (sent + 50) / FLOOD_PER_S - time.monotonic())
                    )
                rate = total / (time.monotonic() - began)
                await taker
        finally:
            flood.stdin.close()
            async with asyncio.timeout(30):
                await flood.wait()
        assert pressed_at is not None
        ((arrived, request),) = arrivals
        assert request.command == EmergencyStop()
        assert request.device == "tm1"
        assert arrived - pressed_at < ESTOP_DEADLINE_S
        assert rate > 0.5 * FLOOD_PER_S, rate  # the generator kept (roughly) its rate
        await request.reply(CommandResult.success())
        await emergencies.aclose()
        print(f"emergency stop delivered {1000 * (arrived - pressed_at):.1f} ms after the press, "
              f"flood {rate:.0f} msg/s")  # fmt: skip
