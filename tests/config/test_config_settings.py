"""Every setting of the MQTT bridge and the BLE link can be set from the configuration and
reaches the running objects; numbers are numbers (issue 12, defect 6 and the strict numbers)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import fields
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from treadctl.ble.errors import MphSuspected
from treadctl.ble.options import LinkOptions
from treadctl.config import Config
from treadctl.config.mqtt import MqttConfig
from treadctl.config.section import Section
from treadctl.daemon.app import Daemon
from treadctl.daemon.compose import link_options
from treadctl.mqtt.bridge import BridgeDevice, MqttBridge

LoadToml = Callable[..., Config]
Problems = Callable[..., dict[str, str]]

DEVICE = """
[[devices]]
id = "pad"
address = "AA:BB:CC:DD:EE:FF"
has_handrails = true
"""

MQTT_VALUES: dict[str, Any] = {
    "enabled": True,
    "host": "broker.lan",
    "port": 8883,
    "protocol": "3.1.1",
    "client_id": "pi-kitchen",
    "username": "treadctl",
    "keepalive_s": 45,
    "connect_timeout_s": 4.5,
    "topic_prefix": "home/treadctl",
    "discovery": False,
    "discovery_prefix": "ha",
    "birth_topic": "ha/status",
    "origin_url": "https://example.org/treadctl",
    "device_url": "http://treadmill-pi.local/help",
    "telemetry_min_interval_s": 0.5,
    "max_payload_bytes": 2048,
    "command_max_age_s": 7.5,
    "max_clock_skew_s": 1.5,
    "max_pending_requests": 8,
    "transaction_cache": 64,
    "backoff_initial_s": 0.25,
    "backoff_max_s": 12.0,
    "birth_delay_max_s": 0.5,
    "arming_expiry_s": 300.0,
}
"""A non-default value for every ``[mqtt]`` key (except ``password``, a secret, and ``tls``,
a table of its own tested in test_config_load.py)."""

BLE_VALUES: dict[str, Any] = {
    "backend": "bumble",
    "transport": "tcp-client:127.0.0.1:9000",
    "adapter": "hci1",
    "connect_timeout_s": 25.0,
    "scan_timeout_s": 12.0,
    "control_point_deadline_s": 4.0,
    "idle_release_s": 90.0,
    "idle_release": "disconnect",
    "reconnect_max_backoff_s": 45.0,
    "connect_attempts": 5,
    "gatt_timeout_s": 7.0,
    "first_reading_timeout_s": 4.0,
    "cold_start_timeout_s": 6.0,
    "control_retry_base_s": 3.0,
    "mph_check": False,
    "max_queued_readings": 128,
    "bumble_mtu": 185,
}

LINK_FROM_BLE = {
    "control_timeout_s": "control_point_deadline_s",
}
"""LinkOptions fields whose configuration key has another name."""
LINK_FROM_DEVICE = {"address", "name"}
"""LinkOptions fields that come from ``[[devices]]``."""
DAEMON_ONLY_BLE = {"reconnect_max_backoff_s"}
"""``[ble]`` keys read by the daemon's reconnect loop, not by the link."""


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def section(name: str, values: dict[str, Any]) -> str:
    return f"[{name}]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in values.items())


def test_the_tables_name_every_key() -> None:
    assert set(MQTT_VALUES) == set(MqttConfig.model_fields) - {"password", "tls"}
    assert set(BLE_VALUES) == set(Config.model_fields["ble"].annotation.model_fields)  # type: ignore[union-attr]
    defaults = MqttConfig()
    for key, value in MQTT_VALUES.items():
        assert getattr(defaults, key) != value, key


@pytest.mark.parametrize("key", sorted(MQTT_VALUES))
def test_every_mqtt_setting_reaches_the_bridge(load_toml: LoadToml, key: str) -> None:
    value = MQTT_VALUES[key]
    extra = {"backoff_max_s": 60.0} if key == "backoff_initial_s" else {}
    config = load_toml(DEVICE + section("mqtt", {key: value, **extra}))
    assert getattr(config.mqtt, key) == value
    # The bridge runs with the configuration's own object: no mapping can drop a key.
    bridge = MqttBridge(config.mqtt, [BridgeDevice("pad", "Pad")])
    assert bridge.settings is config.mqtt


