"""`treadctl config check` / `config show`: exit codes, keyed problems, masked secrets, and
shown TOML that loads back to the same configuration."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from treadctl.cli import config_cmd
from treadctl.config import load_config
from treadctl.config.render import to_toml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "config.example.toml"
SECRET = "correct-horse-battery"


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="treadctl")
    config_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The CLI reads the process environment: keep the machine's out of these tests."""
    for name in ("CREDENTIALS_DIRECTORY", "TREADCTL_DEVICES", "TREADCTL_MQTT__PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "mqtt_password").write_text(SECRET, encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))


def test_check_accepts_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["config", "check", "--config", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "treadmill living-room" in out
    assert "cap 2.5 km/h" in out
    assert "treadmill walking-pad" in out
    assert "cap 2.0 km/h, handrails no" in out
    assert "heart rate from strap 'Polar H10 12345678'" in out
    assert "person ann: heart rate hr_max 148 bpm (estimated from age as 220 - age)" in out


def test_check_reports_every_problem_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[devices]]\nid = "pad"\nname = "x"\nhas_handrails = true\nuser_cap_kmh = 6.0\n'
        "[mqtt]\nprot = 1\n",
        encoding="utf-8",
    )
    assert run(["config", "check", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "devices.0.user_cap_kmh: must be ≤ 4.0 (absolute cap) (got 6.0)" in err
    assert "mqtt.prot: unknown key" in err


def test_check_with_a_missing_explicit_file_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["config", "check", "--config", str(tmp_path / "absent.toml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_show_masks_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["config", "show", "--config", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert SECRET not in out
    assert tomllib.loads(out)["mqtt"]["password"] == "**********"
    assert run(["config", "show", "--config", str(EXAMPLE), "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["mqtt"]["password"] == "**********"
    assert shown["devices"][0]["id"] == "living-room"


def test_shown_toml_loads_back_to_the_same_configuration(tmp_path: Path) -> None:
    original = load_config(EXAMPLE, env={})  # no password: nothing masked
    shown = tmp_path / "shown.toml"
    shown.write_text(to_toml(original), encoding="utf-8")
    assert load_config(shown, env={}) == original


@pytest.mark.crossprocess
def test_installed_command_line_exit_codes(tmp_path: Path) -> None:
    """The real entry point (treadctl.cli.main registers the config command)."""
    bad = tmp_path / "bad.toml"
    bad.write_text("[[devices]]\nid = 'pad'\n", encoding="utf-8")
    command = [sys.executable, "-m", "treadctl.cli.main", "config", "check", "--config"]
    good_run = subprocess.run(
        [*command, str(EXAMPLE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert good_run.returncode == 0, good_run.stderr
    bad_run = subprocess.run(
        [*command, str(bad)], capture_output=True, text=True, timeout=60, check=False
    )
    assert bad_run.returncode == 2
    assert "devices.0.has_handrails: required" in bad_run.stderr


def test_config_without_an_action_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as info:
        run(["config"])
    assert info.value.code == 2
