"""Numbers in profiles are numbers (issue 12, defect 4): a YAML boolean (``true``, or ``yes`` /
``on`` in YAML 1.1) or a quoted string in a number field is refused with its file, line and
field, never read as 1.0 km/h; ``treadctl profile check`` fails on it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from treadctl.cli.main import main
from treadctl.workout.loader import ProfileError, load_profile_text

TEMPLATE = """\
name: tiny
description: A small profile.
audience: tests
level: beginner
needs_handrails: true
cap_kmh: {cap}
segments:
  - kind: backward
    duration: 3 min
    speed_kmh: {speed}
    incline_percent: {incline}
"""


def _text(cap: str = "2.0", speed: str = "1.0", incline: str = "0") -> str:
    return TEMPLATE.format(cap=cap, speed=speed, incline=incline)


def _refusal(text: str) -> tuple[tuple[str | int, ...], str, int | None]:
    with pytest.raises(ProfileError) as info:
        load_profile_text(text, file="p.yaml")
    (problem,) = info.value.problems
    return problem.field, problem.reason, problem.line


@pytest.mark.parametrize("word", ["true", "yes", "on", "True", "false", "no"])
def test_a_boolean_speed_is_refused(word: str) -> None:
    field, reason, line = _refusal(_text(speed=word))
    assert field == ("segments", 0, "speed_kmh")
    assert "number" in reason
    assert line == 10


@pytest.mark.parametrize("word", ["true", "yes"])
def test_a_boolean_cap_or_incline_is_refused(word: str) -> None:
    assert _refusal(_text(cap=word))[0] == ("cap_kmh",)
    assert _refusal(_text(incline=word))[0] == ("segments", 0, "incline_percent")


@pytest.mark.parametrize("text", ['"1.5"', "'1'", "1.5 km/h"])
def test_a_string_speed_is_refused(text: str) -> None:
    field, reason, _line = _refusal(_text(speed=text))
    assert field == ("segments", 0, "speed_kmh")
    assert "number" in reason


def test_whole_numbers_are_numbers() -> None:
    profile = load_profile_text(_text(cap="2", speed="1", incline="2"))
    assert profile.cap == 200
    assert profile.segments[0].speed == 100
    assert profile.segments[0].incline == 20


def test_profile_check_fails_on_a_boolean_speed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(textwrap.dedent(_text(speed="yes")), encoding="utf-8")
    assert main(["profile", "check", str(path)]) != 0
    out, err = capsys.readouterr()
    assert "speed_kmh" in out + err
