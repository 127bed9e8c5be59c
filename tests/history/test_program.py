"""Program files: the bundled one loads; bad files are refused with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from treadctl.cli.main import main
from treadctl.history.program import ProgramError, bundled_programs_dir, load_program
from treadctl.workout.loader import list_profile_files

PROFILES = {p.stem for p in list_profile_files()}

R = "mine.yaml:8: rules"
GOOD = """\
name: {name}
description: Two stages.
stages:
  - profile: retro-progress-week1
  - profile: retro-progress-week2
    name: second
"""


def write(tmp_path: Path, text: str, name: str = "mine") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_bundled_program_covers_the_six_week_profiles() -> None:
    program = load_program(
        bundled_programs_dir() / "retro-6-weeks.yaml", profile_exists=PROFILES.__contains__
    )
    assert [s.profile for s in program.stages] == [f"retro-progress-week{i}" for i in range(1, 7)]
    assert program.rule.advance_pain_at_most == 3
    assert program.rule.step_back_pain_above == 5


@pytest.mark.parametrize(
    ("change", "where", "reason"),
    [
        (("week2", "nope"), "mine.yaml:5: stages.1.profile", "unknown profile"),
        (("second\n", "second\n    speed: 2\n"), "mine.yaml:7: stages.1.speed", "unknown key"),
        (("second\n", "second\nrules:\n  rest_hours: true\n"), f"{R}.rest_hours", "integer"),
        (
            ("second\n", "second\nrules:\n  advance_after_sessions: 2.0\n"),
            f"{R}.advance_after_sessions",
            "integer",
        ),
        (
            ("second\n", "second\nrules:\n  step_back_pain_above: 7\n"),
            f"{R}.step_back_pain_above",
            "less than or equal to 5",
        ),
        (("name: mine", "name: other"), "mine.yaml:1: name", "must match the file name"),
    ],
)
def test_bad_programs_name_file_line_and_field(
    tmp_path: Path, change: tuple[str, str], where: str, reason: str
) -> None:
    text = GOOD.format(name="mine").replace(*change)
    with pytest.raises(ProgramError) as info:
        load_program(write(tmp_path, text), profile_exists=PROFILES.__contains__)
    problems = [str(p) for p in info.value.problems]
    assert any(where in p and reason in p for p in problems), problems


def test_program_check_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, GOOD.format(name="mine"))
    bad = write(tmp_path, GOOD.format(name="bad").replace("week2", "week9"), "bad")
    assert main(["program", "check", str(good)]) == 0
    assert main(["program", "check", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert "unknown profile 'retro-progress-week9'" in out
    assert main(["program", "show", "retro-6-weeks"]) == 0
    assert "6. week 6" in capsys.readouterr().out
