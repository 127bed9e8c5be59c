"""Duplicate transactions, telemetry throttle, topics (pure)."""

from __future__ import annotations

import pytest

from treadctl.commands import CommandResult, SetSpeed, Stop
from treadctl.daemon.mqtt_sink import whole_seconds
from treadctl.mqtt.outbound import TelemetryThrottle
from treadctl.mqtt.topics import Channel, CommandTopic, Topics, check_device_id
from treadctl.mqtt.transactions import Answered, Conflict, InFlight, New, TransactionCache


def test_transactions_execute_once_and_answer_repeats() -> None:
    cache: TransactionCache[str] = TransactionCache(capacity=2)
    assert cache.begin("tm1", "a", Stop(), "first") == New()
    assert cache.begin("tm1", "a", Stop(), "second") == InFlight()
    result = CommandResult.success()
    assert cache.finish("tm1", "a", result) == ["second"]
    assert cache.begin("tm1", "a", Stop(), "third") == Answered(result)
    assert cache.begin("tm1", "a", SetSpeed(1.0), "x") == Conflict(previous=Stop())
    assert cache.begin("tm2", "a", SetSpeed(1.0), "y") == New()  # per device


def test_transaction_memory_is_bounded() -> None:
    cache: TransactionCache[str] = TransactionCache(capacity=2)
    for tx in range(5):
        cache.begin("tm1", tx, Stop(), "r")
    assert len(cache) == 2
    assert cache.finish("tm1", 0, CommandResult.success()) == []
    assert cache.begin("tm1", 0, Stop(), "r") == New()


def test_telemetry_throttle() -> None:
    throttle = TelemetryThrottle(min_interval_s=1.0)
    assert [throttle.admit(t) for t in (0.0, 0.5, 0.99, 1.0, 1.5, 2.1)] == [
        True, False, False, True, False, True,
    ]  # fmt: skip
    every = TelemetryThrottle(min_interval_s=0.0)
    assert all(every.admit(0.0) for _ in range(3))


def test_topics_layout() -> None:
    t = Topics("home/treadctl", "ha")
    assert t.bridge_state == "home/treadctl/bridge/state"
    assert t.state("tm1") == "home/treadctl/tm1/state"
    assert t.discovery("tm1") == "ha/device/tm1/config"
    # Home Assistant's birth topic does not follow the discovery prefix (issue 16).
    assert t.ha_status == "homeassistant/status"
    assert Topics("treadctl", "ha", "ha/status").ha_status == "ha/status"
    assert not t.response_topic_allowed("homeassistant/status")
    assert t.command_subscriptions == ("home/treadctl/+/set/+", "home/treadctl/+/request/+")
    assert t.parse_command("home/treadctl/tm1/set/speed") == CommandTopic(
        "tm1", Channel.SET, "speed"
    )
    assert t.parse_command("home/treadctl/tm1/get/speed") is None
    assert t.parse_command("home/treadctl/tm1/set/speed/x") is None


@pytest.mark.parametrize("prefix", ["", "/a", "a/", "a//b", "a/#", "a/+/b"])
def test_bad_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        Topics(prefix)


@pytest.mark.parametrize("device", ["", "a/b", "a+b", "a#", "é", "x" * 65])
def test_bad_device_ids_are_refused(device: str) -> None:
    with pytest.raises(ValueError, match="device id"):
        check_device_id(device)


def test_remaining_arming_time_is_whole_seconds_rounded_up() -> None:
    assert whole_seconds(None) is None
    assert whole_seconds(119.2) == 120.0
    assert whole_seconds(0.3) == 1.0
    assert whole_seconds(5.0) == 5.0
