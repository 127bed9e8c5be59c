"""The shipped systemd unit: `scripts/check-systemd` passes on it and fails on broken copies,
and the directives the daemon and BlueZ depend on are present."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "systemd" / "treadctl.service"
CHECK = ROOT / "scripts" / "check-systemd"

_analyze_missing = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (scripts/bootstrap --with-test-tools installs it)",
)


def needs_analyze(test: Callable[..., None]) -> Callable[..., None]:
    """Runs scripts/check-systemd (a real process): skipped only without systemd-analyze."""
    marked: Callable[..., None] = pytest.mark.crossprocess(_analyze_missing(test))
    return marked


def _run_check(unit: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK), str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **env},
    )


def _service_section() -> dict[str, list[str]]:
    """Every key of [Service] with all its values (systemd allows repeated keys)."""
    values: dict[str, list[str]] = {}
    section = ""
    for raw in UNIT.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        values.setdefault(f"{section}.{key}", []).append(value)
    return values


@needs_analyze
def test_check_systemd_passes_on_the_shipped_unit() -> None:
    result = _run_check(UNIT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Overall exposure level for treadctl.service" in result.stdout


@needs_analyze
@pytest.mark.parametrize(
    ("original", "broken"),
    [
        ("User=treadctl", "Usr=treadctl"),  # unknown key: verify exits 0 but warns
        ("Type=notify", "Type=notfy"),  # bad value
        ("Restart=on-failure", "Restart=on-failure\nProtectSystem=sometimes"),
    ],
)
def test_check_systemd_fails_on_a_broken_copy(tmp_path: Path, original: str, broken: str) -> None:
    text = UNIT.read_text(encoding="utf-8")
    assert original in text
    copy = tmp_path / "treadctl.service"
    copy.write_text(text.replace(original, broken, 1), encoding="utf-8")
    result = _run_check(copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL" in result.stderr


@needs_analyze
def test_check_systemd_fails_above_the_exposure_limit(tmp_path: Path) -> None:
    text = UNIT.read_text(encoding="utf-8")
    copy = tmp_path / "treadctl.service"
    # Without the filesystem and system call hardening the score rises well above 2.0.
    weakened = [
        line
        for line in text.splitlines()
        if not line.startswith(("ProtectSystem=", "SystemCallFilter=", "CapabilityBoundingSet="))
    ]
    copy.write_text("\n".join(weakened) + "\n", encoding="utf-8")
    result = _run_check(copy, MAX_EXPOSURE="2.0")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "exposure above 2.0" in result.stderr


def test_unit_parses_as_ini() -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    assert set(parser.sections()) == {"Unit", "Service", "Install"}


def test_key_directives_are_present() -> None:
    keys = _service_section()
    expected_single = {
        "Service.Type": "notify",
        "Service.WatchdogSec": "30",
        "Service.Restart": "on-failure",
        "Service.User": "treadctl",
        "Service.Group": "treadctl",
        "Service.SupplementaryGroups": "bluetooth",
        "Service.StateDirectory": "treadctl",
        "Service.ConfigurationDirectory": "treadctl",
        "Service.LoadCredential": "mqtt_password:/etc/treadctl/mqtt_password",
        "Service.ExecStart": (
            "/opt/treadctl/.venv/bin/treadctl run --config /etc/treadctl/config.toml"
        ),
        "Service.NoNewPrivileges": "yes",
        "Service.CapabilityBoundingSet": "",
        "Service.ProtectSystem": "strict",
        "Service.ProtectHome": "yes",
        "Service.PrivateTmp": "yes",
        # bleak reaches BlueZ over D-Bus (AF_UNIX); MQTT over IP. No AF_BLUETOOTH needed.
        "Service.RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
        "Install.WantedBy": "multi-user.target",
    }
    for key, value in expected_single.items():
        assert keys.get(key) == [value], key
    assert "@system-service" in keys["Service.SystemCallFilter"]
    for unit_key in ("Unit.After", "Unit.Wants"):
        (targets,) = keys[unit_key]
        assert set(targets.split()) == {"bluetooth.target", "network-online.target"}
    # DynamicUser breaks BlueZ's D-Bus policy (it grants access by group membership).
    assert "Service.DynamicUser" not in keys
    # PrivateNetwork would cut the MQTT broker off; AF_BLUETOOTH is deliberately absent.
    assert "Service.PrivateNetwork" not in keys
