"""Bundled profiles are safe; malformed or unsafe profiles are refused with file, line, field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from treadctl.observations import InclineRange, SpeedRange
from treadctl.safety.limits import Limits
from treadctl.workout.check import check_profile, check_profile_for_device
from treadctl.workout.loader import (
    ProfileError,
    bundled_profiles_dir,
    find_profile,
    list_profile_files,
    load_profile,
    load_profile_text,
)

BUNDLED = sorted(bundled_profiles_dir().glob("*.yaml"))
# docs/references.md#retro-studies: real walking pads 1.0-6.0 km/h in 0.5 steps.
PAD = SpeedRange(100, 600, 50)
FINE = SpeedRange(10, 1800, 10)

EXPECTED = {
    "retro-beginner",
    "retro-knee",
    "retro-uphill",
    "retro-walking-pad",
    "retro-rehab-slow",
    *(f"retro-progress-week{w}" for w in range(1, 7)),
}

GOOD = """\
name: tiny
description: A small valid profile.
audience: tests
level: beginner
needs_handrails: true
cap_kmh: 2.0
segments:
  - kind: backward
    duration: 3 min
    speed_kmh: 1.0
    cue: small steps
"""


def test_all_expected_profiles_are_bundled() -> None:
    assert {p.stem for p in BUNDLED} == EXPECTED


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_profile_passes_every_check(path: Path) -> None:
    profile = load_profile(path)
    assert profile.name == path.stem
    assert check_profile(profile) == []
    assert profile.cap <= 300
    for seg in profile.segments:
        assert seg.speed is None or seg.speed <= profile.cap
        assert seg.incline <= 100


def test_reference_doses() -> None:
    knee = load_profile(bundled_profiles_dir() / "retro-knee.yaml")
    backward = sum(s.duration for s in knee.segments if s.kind.value == "backward")
    assert backward == 10 * 60  # Alghadir et al. 2019: 10 min
    beginner = load_profile(bundled_profiles_dir() / "retro-beginner.yaml")
    speeds = [s.speed for s in beginner.segments if s.kind.value == "backward"]
    assert all(s is not None and 100 <= s <= 150 for s in speeds)
    pad = load_profile(bundled_profiles_dir() / "retro-walking-pad.yaml")
    assert pad.cap <= 200
    assert not pad.needs_handrails
    uphill = load_profile(bundled_profiles_dir() / "retro-uphill.yaml")
    assert {s.incline for s in uphill.segments if s.kind.value == "backward"} <= {0, *range(20, 51)}
    rehab = load_profile(bundled_profiles_dir() / "retro-rehab-slow.yaml")
    assert rehab.supervised
    moving = [s.speed for s in rehab.segments if s.speed is not None]
    assert min(moving) == 30
    assert max(moving) <= 100


def test_walking_pad_profile_fits_a_walking_pad_and_a_rail_less_treadmill() -> None:
    pad = load_profile(
        bundled_profiles_dir() / "retro-walking-pad.yaml", limits=Limits(handrails=False)
    )
    assert check_profile_for_device(pad, PAD) == []


def test_profiles_needing_rails_are_refused_on_a_treadmill_without() -> None:
    with pytest.raises(ProfileError) as info:
        load_profile(bundled_profiles_dir() / "retro-knee.yaml", limits=Limits(handrails=False))
    reasons = " ".join(p.reason for p in info.value.problems)
    assert "needs handrails" in reasons


def test_lower_user_cap_refuses_a_profile_above_it() -> None:
    with pytest.raises(ProfileError) as info:
        load_profile(bundled_profiles_dir() / "retro-knee.yaml", limits=Limits(user_speed_cap=120))
    fields = {p.field for p in info.value.problems}
    assert ("cap_kmh",) in fields
    assert any(f[:1] == ("segments",) and f[-1] == "speed_kmh" for f in fields)


def test_below_device_minimum_is_refused_for_that_device_not_rounded_up() -> None:
    rehab = load_profile(bundled_profiles_dir() / "retro-rehab-slow.yaml")
    problems = check_profile_for_device(rehab, PAD)
    assert problems
    assert all("below this treadmill's minimum 1 km/h" in p.reason for p in problems)
    assert all(p.field[-1] == "speed_kmh" for p in problems)
    # every moving segment is below 1.0 km/h, so every one is reported
    assert len(problems) == sum(1 for s in rehab.segments if s.speed is not None)
    assert check_profile_for_device(rehab, FINE) == []


def test_incline_profile_on_a_device_without_incline() -> None:
    uphill = load_profile(bundled_profiles_dir() / "retro-uphill.yaml")
    problems = check_profile_for_device(uphill, FINE, None)
    assert problems
    assert all(p.field[-1] == "incline_percent" for p in problems)
    assert check_profile_for_device(uphill, FINE, InclineRange(0, 150, 5)) == []


def test_find_and_list() -> None:
    assert find_profile("retro-knee").name == "retro-knee.yaml"
    assert [p.stem for p in list_profile_files([bundled_profiles_dir()])] == sorted(EXPECTED)


def _refused(text: str, limits: Limits | None = None) -> ProfileError:
    with pytest.raises(ProfileError) as info:
        load_profile_text(textwrap.dedent(text), file="p.yaml", limits=limits)
    assert all(p.file == "p.yaml" for p in info.value.problems)
    return info.value


def test_good_minimal_profile_loads() -> None:
    profile = load_profile_text(GOOD)
    assert profile.segments[0].speed == 100
    assert profile.segments[0].duration == 180


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "reason"),
    [
        ("speed_kmh: 1.0", "speed_kmh: fast", 10, ("segments", 0, "speed_kmh"), "number"),
        (
            "    cue: small steps",
            "    cue: x\n    colour: red",
            12,
            ("segments", 0, "colour"),
            "unknown key",
        ),
        ("cap_kmh: 2.0", "cap_kmh: 2.0\nmood: happy", 7, ("mood",), "unknown key"),
        (
            "speed_kmh: 1.0",
            "speed_kmh: 2.5",
            10,
            ("segments", 0, "speed_kmh"),
            "above the profile cap",
        ),
        ("cap_kmh: 2.0", "cap_kmh: 3.5", 6, ("cap_kmh",), "above the user cap 3 km/h"),
        ("cap_kmh: 2.0", "cap_kmh: 4.5", 6, ("cap_kmh",), "absolute cap 4 km/h"),
        ("duration: 3 min", "duration: 3", 9, ("segments", 0, "duration"), "unit"),
        ("duration: 3 min", "duration: soon", 9, ("segments", 0, "duration"), "cannot read"),
        ("speed_kmh: 1.0", "speed_kmh: 1.005", 10, ("segments", 0, "speed_kmh"), "finer than"),
        ("speed_kmh: 1.0", "speed_kmh: -1", 10, ("segments", 0, "speed_kmh"), "greater than 0"),
        ("level: beginner", "level: expert", 4, ("level",), "beginner"),
        ("needs_handrails: true", "needs_handrails: maybe", 5, ("needs_handrails",), "boolean"),
        ("name: tiny", "name: Tiny Profile!", 1, ("name",), "pattern"),
        ("kind: backward", "kind: sideways", 8, ("segments", 0, "kind"), "backward"),
    ],
)
def test_malformed_profiles_name_line_field_and_reason(
    old: str, new: str, line: int, field: tuple[str | int, ...], reason: str
) -> None:
    assert old in GOOD
    error = _refused(GOOD.replace(old, new, 1))
    match = [p for p in error.problems if p.field == field]
    assert match, [str(p) for p in error.problems]
    assert match[0].line == line, str(match[0])
    assert reason in match[0].reason, str(match[0])
    assert f"p.yaml:{line}" in str(error)


def test_empty_segments() -> None:
    error = _refused(GOOD.split("segments:", maxsplit=1)[0] + "segments: []\n")
    assert error.problems[0].field == ("segments",)
    assert error.problems[0].line == 7
    assert "at least 1" in error.problems[0].reason


def test_missing_key() -> None:
    error = _refused(GOOD.replace("audience: tests\n", ""))
    assert [p.field for p in error.problems] == [("audience",)]
    assert "missing" in error.problems[0].reason


def test_bad_yaml_reports_its_line() -> None:
    error = _refused(GOOD.replace("level: beginner", "level: [beginner"))
    assert error.problems[0].line is not None
    assert "not valid YAML" in error.problems[0].reason


def test_not_a_mapping() -> None:
    assert "mapping" in _refused("- a\n- b\n").problems[0].reason


def test_duplicate_keys_are_refused() -> None:
    error = _refused(GOOD.replace("cap_kmh: 2.0", "cap_kmh: 2.0\ncap_kmh: 3.9"))
    assert error.problems[0].field == ("cap_kmh",)
    assert error.problems[0].line == 7
    assert "duplicate" in error.problems[0].reason


SEG = """\
  - kind: {kind}
    duration: {duration}
    {extra}
