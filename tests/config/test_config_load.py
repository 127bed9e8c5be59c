"""Loading: file, environment, credentials, precedence, and errors that name the key."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from treadctl.config import Config, ConfigError, load_config
from treadctl.config import load as load_module

LoadToml = Callable[..., Config]
Problems = Callable[..., dict[str, str]]

DEVICE = """
[[devices]]
id = "pad"
address = "AA:BB:CC:DD:EE:FF"
has_handrails = true
"""

ROOT = Path(__file__).resolve().parents[2]


def test_example_config_loads() -> None:
    config = load_config(ROOT / "docs" / "config.example.toml", env={})
    assert [d.id for d in config.devices] == ["living-room", "walking-pad"]
    living_room, pad = config.devices
    assert config.cap_kmh(living_room) == 2.5
    assert config.cap_kmh(pad) == 2.0  # no handrails
    assert config.mqtt.enabled
    assert config.mqtt.protocol == "5"
    assert config.logging.loggers == {"bumble": "WARNING"}


def test_minimal_file_gets_the_documented_defaults(load_toml: LoadToml) -> None:
    config = load_toml(DEVICE)
    assert config.ble.backend == "bluez"
    assert config.ble.control_point_deadline_s == 3.0
    assert config.mqtt.enabled is False
    assert config.mqtt.topic_prefix == "treadctl"
    assert config.mqtt.discovery_prefix == "homeassistant"
    assert config.mqtt.password is None
    assert config.safety.user_cap_kmh == 3.0
    assert config.safety.acceleration_kmh_per_s == 0.1
    assert config.safety.stale_telemetry_s == 3.0
    assert config.logging.format == "auto"
    assert config.cap_centi(config.devices[0]) == 300
    assert type(config) is Config


def test_mqtt_client_identifier_is_stable(load_toml: LoadToml) -> None:
    assert load_toml(DEVICE).mqtt.client_identifier() == f"treadctl-{socket.gethostname()}"
    named = load_toml(DEVICE + '[mqtt]\nclient_id = "pi-kitchen"\n')
    assert named.mqtt.client_identifier() == "pi-kitchen"


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.toml", env={})
    (problem,) = info.value.problems
    assert problem.key == "--config"
    assert "no such file" in problem.message


def test_explicit_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a file"):
        load_config(tmp_path, env={})


def test_missing_default_file_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load_module, "DEFAULT_CONFIG_PATH", tmp_path / "absent.toml")
    devices = [{"id": "sim", "name": "treadsim", "has_handrails": True, "simulator": True}]
    config = load_config(None, env={"TREADCTL_DEVICES": json.dumps(devices)})
    assert config.devices[0].simulator is True


def test_default_file_is_read_when_present(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default = tmp_path / "config.toml"
    default.write_text(DEVICE, encoding="utf-8")
    monkeypatch.setattr(load_module, "DEFAULT_CONFIG_PATH", default)
    assert load_config(None, env={}).devices[0].id == "pad"


def test_no_devices_anywhere_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load_module, "DEFAULT_CONFIG_PATH", tmp_path / "absent.toml")
    with pytest.raises(ConfigError) as info:
        load_config(None, env={})
    assert [p.key for p in info.value.problems] == ["devices"]


def test_environment_overrides_the_file(load_toml: LoadToml) -> None:
    text = DEVICE + '[mqtt]\nhost = "from-file"\nport = 1883\n'
    env = {
        "TREADCTL_MQTT__HOST": "from-env",
        "TREADCTL_MQTT__ENABLED": "true",
        "TREADCTL_SAFETY__USER_CAP_KMH": "2.5",
        "treadctl_logging__level": "debug",  # names are case-insensitive, levels too
    }
    config = load_toml(text, env)
    assert config.mqtt.host == "from-env"
    assert config.mqtt.port == 1883  # untouched keys of the section stay from the file
    assert config.mqtt.enabled is True
    assert config.safety.user_cap_kmh == 2.5
    assert config.logging.level == "DEBUG"


def test_only_the_given_environment_is_read(
    load_toml: LoadToml, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TREADCTL_MQTT__HOST", "from-process-env")
    assert load_toml(DEVICE, {}).mqtt.host == "localhost"


def test_unrelated_treadctl_variables_are_ignored(load_toml: LoadToml) -> None:
    # e.g. the test suite's own TREADCTL_HYPOTHESIS profile switch
    assert load_toml(DEVICE, {"TREADCTL_HYPOTHESIS": "fuzz"}).devices[0].id == "pad"


def test_devices_from_the_environment_replace_the_file(load_toml: LoadToml) -> None:
    devices = [
        {"id": "sim-a", "name": "a", "has_handrails": True, "simulator": True},
        {"id": "sim-b", "name": "b", "has_handrails": False, "simulator": True},
    ]
    config = load_toml(DEVICE, {"TREADCTL_DEVICES": json.dumps(devices)})
    assert [d.id for d in config.devices] == ["sim-a", "sim-b"]


def test_environment_value_that_is_not_json(problems: Problems) -> None:
    found = problems(DEVICE, {"TREADCTL_DEVICES": "[{"})
    assert "JSON" in found["devices"]


def test_indexed_device_variables_are_refused_clearly(problems: Problems) -> None:
    found = problems(DEVICE, {"TREADCTL_DEVICES__0__USER_CAP_KMH": "2.0"})
    assert "JSON list" in found["devices"]


def test_environment_value_with_an_error_names_the_key(problems: Problems) -> None:
    found = problems(DEVICE, {"TREADCTL_MQTT__PORT": "seventy"})
    assert set(found) == {"mqtt.port"}


def test_credentials_directory_supplies_the_mqtt_password(
    load_toml: LoadToml, tmp_path: Path
) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "mqtt_password").write_text("s3cret\n", encoding="utf-8")
    config = load_toml(DEVICE, {"CREDENTIALS_DIRECTORY": str(credentials)})
    assert isinstance(config.mqtt.password, SecretStr)
    assert config.mqtt.password.get_secret_value() == "s3cret"  # trailing newline dropped
    assert "s3cret" not in repr(config)
    # The environment wins over the credential file.
    env = {"CREDENTIALS_DIRECTORY": str(credentials), "TREADCTL_MQTT__PASSWORD": "env-secret"}
    overridden = load_toml(DEVICE, env).mqtt.password
    assert overridden is not None
    assert overridden.get_secret_value() == "env-secret"


def test_an_empty_credential_means_no_password(load_toml: LoadToml, tmp_path: Path) -> None:
    (tmp_path / "mqtt_password").write_text("", encoding="utf-8")
    assert load_toml(DEVICE, {"CREDENTIALS_DIRECTORY": str(tmp_path)}).mqtt.password is None


def test_an_unreadable_credential_is_a_config_error(problems: Problems, tmp_path: Path) -> None:
    (tmp_path / "mqtt_password").write_bytes(b"\xff\xfe secret")
    found = problems(DEVICE, {"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert "cannot read credential" in found["mqtt.password"]
    assert "secret" not in found["mqtt.password"].replace("credential", "")


def test_credential_overrides_a_password_in_the_file(load_toml: LoadToml, tmp_path: Path) -> None:
    (tmp_path / "mqtt_password").write_text("from-credential", encoding="utf-8")
    text = DEVICE + '[mqtt]\npassword = "from-file"\n'
    password = load_toml(text, {"CREDENTIALS_DIRECTORY": str(tmp_path)}).mqtt.password
    assert password is not None
    assert password.get_secret_value() == "from-credential"


def test_a_bad_password_is_never_echoed(problems: Problems) -> None:
    found = problems(DEVICE + "[mqtt]\npassword = 123456789\n")
    assert "123456789" not in found["mqtt.password"]


def test_invalid_toml_names_the_file_and_line(problems: Problems) -> None:
    found = problems(DEVICE + "[mqtt\nhost = 1\n")
    (message,) = found.values()
    assert "invalid TOML" in message
    assert "line 6" in message


def test_unknown_keys_are_errors(problems: Problems) -> None:
    text = DEVICE.replace("has_handrails", "speed_kmh = 2.0\nhas_handrails") + (
        "[mqtt]\nhots = 'x'\n[saftey]\nuser_cap_kmh = 2.0\n"
    )
    found = problems(text)
    assert set(found) == {"devices.0.speed_kmh", "mqtt.hots", "saftey"}
    assert all(message.startswith("unknown key") for message in found.values())


def test_every_problem_is_reported_at_once(problems: Problems) -> None:
    text = """
