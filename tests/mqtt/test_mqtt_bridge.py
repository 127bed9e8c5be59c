"""The bridge against a real Mosquitto: publishing, every command, every error reply, safety.

Synchronisation without sleeps: a request for an unknown command is answered by the bridge
itself the moment it arrives, so once its reply is seen, everything the same client published
before it has reached the bridge (MQTT keeps one publisher's order).
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from harness.mosquitto import Mosquitto
from tests.mqtt.mqtt_watch import Watcher, watcher
from treadctl.commands import (
    Arm,
    Command,
    CommandResult,
    Disarm,
    EmergencyStop,
    ErrorCode,
    Pause,
    ReloadProfiles,
    Resume,
    SelectProfile,
    SetIncline,
    SetSpeed,
    SkipSegment,
    StartProfile,
    Stop,
)
from treadctl.config.mqtt import MqttConfig
from treadctl.mqtt.bridge import BridgeDevice, MqttBridge, Request
from treadctl.mqtt.outbound import BridgeEvent, Caps, DeviceState, ProfileSummary
from treadctl.observations import DeviceInfo, Reading, SpeedRange

pytestmark = pytest.mark.crossprocess

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


REQUESTS: list[tuple[str, dict[str, Any], Command]] = [
    ("arm", {"duration_s": 120}, Arm(120.0)),
    ("disarm", {}, Disarm()),
    ("start_profile", {"profile": "gentle", "options": {"x": 1}}, StartProfile("gentle", {"x": 1})),
    ("select_profile", {"profile": "steady"}, SelectProfile("steady")),
    ("pause", {}, Pause()),
    ("resume", {}, Resume()),
    ("stop", {}, Stop()),
    ("emergency_stop", {}, EmergencyStop()),
    ("set_speed", {"kmh": 2.5}, SetSpeed(2.5)),
    ("set_incline", {"percent": 1.5}, SetIncline(1.5)),
    ("skip_segment", {}, SkipSegment()),
    ("reload_profiles", {}, ReloadProfiles()),
]


async def test_every_request_reaches_the_daemon_and_is_answered(
    daemon: Daemon, watch: Watcher
) -> None:
    for n, (name, body, command) in enumerate(REQUESTS):
        await watch.publish(f"treadctl/tm1/request/{name}", json.dumps({**body, "transaction": n}))
        request = await daemon.next()
        assert (request.device, request.command) == ("tm1", command)
        await request.reply(CommandResult.success({"n": n}))
        reply = await watch.expect_json(f"treadctl/tm1/response/{name}")
        assert reply == {"status": "ok", "data": {"n": n}, "error": None, "transaction": n}


SETS: list[tuple[str, str, Command]] = [
    ("start", "PRESS", StartProfile(None)),
    ("pause", "PRESS", Pause()),
    ("resume", "PRESS", Resume()),
    ("stop", "PRESS", Stop()),
    ("emergency_stop", "PRESS", EmergencyStop()),
    ("arm", "PRESS", Arm()),
    ("disarm", "PRESS", Disarm()),
    ("skip_segment", "PRESS", SkipSegment()),
    ("reload_profiles", "PRESS", ReloadProfiles()),
    ("speed", "1.8", SetSpeed(1.8)),
    ("incline", "2", SetIncline(2.0)),
    ("profile", "gentle", SelectProfile("gentle")),
    ("armed", "ON", Arm()),
    ("armed", "OFF", Disarm()),
]


async def test_every_home_assistant_set_topic(daemon: Daemon, watch: Watcher) -> None:
    for key, payload, command in SETS:
        await watch.publish(f"treadctl/tm1/set/{key}", payload, qos=0)
        request = await daemon.next()
        assert request.command == command
        await request.reply(CommandResult.success())
        reply = await watch.expect_json(f"treadctl/tm1/response/{key}")
        assert reply["status"] == "ok"


async def test_governor_errors_are_returned_as_replies(daemon: Daemon, watch: Watcher) -> None:
    await watch.publish("treadctl/tm1/request/set_speed", '{"kmh": 9.5, "transaction": "x"}')
    request = await daemon.next()
    await request.reply(
        CommandResult.failure(ErrorCode.OVER_CAP, "9.50 km/h is over the 4.00 km/h cap")
    )
    reply = await watch.expect_json("treadctl/tm1/response/set_speed")
    assert reply == {
        "status": "error",
        "data": None,
        "error": {"code": "over_cap", "message": "9.50 km/h is over the 4.00 km/h cap"},
        "transaction": "x",
    }


BAD: list[tuple[str, bytes, str]] = [
    ("treadctl/tm1/request/stop", b"{not json", "malformed"),
    ("treadctl/tm1/request/stop", b"\xff\xfe", "malformed"),
    ("treadctl/tm1/request/stop", b"[]", "malformed"),
    ("treadctl/tm1/request/stop", b"{}" + b" " * 5000, "too_large"),
    ("treadctl/tm1/request/jump", b"{}", "unknown_command"),
    ("treadctl/tm1/set/jump", b"PRESS", "unknown_command"),
    ("treadctl/nope/request/stop", b"{}", "unknown_device"),
    ("treadctl/tm1/request/set_speed", b'{"kmh": "2"}', "invalid_value"),
    ("treadctl/tm1/request/set_speed", b'{"kmh": -2}', "invalid_value"),
    ("treadctl/tm1/request/set_speed", b'{"kmh": 1e999}', "invalid_value"),
    ("treadctl/tm1/request/set_speed", b'{"kmh": NaN}', "malformed"),
    ("treadctl/tm1/set/speed", b"fast", "invalid_value"),
    ("treadctl/tm1/set/stop", b"YES", "invalid_value"),
    ("treadctl/tm1/request/start_profile", b'{"profile": 5}', "invalid_value"),
]


async def test_every_bad_input_gets_an_error_reply_and_nothing_is_acted_upon(
    daemon: Daemon, watch: Watcher
) -> None:
    for topic, payload, code in BAD:
        await watch.publish(topic, payload)
        response = topic.replace("/request/", "/response/").replace("/set/", "/response/")
        reply = await watch.expect_json(response)
        assert reply["status"] == "error"
        assert reply["error"]["code"] == code, (topic, payload, reply)
    # The bridge kept running and nothing reached the daemon before this.
    await watch.publish("treadctl/tm1/request/pause", '{"transaction": "after"}')
    request = await daemon.next()
    assert request.command == Pause()
    assert request.reply_to.transaction == "after"
    await request.reply(CommandResult.success())


async def test_live_retained_command_is_ignored_v5(daemon: Daemon, watch: Watcher) -> None:
    await watch.publish("treadctl/tm1/request/start_profile", '{"profile": "x"}', retain=True)
    await watch.publish("treadctl/tm1/request/pause", "{}")
    request = await daemon.next()
    assert request.command == Pause()
    await request.reply(CommandResult.success())
    await watch.expect("treadctl/tm1/response/pause")
    assert watch.drain_pending("treadctl/tm1/response/start_profile") == []


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
async def test_retained_command_stored_before_connect_is_never_executed(
    mosquitto: Mosquitto,
    settings_for: Callable[..., MqttConfig],
    watch: Watcher,
    protocol: str,
) -> None:
    await watch.publish("treadctl/tm1/set/start", "PRESS", retain=True)
    await watch.publish("treadctl/tm1/request/set_speed", '{"kmh": 3}', retain=True)
    settings = settings_for(mosquitto, protocol=protocol)
    async with MqttBridge(settings, DEVICES) as bridge:
        await bridge.wait_connected()
        await bridge.set_availability("tm1", True)
        d = Daemon(bridge)
        await barrier(watch)
        await watch.publish("treadctl/tm1/request/stop", "{}")
        request = await d.next()
        assert request.command == Stop()
        await request.reply(CommandResult.success())
        await watch.expect("treadctl/tm1/response/stop")
        assert watch.drain_pending("treadctl/tm1/response/start") == []
        assert watch.drain_pending("treadctl/tm1/response/set_speed") == []
        await d.close()


async def test_old_timestamp_is_refused_at_once(
    bridge: MqttBridge, daemon: Daemon, watch: Watcher
) -> None:
    old = {"kmh": 2.0, "timestamp": 1_000_000_000, "transaction": "old"}
    await watch.publish("treadctl/tm1/request/set_speed", json.dumps(old))
    reply = await watch.expect_json("treadctl/tm1/response/set_speed")
    assert reply["error"]["code"] == "too_old"
    assert reply["transaction"] == "old"


async def test_expired_while_waiting_is_refused_not_executed(
    daemon: Daemon, watch: Watcher, clock: list[float]
) -> None:
    await watch.publish("treadctl/tm1/request/resume", '{"transaction": "e"}', expiry_s=5)
    await watch.publish("treadctl/tm1/request/pause", '{"transaction": "p"}')
    await barrier(watch)
    clock[0] += 6.0  # the daemon was busy for 6 s: past the 5 s expiry, within the 10 s age
    request = await daemon.next()
    assert request.command == Pause()
    await request.reply(CommandResult.success())
    reply = await watch.expect_json("treadctl/tm1/response/resume")
    assert reply["error"]["code"] == "expired"
    assert reply["transaction"] == "e"


async def test_waiting_longer_than_the_age_limit_is_refused(
    daemon: Daemon, watch: Watcher, clock: list[float]
) -> None:
    await watch.publish("treadctl/tm1/set/start", "PRESS")
    await barrier(watch)
    clock[0] += 11.0
    await watch.publish("treadctl/tm1/set/stop", "PRESS")
    request = await daemon.next()
    assert request.command == Stop()
    await request.reply(CommandResult.success())
    reply = await watch.expect_json("treadctl/tm1/response/start")
    assert reply["error"]["code"] == "expired"


async def test_duplicate_transaction_is_answered_not_executed_twice(
    daemon: Daemon, watch: Watcher
) -> None:
    body = '{"kmh": 2.0, "transaction": "dup"}'
    await watch.publish("treadctl/tm1/request/set_speed", body)
    await watch.publish("treadctl/tm1/request/set_speed", body)  # while the first is running
    await barrier(watch)
    request = await daemon.next()
    await request.reply(CommandResult.success({"target_kmh": 2.0}))
    first = await watch.expect_json("treadctl/tm1/response/set_speed")
    second = await watch.expect_json("treadctl/tm1/response/set_speed")
    assert first == second
    assert first["data"] == {"target_kmh": 2.0}
    await watch.publish("treadctl/tm1/request/set_speed", body)  # after it was answered
    third = await watch.expect_json("treadctl/tm1/response/set_speed")
    assert third == first
    await watch.publish("treadctl/tm1/request/set_speed", '{"kmh": 3.0, "transaction": "dup"}')
    conflict = await watch.expect_json("treadctl/tm1/response/set_speed")
    assert conflict["error"]["code"] == "transaction_conflict"
    await watch.publish("treadctl/tm1/request/stop", '{"transaction": "next"}')
    request = await daemon.next()
    assert request.command == Stop()  # the repeats never reached the daemon
    await request.reply(CommandResult.success())


async def test_link_down_refuses_at_once_and_queues_nothing(
    bridge: MqttBridge, daemon: Daemon, watch: Watcher
) -> None:
    # A request waiting in the bridge is refused the moment the link goes down.
    await watch.publish("treadctl/tm1/request/resume", '{"transaction": "queued"}')
    await barrier(watch)
    await bridge.set_availability("tm1", False)
    reply = await watch.expect_json("treadctl/tm1/response/resume")
    assert reply["error"]["code"] == "link_down"
    # While down: answered at once, never queued.
    await watch.publish("treadctl/tm1/request/start_profile", '{"profile": "x"}')
    reply = await watch.expect_json("treadctl/tm1/response/start_profile")
    assert reply["error"]["code"] == "link_down"
    await watch.publish("treadctl/tm1/set/speed", "2")
    reply = await watch.expect_json("treadctl/tm1/response/speed")
    assert reply["error"]["code"] == "link_down"
    # The emergency stop still reaches the daemon.
    await watch.publish("treadctl/tm1/set/emergency_stop", "PRESS")
    request = await daemon.next()
    assert request.command == EmergencyStop()
    await request.reply(CommandResult.success())
    # Back up: nothing from the down period replays.
    await bridge.set_availability("tm1", True)
    await watch.publish("treadctl/tm1/request/stop", "{}")
    request = await daemon.next()
    assert request.command == Stop()
    await request.reply(CommandResult.success())


async def test_emergency_stop_is_delivered_ahead_of_everything(
    daemon: Daemon, watch: Watcher
) -> None:
    await watch.publish("treadctl/tm1/set/resume", "PRESS")
    await watch.publish("treadctl/tm1/request/set_speed", '{"kmh": 2}')
    await watch.publish("treadctl/tm1/set/emergency_stop", "PRESS")
    await barrier(watch)
    order = []
    for _ in range(3):
        request = await daemon.next()
        order.append(request.command)
        await request.reply(CommandResult.success())
    assert order == [EmergencyStop(), Resume(), SetSpeed(2.0)]


async def test_dedicated_emergency_consumer_gets_the_stops(
    bridge: MqttBridge, daemon: Daemon, watch: Watcher
) -> None:
    stops: list[Request] = []
    got = asyncio.Event()

    async def emergency_task() -> None:
        async for request in bridge.emergency_requests():
            stops.append(request)
            await request.reply(CommandResult.success())
            got.set()
            return

    async with asyncio.TaskGroup() as tg:
        tg.create_task(emergency_task())
        await watch.publish("treadctl/tm1/set/pause", "PRESS")
        await watch.publish("treadctl/tm1/request/emergency_stop", "{}")
        request = await daemon.next()
        assert request.command == Pause()
        await request.reply(CommandResult.success())
        async with asyncio.timeout(HANG_GUARD_S):
            await got.wait()
    assert [r.command for r in stops] == [EmergencyStop()]


async def test_a_request_is_answered_only_once(daemon: Daemon, watch: Watcher) -> None:
    await watch.publish("treadctl/tm1/set/stop", "PRESS")
    request = await daemon.next()
    await request.reply(CommandResult.success())
    with pytest.raises(Exception, match="already answered"):
        await request.reply(CommandResult.success())


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


async def test_too_many_waiting_requests_are_refused_busy(
    mosquitto: Mosquitto, settings_for: Callable[..., MqttConfig], watch: Watcher
) -> None:
    async with MqttBridge(settings_for(mosquitto, max_pending_requests=2), DEVICES) as bridge:
        await bridge.wait_connected()
        await bridge.set_availability("tm1", True)
        for n in range(3):
            await watch.publish("treadctl/tm1/request/pause", json.dumps({"transaction": n}))
        reply = await watch.expect_json("treadctl/tm1/response/pause")
        assert (reply["transaction"], reply["error"]["code"]) == (2, "busy")
        d = Daemon(bridge)
        assert [(await d.next()).reply_to.transaction for _ in range(2)] == [0, 1]
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
        # Leaving while the broker is gone (reconnecting with backoff) does not hang.


async def test_timestamp_deadline_refuses_with_too_old(
    daemon: Daemon, watch: Watcher, clock: list[float]
) -> None:
    body = {"kmh": 1.0, "timestamp": time.time() - 5, "transaction": "ts"}
    await watch.publish("treadctl/tm1/request/set_speed", json.dumps(body))
    await barrier(watch)
    clock[0] += 6.0  # 5 s old on arrival + 6 s waiting > 10 s
    await watch.publish("treadctl/tm1/set/stop", "PRESS")
    request = await daemon.next()
    assert request.command == Stop()
    await request.reply(CommandResult.success())
    reply = await watch.expect_json("treadctl/tm1/response/set_speed")
    assert (reply["transaction"], reply["error"]["code"]) == ("ts", "too_old")


async def test_requests_left_at_shutdown_are_refused(
    mosquitto: Mosquitto, settings_for: Callable[..., MqttConfig], watch: Watcher
) -> None:
    async with MqttBridge(settings_for(mosquitto), DEVICES) as bridge:
        await bridge.wait_connected()
        await bridge.set_availability("tm1", True)
        await watch.publish("treadctl/tm1/request/resume", '{"transaction": "left"}')
        await barrier(watch)
    reply = await watch.expect_json("treadctl/tm1/response/resume")
    assert (reply["transaction"], reply["error"]["code"]) == ("left", "refused")


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
