"""Progression program files (YAML): stages of profiles and the rule numbers.

Validated like profiles (file, line, field and reason for every problem; unknown keys refused;
strict numbers: ``true`` is not a number, ``2.0`` is not a whole number). Every stage names a
profile that must exist (bundled or in the configured directories). docs/journey.md.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from treadctl.errors import TreadctlError
from treadctl.history import progression as P
from treadctl.numbers import WholeNumber
from treadctl.workout.check import Problem
from treadctl.workout.yamlfile import load_yaml_model, read_yaml_text, with_line

PROGRAM_SUFFIXES = (".yaml", ".yml")


class ProgramError(TreadctlError):
    """A program file was refused; ``problems`` lists every reason with file, line, field."""

    advice = "see docs/journey.md"

    def __init__(self, problems: Sequence[Problem], file: str) -> None:
        self.problems = list(problems)
        self.file = file
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"program {file} refused ({len(self.problems)} problem(s)):\n{lines}")


class ProgramNotFoundError(TreadctlError):
    def __init__(self, name: str, searched: Sequence[Path]) -> None:
        self.name = name
        self.searched = list(searched)
        where = ", ".join(str(p) for p in searched) or "nowhere"
        super().__init__(f"no program named {name!r} (searched {where})")


class Stage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class RulesModel(BaseModel):
    """The rule numbers; each may only be made stricter than the reference (progression.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    advance_after_sessions: Annotated[WholeNumber, Field(ge=P.ADVANCE_AFTER_SESSIONS, le=10)] = (
        P.ADVANCE_AFTER_SESSIONS
    )
    advance_pain_at_most: Annotated[WholeNumber, Field(ge=0, le=P.ADVANCE_PAIN_AT_MOST)] = (
        P.ADVANCE_PAIN_AT_MOST
    )
    step_back_pain_above: Annotated[WholeNumber, Field(ge=0, le=P.STEP_BACK_PAIN_ABOVE)] = (
        P.STEP_BACK_PAIN_ABOVE
    )
    rest_hours: Annotated[WholeNumber, Field(ge=P.REST_HOURS, le=24 * 14)] = P.REST_HOURS


class Program(BaseModel):
    """A progression program (see docs/journey.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
    description: Annotated[str, Field(min_length=1)]
    stages: Annotated[list[Stage], Field(min_length=1, max_length=100)]
    rules: RulesModel = RulesModel()

    @model_validator(mode="after")
    def _step_back_above_advance(self) -> Program:
        if self.rules.step_back_pain_above < self.rules.advance_pain_at_most:
            raise ValueError(
                "rules.step_back_pain_above must be >= rules.advance_pain_at_most "
                "(a session cannot both advance and step back)"
            )
        return self

    @property
    def rule(self) -> P.Rules:
        r = self.rules
        return P.Rules(
            advance_after_sessions=r.advance_after_sessions,
            advance_pain_at_most=r.advance_pain_at_most,
            step_back_pain_above=r.step_back_pain_above,
            rest_hours=r.rest_hours,
        )

    def stage_profile(self, stage: int) -> str:
        """The profile of 1-based ``stage``."""
        return self.stages[stage - 1].profile

    def stage_name(self, stage: int) -> str:
        return self.stages[stage - 1].name or f"stage {stage}"


def bundled_programs_dir() -> Path:
    """``programs/`` of a source checkout, or ``<prefix>/share/treadctl/programs``."""
    checkout = Path(__file__).resolve().parents[2] / "programs"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "treadctl" / "programs"


def program_dirs(extra: Iterable[Path] = ()) -> list[Path]:
    return [*extra, bundled_programs_dir()]


def list_program_files(dirs: Iterable[Path]) -> list[Path]:
    seen: dict[str, Path] = {}
    for d in dirs:
        if d.is_dir():
            for path in sorted(d.iterdir()):
                if path.suffix in PROGRAM_SUFFIXES and path.stem not in seen:
                    seen[path.stem] = path
    return sorted(seen.values(), key=lambda p: p.stem)


def find_program(name: str, dirs: Sequence[Path]) -> Path:
    as_path = Path(name)
    if as_path.suffix in PROGRAM_SUFFIXES and as_path.is_file():
        return as_path
    for path in list_program_files(dirs):
        if path.stem == name:
            return path
    raise ProgramNotFoundError(name, dirs)


def load_program(path: Path | str, *, profile_exists: Callable[[str], bool]) -> Program:
    """Read and validate one program file; every stage's profile must exist."""
    path = Path(path)
    file = str(path)
    text = read_yaml_text(path, ProgramError)
    program, lines = load_yaml_model(
        text, Program, file=file, kind="a program", refuse=_refuse, unknown_key=_UNKNOWN_KEY
    )
    problems = []
    if program.name != path.stem:
        reason = f"name {program.name!r} must match the file name {path.stem!r}"
        problems.append(with_line(Problem(("name",), reason, file), lines))
    for i, stage in enumerate(program.stages):
        if not profile_exists(stage.profile):
            reason = f"unknown profile {stage.profile!r} (treadctl profile list shows them)"
            problems.append(with_line(Problem(("stages", i, "profile"), reason, file), lines))
    if problems:
        raise ProgramError(problems, file)
    return program


_UNKNOWN_KEY = "unknown key (see docs/journey.md)"


def _refuse(problems: Sequence[Problem], file: str) -> ProgramError:
    # An unknown key's reason is given without the value it held.
    return ProgramError(
        [
            Problem(p.field, _UNKNOWN_KEY, p.file, p.line)
            if p.reason.startswith(_UNKNOWN_KEY)
            else p
            for p in problems
        ],
        file,
    )