def test_mqtt_settings_from_the_environment_too(load_toml: LoadToml) -> None:
    env = {
        "TREADCTL_MQTT__MAX_PENDING_REQUESTS": "5",
        "TREADCTL_MQTT__ORIGIN_URL": "https://example.org/help",
        "TREADCTL_MQTT__BIRTH_DELAY_MAX_S": "0",
    }
    config = load_toml(DEVICE, env)
    assert config.mqtt.max_pending_requests == 5
    assert config.mqtt.origin_url == "https://example.org/help"
    assert config.mqtt.birth_delay_max_s == 0.0


@pytest.mark.parametrize("key", sorted(BLE_VALUES))
def test_every_ble_setting_reaches_the_running_link_options(load_toml: LoadToml, key: str) -> None:
    value = BLE_VALUES[key]
    extra = {"transport": "tcp-client:127.0.0.1:9000"} if key == "backend" else {}
    config = load_toml(DEVICE + section("ble", {key: value, **extra}))
    assert getattr(config.ble, key) == value
    daemon = Daemon(config)
    runtime = daemon.devices["pad"]
    if key in DAEMON_ONLY_BLE:
        return
    link_key = {v: k for k, v in LINK_FROM_BLE.items()}.get(key, key)
    assert getattr(runtime.options, link_key) == value


def test_every_link_option_comes_from_the_configuration() -> None:
    """A LinkOptions field the configuration cannot set fails here."""
    ble_keys = set(BLE_VALUES) - DAEMON_ONLY_BLE
    for f in fields(LinkOptions):
        source = LINK_FROM_BLE.get(f.name, f.name)
        assert f.name in LINK_FROM_DEVICE or source in ble_keys, f.name
    config = Config.model_validate(tomllib.loads(DEVICE + section("ble", BLE_VALUES)))
    options = link_options(config.devices[0], config.ble)
    default = LinkOptions()
    for f in fields(LinkOptions):
        if f.name not in LINK_FROM_DEVICE:
            assert getattr(options, f.name) != getattr(default, f.name), f.name


def test_link_defaults_are_the_configuration_defaults() -> None:
    config = Config.model_validate(tomllib.loads(DEVICE))
    options = link_options(config.devices[0], config.ble)
    default = LinkOptions()
    for f in fields(LinkOptions):
        if f.name not in LINK_FROM_DEVICE:
            assert getattr(options, f.name) == getattr(default, f.name), f.name


def sections() -> list[tuple[str, type[BaseModel]]]:
    found: list[tuple[str, type[BaseModel]]] = []

    def walk(prefix: str, model: type[BaseModel]) -> None:
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, Section):
                walk(f"{prefix}{name}.", annotation)
        found.append((prefix.rstrip("."), model))

    walk("", Config)
    return found


def _numeric(annotation: Any) -> bool:
    """Whether a field takes a number under any of its alternatives (not a boolean)."""
    args = get_args(annotation)
    if args:
        return bool not in args and any(_numeric(a) for a in args)
    return annotation in (int, float)


NUMERIC_KEYS = [
    (path, name)
    for path, model in sections()
    if path and path != "devices"
    for name, field in model.model_fields.items()
    if _numeric(field.annotation)
]


def test_numeric_keys_are_found() -> None:
    keys = {f"{p}.{n}" for p, n in NUMERIC_KEYS}
    assert {"mqtt.port", "ble.bumble_mtu", "safety.user_cap_kmh", "mqtt.backoff_max_s"} <= keys


@pytest.mark.parametrize(("path", "name"), NUMERIC_KEYS, ids=[f"{p}.{n}" for p, n in NUMERIC_KEYS])
def test_booleans_are_not_numbers(problems: Problems, path: str, name: str) -> None:
    found = problems(DEVICE + f"[{path}]\n{name} = true\n")
    assert list(found) == [f"{path}.{name}"]
    assert (
        "not a yes/no value" in found[f"{path}.{name}"] or "whole number" in found[f"{path}.{name}"]
    )


def test_device_numbers_are_strict_too(problems: Problems) -> None:
    text = DEVICE.replace("has_handrails = true", "has_handrails = true\nuser_cap_kmh = true")
    found = problems(text)
    assert list(found) == ["devices.0.user_cap_kmh"]
    assert "not a yes/no value" in found["devices.0.user_cap_kmh"]


def test_the_mph_advice_names_keys_the_configuration_accepts() -> None:
    keys = re.findall(r"\b(ble|mqtt|safety)\.([a-z_]+) = (\w+)", MphSuspected.advice)
    assert keys == [("ble", "mph_check", "false")]
    config = Config.model_validate(tomllib.loads(DEVICE + "[ble]\nmph_check = false\n"))
    assert config.ble.mph_check is False
    assert link_options(config.devices[0], config.ble).mph_check is False