"""


def _profile(*segments: str, cap: float = 2.0, rails: bool = True) -> str:
    head = GOOD.split("segments:", maxsplit=1)[0].replace("cap_kmh: 2.0", f"cap_kmh: {cap}")
    head = head.replace("needs_handrails: true", f"needs_handrails: {str(rails).lower()}")
    return head + "segments:\n" + "".join(segments)


def seg(kind: str, duration: str, **extra: object) -> str:
    body = "\n    ".join(f"{k}: {v}" for k, v in extra.items()) or "cue: x"
    return SEG.format(kind=kind, duration=duration, extra=body)


def test_impossible_speed_ramp() -> None:
    text = _profile(
        seg("backward", "3 min", speed_kmh=1.0),
        seg("backward", "5 s", speed_kmh=2.0),
    )
    error = _refused(text)
    assert any(
        p.field == ("segments", 1, "duration") and "0.1 km/h per second takes 10 s" in p.reason
        for p in error.problems
    ), error


def test_speed_increase_in_the_first_three_minutes_of_a_block() -> None:
    error = _refused(
        _profile(seg("backward", "2 min", speed_kmh=1.0), seg("backward", "2 min", speed_kmh=1.2))
    )
    assert any("first 3 minutes" in p.reason for p in error.problems), error


def test_speed_and_incline_raised_together() -> None:
    error = _refused(
        _profile(
            seg("backward", "3 min", speed_kmh=1.0),
            seg("backward", "5 min", speed_kmh=1.2, incline_percent=2),
        )
    )
    assert any("same minute" in p.reason for p in error.problems), error


def test_incline_over_cap_and_too_fast() -> None:
    error = _refused(_profile(seg("backward", "3 min", speed_kmh=1.0, incline_percent=12)))
    reasons = [p.reason for p in error.problems]
    assert any("above the incline cap 10 %" in r for r in reasons), reasons
    assert any("% per minute takes" in r for r in reasons), reasons


def test_turning_around_needs_a_stopped_rest() -> None:
    error = _refused(
        _profile(seg("warmup", "3 min", speed_kmh=1.5), seg("backward", "3 min", speed_kmh=1.0))
    )
    assert any(
        p.field == ("segments", 1, "direction") and "turning around" in p.reason
        for p in error.problems
    ), error
    # with a rest at the belt minimum it is still refused; with a stopped rest it loads
    _refused(
        _profile(
            seg("warmup", "3 min", speed_kmh=1.5),
            seg("rest", "1 min", belt="minimum"),
            seg("backward", "3 min", speed_kmh=1.0),
        )
    )
    load_profile_text(
        _profile(
            seg("warmup", "3 min", speed_kmh=1.5),
            seg("rest", "1 min", belt="stopped"),
            seg("backward", "3 min", speed_kmh=1.0),
        )
    )


def test_handrail_free_blocks_are_at_most_ten_minutes() -> None:
    text = _profile(
        seg("backward", "6 min", speed_kmh=1.0),
        seg("backward", "6 min", speed_kmh=1.5),
        cap=2.0,
        rails=False,
    )
    error = _refused(text)
    assert any("at most 10 min" in p.reason for p in error.problems), error
    # the same with rails is fine
    load_profile_text(text.replace("needs_handrails: false", "needs_handrails: true"))


def test_handrail_free_cap() -> None:
    error = _refused(_profile(seg("backward", "3 min", speed_kmh=1.0), cap=2.5, rails=False))
    assert any("without handrails must cap at 2 km/h" in p.reason for p in error.problems)


def test_shape_rules() -> None:
    assert any(
        "begin with a rest" in p.reason
        for p in _refused(
            _profile(seg("rest", "1 min"), seg("backward", "3 min", speed_kmh=1.0))
        ).problems
    )
    assert any(
        "no backward block" in p.reason
        for p in _refused(_profile(seg("warmup", "3 min", speed_kmh=1.0))).problems
    )
    assert any(
        "a rest has no speed" in p.reason
        for p in _refused(
            _profile(seg("backward", "3 min", speed_kmh=1.0), seg("rest", "1 min", speed_kmh=1.0))
        ).problems
    )


def test_every_problem_is_reported_at_once() -> None:
    error = _refused(
        _profile(
            seg("backward", "3 min", speed_kmh=2.5),
            seg("backward", "3 min", speed_kmh=3.9, incline_percent=11),
        )
    )
    assert len(error.problems) >= 4
