"""The bridge against a real Mosquitto: every command, every error reply, the safety rules
(retained, expired, too old, duplicates, link down, busy, emergency stops first)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from harness.mosquitto import Mosquitto
from tests.mqtt.bridge_rig import DEVICES, HANG_GUARD_S, Daemon, barrier
from tests.mqtt.mqtt_watch import Watcher
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
from treadctl.mqtt.bridge import MqttBridge, Request

pytestmark = pytest.mark.crossprocess


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