[[devices]]
id = "Living Room"
has_handrails = "maybe"
[mqtt]
port = 0
protocol = 4
topic_prefix = "treadctl/#"
[logging]
format = "xml"
"""
    found = problems(text)
    assert set(found) == {
        "devices.0.id",
        "devices.0.has_handrails",
        "mqtt.port",
        "mqtt.protocol",
        "mqtt.topic_prefix",
        "logging.format",
    }
    assert "topic-safe" in found["devices.0.id"]
    assert "'Living Room'" in found["devices.0.id"]


def test_config_error_text_lists_each_problem(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[devices]]\nid = "x"\nhas_handrails = true\n[mqtt]\nport = 0\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    text = str(info.value)
    assert str(path) in text
    assert "\n  devices.0: give the treadmill's address or its advertised name" in text
    assert "\n  mqtt.port: " in text


@pytest.mark.parametrize(("value", "expected"), [("5", "5"), ('"5"', "5"), ('"3.1.1"', "3.1.1")])
def test_mqtt_protocol_spellings(load_toml: LoadToml, value: str, expected: str) -> None:
    assert load_toml(DEVICE + f"[mqtt]\nprotocol = {value}\n").mqtt.protocol == expected


@pytest.mark.parametrize(
    ("tls", "key"),
    [
        ('enabled = true\ncert_file = "{cert}"\n', "mqtt.tls"),  # certificate without its key
        ('enabled = false\nca_file = "{cert}"\n', "mqtt.tls"),  # files but TLS off
        ('enabled = true\nca_file = "/nonexistent/ca.crt"\n', "mqtt.tls.ca_file"),
    ],
)
def test_tls_settings_are_checked(problems: Problems, tmp_path: Path, tls: str, key: str) -> None:
    cert = tmp_path / "client.crt"
    cert.write_text("not really a certificate", encoding="utf-8")
    found = problems(DEVICE + "[mqtt.tls]\n" + tls.format(cert=cert))
    assert set(found) == {key}


def test_tls_with_files_loads(load_toml: LoadToml, tmp_path: Path) -> None:
    for name in ("ca.crt", "client.crt", "client.key"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    text = DEVICE + (
        f'[mqtt.tls]\nenabled = true\nca_file = "{tmp_path}/ca.crt"\n'
        f'cert_file = "{tmp_path}/client.crt"\nkey_file = "{tmp_path}/client.key"\n'
    )
    tls = load_toml(text).mqtt.tls
    assert tls.key_file == tmp_path / "client.key"


def test_profiles_dir_must_exist(problems: Problems, load_toml: LoadToml, tmp_path: Path) -> None:
    assert (
        "not a directory"
        in problems(f'profiles_dir = "{tmp_path}/none"\n' + DEVICE)["profiles_dir"]
    )
    assert load_toml(f'profiles_dir = "{tmp_path}"\n' + DEVICE).profiles_dir == tmp_path


def test_the_result_is_immutable(load_toml: LoadToml) -> None:
    config = load_toml(DEVICE)
    with pytest.raises(ValueError, match="frozen"):
        config.safety.user_cap_kmh = 4.0


def test_loading_does_not_touch_the_process_environment(load_toml: LoadToml) -> None:
    before = dict(os.environ)
    load_toml(DEVICE, {"TREADCTL_MQTT__HOST": "x"})
    assert dict(os.environ) == before
