"""``treadctl profile check``'s speech rule: a cue that takes longer to say than its segment
lasts is refused (estimated from the rate, or measured with espeak-ng); ``say:`` fixes it."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import yaml

from tests.speech.conftest import need
from treadctl.cli import profile as profile_cli
from treadctl.speech.check import check_cues, spoken_at_start
from treadctl.workout.models import Profile

LONG_CUE = (
    "Look straight ahead, keep your hands on the rails, take small and even steps, "
    "and remember to breathe calmly while the belt carries you along."
)


def profile(say: str = "") -> dict[str, object]:
    return {
        "name": "talky",
        "description": "d",
        "audience": "a",
        "level": "beginner",
        "needs_handrails": True,
        "cap_kmh": 1.2,
        "segments": [
            {"kind": "backward", "duration": "1 min", "speed_kmh": 1.2, "cue": "Go."},
            {
                "kind": "backward",
                "duration": "8 s",
                "speed_kmh": 1.0,
                "cue": LONG_CUE,
                "say": say,
            },
        ],
    }


def test_a_cue_longer_than_its_segment_is_refused_and_say_fixes_it() -> None:
    problems = check_cues(Profile.model_validate(profile()), 150)
    assert [p.field for p in problems] == [("segments", 1, "cue")]
    assert "the segment lasts 8 s" in problems[0].reason
    assert check_cues(Profile.model_validate(profile(say="Small steps.")), 150) == []
    # A slower rate needs more time: the short text still fits at 80 words per minute.
    assert check_cues(Profile.model_validate(profile(say="Small steps.")), 80) == []


def test_the_speed_change_said_with_the_cue_counts() -> None:
    texts = spoken_at_start(Profile.model_validate(profile(say="Small steps.")))
    assert texts == ["Go.", "Small steps. Slowing down to 1.0."]
    tight = profile(say="Keep the steps small and even, and breathe.")
    tight["segments"][1]["duration"] = "4 s"  # type: ignore[index]
    assert check_cues(Profile.model_validate(tight), 150)


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="treadctl")
    profile_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["profile", "check", *argv])
    code: int = args.handler(args)
    return code


@pytest.mark.parametrize("measure", [False, True])
def test_profile_check_refuses_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], measure: bool
) -> None:
    extra = ["--measure-speech"] if measure else []
    if measure:
        need("espeak-ng")
    path = tmp_path / "talky.yaml"
    path.write_text(yaml.safe_dump(profile(), sort_keys=False), encoding="utf-8")
    assert run(str(path), *extra) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out
    assert "talky.yaml:" in out
    assert "segments.1.cue: saying" in out
    assert ("measured" if measure else "estimated") in out
    path.write_text(yaml.safe_dump(profile(say="Small steps."), sort_keys=False), "utf-8")
    assert run(str(path), *extra) == 0
