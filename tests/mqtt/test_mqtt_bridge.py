"""The bridge against a real Mosquitto: what it publishes, its connection and its lifecycle."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.mosquitto import Mosquitto
from tests.mqtt.bridge_rig import DEVICES, HANG_GUARD_S, INFO, Daemon, barrier
from tests.mqtt.mqtt_watch import Watcher, watcher
from treadctl.commands import (
    CommandResult,
    Resume,
    Stop,
)
from treadctl.config.mqtt import MqttConfig
from treadctl.mqtt.bridge import MqttBridge, Request
from treadctl.mqtt.outbound import BridgeEvent, Caps, DeviceState, ProfileSummary
from treadctl.observations import Reading

pytestmark = pytest.mark.crossprocess


async def test_retained_topics_reach_late_subscribers(
    bridge: MqttBridge, mosquitto: Mosquitto
) -> None:
    await bridge.publish_state(
        "tm1",
        DeviceState(
            session="running",
            running=True,
            profile="gentle",
            target_speed=250,
            reported_speed=248,
            caps=Caps(max_speed=400),
            armed=True,
            info=INFO,
        ),
    )
    await bridge.publish_profiles("tm1", [ProfileSummary("gentle", "Gentle", duration_s=600)])
    # Wait until the bridge has published it, through a subscriber that sees it live.
    async with watcher(mosquitto, "treadctl/tm1/profiles") as live:
        await live.expect("treadctl/tm1/profiles")
    async with watcher(mosquitto, "#") as late:
        state = await late.expect("treadctl/tm1/state", lambda m: m.json()["running"])
        assert state.retain
        body = state.json()
        assert body["link"] is True
        assert body["target_speed_kmh"] == 2.5
        assert body["speed_kmh"] == 2.48
        assert body["caps"] == {"max_speed_kmh": 4.0, "max_incline_percent": None}
        assert body["device"]["speed_range"] == {"min_kmh": 0.5, "max_kmh": 16.0, "step_kmh": 0.1}
        profiles = await late.expect("treadctl/tm1/profiles")
        assert profiles.retain
        assert profiles.json()[0]["id"] == "gentle"
        assert profiles.json()[0]["duration_s"] == 600
        avail = await late.expect("treadctl/tm1/availability")
        assert (avail.payload, avail.retain) == (b"online", True)
        spare = await late.expect("treadctl/tm2/availability")
        assert spare.payload == b"offline"
        online = await late.expect("treadctl/bridge/state")
        assert (online.payload, online.retain) == (b"online", True)
        discovery = await late.expect("homeassistant/device/tm1/config")
        assert discovery.retain
        number = discovery.json()["cmps"]["speed_setpoint"]
        assert (number["min"], number["max"], number["step"]) == (0.5, 4.0, 0.1)
        assert discovery.json()["cmps"]["profile"]["options"] == ["gentle"]


async def test_caps_change_republishes_discovery(bridge: MqttBridge, watch: Watcher) -> None:
    await bridge.publish_state("tm1", DeviceState(info=INFO, caps=Caps(max_speed=300)))
    first = await watch.expect_json(
        "homeassistant/device/tm1/config", lambda d: "max" in d["cmps"]["speed_setpoint"]
    )
    assert first["cmps"]["speed_setpoint"]["max"] == 3.0
    await bridge.publish_state("tm1", DeviceState(info=INFO, caps=Caps(max_speed=250)))
    second = await watch.expect_json(
        "homeassistant/device/tm1/config",
        lambda d: d["cmps"].get("speed_setpoint", {}).get("max") == 2.5,
    )
    assert second["cmps"]["speed_setpoint"]["min"] == 0.5


async def test_telemetry_and_events_are_not_retained(bridge: MqttBridge, watch: Watcher) -> None:
    await bridge.publish_telemetry(
        "tm1",
        Reading(at=0.0, speed=235, incline=10, distance_m=120, elapsed_s=60, heart_rate_bpm=90),
    )
    t = await watch.expect("treadctl/tm1/telemetry")
    assert not t.retain
    body = t.json()
    assert body["speed_kmh"] == 2.35
    assert body["incline_percent"] == 1.0
    assert body["distance_m"] == 120
    assert body["elapsed_s"] == 60
    assert body["heart_rate_bpm"] == 90
    assert body["steps"] is None
    await bridge.publish_event(
        "tm1", BridgeEvent("session_finished", "done", {"distance_m": 500, "aborted": False})
    )
    e = await watch.expect("treadctl/tm1/event")
    assert not e.retain
    assert e.json()["kind"] == "session_finished"
    assert e.json()["data"] == {"distance_m": 500, "aborted": False}


async def test_home_assistant_birth_republishes_discovery(
    bridge: MqttBridge, watch: Watcher
) -> None:
    await watch.expect("homeassistant/device/tm1/config")
    # Retained topics are flushed before replies: after the barrier's reply, every discovery
    # message from the start is in, so the next one can only come from the birth message.
    await barrier(watch)
    watch.drain_pending("homeassistant/device/tm1/config")
    await watch.publish("homeassistant/status", "online", qos=0)
    again = await watch.expect("homeassistant/device/tm1/config")
    assert again.json()["dev"]["identifiers"] == ["treadctl_tm1"]


async def test_removed_device_discovery_and_topics_are_cleared(
    mosquitto: Mosquitto, settings_for: Callable[..., MqttConfig], watch: Watcher
) -> None:
    await watch.publish("homeassistant/device/old/config", '{"dev": {}}', retain=True)
    await watch.publish("treadctl/old/state", "{}", retain=True)
    async with MqttBridge(settings_for(mosquitto), DEVICES, removed_devices=["old"]):
        cleared = await watch.expect("homeassistant/device/old/config", lambda m: not m.payload)
        assert cleared.payload == b""
        await watch.expect("treadctl/old/state", lambda m: not m.payload)
        async with watcher(mosquitto, "homeassistant/#", "treadctl/old/#") as late:
            await late.expect("homeassistant/device/tm1/config")
            assert late.drain_pending("homeassistant/device/old/config") == []
            assert late.drain_pending("treadctl/old/state") == []


async def test_clean_exit_publishes_offline(
    mosquitto: Mosquitto, settings_for: Callable[..., MqttConfig], watch: Watcher
) -> None:
    async with MqttBridge(settings_for(mosquitto), DEVICES) as bridge:
        await bridge.wait_connected()
        await bridge.set_availability("tm1", True)
        await watch.expect("treadctl/tm1/availability", lambda m: m.payload == b"online")
    await watch.expect("treadctl/tm1/availability", lambda m: m.payload == b"offline")
    await watch.expect("treadctl/bridge/state", lambda m: m.payload == b"offline")
    async with watcher(mosquitto, "treadctl/bridge/state") as late:
        stored = await late.expect("treadctl/bridge/state")
        assert (stored.payload, stored.retain) == (b"offline", True)


async def test_requests_iterator_ends_when_the_bridge_closes(
    mosquitto: Mosquitto, settings_for: Callable[..., MqttConfig]
) -> None:
    seen: list[Request] = []

    async def consume(bridge: MqttBridge) -> None:
        async for request in bridge.requests():
            seen.append(request)

    async with MqttBridge(settings_for(mosquitto), DEVICES) as bridge:
        task = asyncio.create_task(consume(bridge))
        await bridge.wait_connected()
    async with asyncio.timeout(HANG_GUARD_S):
        await task
    assert seen == []


async def test_broker_restart_reconnects_republishes_and_replays_nothing(
    mosquitto: Mosquitto, settings_for: Callable[..., MqttConfig]
) -> None:
    async with MqttBridge(settings_for(mosquitto), DEVICES) as bridge:
        await bridge.wait_connected()
        await bridge.set_availability("tm1", True)
        await bridge.publish_state("tm1", DeviceState(session="running", running=True))
        d = Daemon(bridge)
        async with watcher(mosquitto, "#") as before:
            await before.expect("treadctl/tm1/state", lambda m: m.json()["running"])
            await before.publish("treadctl/tm1/request/resume", '{"transaction": "before"}')
            request = await d.next()
            assert request.command == Resume()
            await request.reply(CommandResult.success())
            await before.expect("treadctl/tm1/response/resume")
        await asyncio.to_thread(mosquitto.stop)
        assert mosquitto.log()  # the broker really ran and logged
        await asyncio.to_thread(mosquitto.start)  # same port; persistence off: nothing retained
        async with watcher(mosquitto, "#") as after:
            # Everything retained is published again by the reconnected bridge.
            state = await after.expect("treadctl/tm1/state")
            assert state.json()["running"] is True
            assert (await after.expect("treadctl/tm1/availability")).payload == b"online"
            assert (await after.expect("treadctl/bridge/state")).payload == b"online"
            await after.expect("homeassistant/device/tm1/config")
            assert bridge.connections >= 2
            await barrier(after)
            await after.publish("treadctl/tm1/request/stop", '{"transaction": "after"}')
            request = await d.next()
            assert (request.command, request.reply_to.transaction) == (Stop(), "after")
            await request.reply(CommandResult.success())
        await d.close()


async def test_starts_before_the_broker_and_connects_when_it_comes(
    tmp_path: Path, settings_for: Callable[..., MqttConfig]
) -> None:
    broker = Mosquitto(tmp_path / "late")
    async with MqttBridge(settings_for(broker), DEVICES) as bridge:
        assert not bridge.connected
        await asyncio.to_thread(broker.start)
        try:
            async with asyncio.timeout(HANG_GUARD_S):
                await bridge.wait_connected()
            async with watcher(broker, "treadctl/bridge/state") as w:
                assert (await w.expect("treadctl/bridge/state")).payload == b"online"
        finally:
            await asyncio.to_thread(broker.stop)


async def test_telemetry_is_rate_limited(
    mosquitto: Mosquitto,
    settings_for: Callable[..., MqttConfig],
    watch: Watcher,
    clock: list[float],
) -> None:
    settings = settings_for(mosquitto, telemetry_min_interval_s=1.0)
    async with MqttBridge(settings, DEVICES, clock=lambda: clock[0]) as bridge:
        await bridge.wait_connected()
        for speed in (100, 110, 120):  # three records within one interval
            await bridge.publish_telemetry("tm1", Reading(at=0.0, speed=speed))
        clock[0] += 1.0
        await bridge.publish_telemetry("tm1", Reading(at=1.0, speed=130))
        await bridge.publish_event("tm1", BridgeEvent("marker"))  # same FIFO, after them
        await watch.expect("treadctl/tm1/event")
        speeds = [m.json()["speed_kmh"] for m in watch.drain_pending("treadctl/tm1/telemetry")]
        assert speeds == [1.0, 1.3]


async def test_client_socket_has_tcp_nodelay(bridge: MqttBridge) -> None:
    # Read back from the live socket (through aiomqtt's paho client: there is no public
    # accessor); this is what turns 44 ms round trips into ~1 ms (docs/references.md#mqtt-aiomqtt).
    client = bridge._broker.client
    assert client is not None
    sock = client._client.socket()
    assert isinstance(sock, socket.socket)
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
