"""``treadctl profile check|list|show`` through its argparse registration."""

from __future__ import annotations

import argparse
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from treadctl.cli import profile as profile_cli
from treadctl.workout.loader import bundled_profiles_dir

BAD = """\
name: bad
description: x
audience: y
level: beginner
needs_handrails: true
cap_kmh: 2.0
segments:
  - kind: backward
    duration: 3 min
    speed_kmh: 2.5
"""


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="treadctl")
    profile_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["profile", *argv])
    code: int = args.handler(args)
    return code


def test_every_bundled_profile_passes_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("check") == 0
    out = capsys.readouterr().out
    assert "11 ok, 0 refused" in out


def test_check_reports_file_line_field_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    assert run("check", str(bad)) == 1
    out = capsys.readouterr().out
    assert f"{bad}:10: segments.0.speed_kmh: 2.5 km/h is above the profile cap 2 km/h" in out


def test_check_against_a_walking_pad(capsys: pytest.CaptureFixture[str]) -> None:
    rehab = bundled_profiles_dir() / "retro-rehab-slow.yaml"
    assert run("check", "--speed-range", "1.0,6.0,0.5", str(rehab)) == 1
    out = capsys.readouterr().out
    assert f"{rehab}:25: segments.2.speed_kmh: 0.3 km/h is below this treadmill's minimum" in out
    pad = bundled_profiles_dir() / "retro-walking-pad.yaml"
    assert run("check", "--speed-range", "1.0,6.0,0.5", "--no-handrails", str(pad)) == 0


def test_check_with_a_lower_user_cap(capsys: pytest.CaptureFixture[str]) -> None:
    knee = bundled_profiles_dir() / "retro-knee.yaml"
    assert run("check", "--user-cap", "1.2", str(knee)) == 1
    assert "above the user cap 1.2 km/h" in capsys.readouterr().out


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("list") == 0
    out = capsys.readouterr().out
    assert "retro-walking-pad" in out
    assert "no rails" in out


def test_show_prints_timeline_and_chart_and_writes_svg(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    svg = tmp_path / "uphill.svg"
    assert run("show", "retro-uphill", "--svg", str(svg), "--width", "60") == 0
    out = capsys.readouterr().out
    assert "uphill (backward, facing" in out
    assert "incline %" in out
    assert "█" in out
    root = ET.fromstring(svg.read_text())
    assert root.tag.endswith("svg")
    assert len(root.findall("{http://www.w3.org/2000/svg}polyline")) == 2


def test_show_unknown_profile(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("show", "no-such-profile") == 1
    assert "no profile named" in capsys.readouterr().err
