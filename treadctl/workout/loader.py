"""Loading profile files (YAML) with file, line and field in every error.

Pipeline: YAML syntax (PyYAML, line from its mark) -> duplicate keys -> pydantic model
(types, unknown keys, shapes) -> safety checks (:mod:`treadctl.workout.check`). All problems
found at one stage are reported together. Pure apart from reading the file.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from treadctl.errors import TreadctlError
from treadctl.safety.limits import Limits
from treadctl.workout.check import FieldPath, Problem, check_profile
from treadctl.workout.models import Profile

PROFILE_SUFFIXES = (".yaml", ".yml")
PROFILES_ENV = "TREADCTL_PROFILES"
"""A ``os.pathsep``-separated list of extra profile directories, searched first."""


class ProfileError(TreadctlError):
    """A profile file was refused. ``problems`` lists every reason with file, line, field."""

    advice = "see docs/profiles.md"

    def __init__(self, problems: Sequence[Problem], file: str) -> None:
        self.problems = list(problems)
        self.file = file
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"profile {file} refused ({len(self.problems)} problem(s)):\n{lines}")


class ProfileNotFoundError(TreadctlError):
    def __init__(self, name: str, searched: Sequence[Path]) -> None:
        self.name = name
        self.searched = list(searched)
        where = ", ".join(str(p) for p in searched) or "nowhere"
        super().__init__(f"no profile named {name!r} (searched {where})")


def bundled_profiles_dir() -> Path:
    """The bundled profiles: ``profiles/`` of a source checkout (also an editable install), or
    ``<prefix>/share/treadctl/profiles`` where a regular install puts them (pyproject's
    data-files)."""
    checkout = Path(__file__).resolve().parents[2] / "profiles"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "treadctl" / "profiles"


def profile_dirs(extra: Iterable[Path] = ()) -> list[Path]:
    dirs = [*extra]
    env = os.environ.get(PROFILES_ENV)
    if env:
        dirs += [Path(p) for p in env.split(os.pathsep) if p]
    dirs.append(bundled_profiles_dir())
    return dirs


def list_profile_files(dirs: Iterable[Path] | None = None) -> list[Path]:
    """Profile files in the search directories; an earlier directory shadows a later one."""
    seen: dict[str, Path] = {}
    for d in profile_dirs() if dirs is None else dirs:
        if not d.is_dir():
            continue
        for path in sorted(d.iterdir()):
            if path.suffix in PROFILE_SUFFIXES and path.stem not in seen:
                seen[path.stem] = path
    return sorted(seen.values(), key=lambda p: p.stem)


def find_profile(name: str, dirs: Iterable[Path] | None = None) -> Path:
    """A profile by name (file stem) or by path."""
    as_path = Path(name)
    if as_path.suffix in PROFILE_SUFFIXES and as_path.is_file():
        return as_path
    search = profile_dirs() if dirs is None else list(dirs)
    for path in list_profile_files(search):
        if path.stem == name:
            return path
    raise ProfileNotFoundError(name, search)


def load_profile(path: Path | str, *, limits: Limits | None = None) -> Profile:
    """Read, validate and safety-check one profile file; ProfileError lists every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError([Problem((), f"cannot read: {exc}", str(path))], str(path)) from exc
    profile = load_profile_text(text, file=str(path), limits=limits)
    if profile.name != path.stem:
        problem = Problem(
            ("name",), f"name {profile.name!r} must match the file name {path.stem!r}", str(path)
        )
        raise ProfileError([_with_line(problem, _line_map_of(text))], str(path))
    return profile


def load_profile_text(
    text: str, *, file: str = "<profile>", limits: Limits | None = None
) -> Profile:
    """Validate profile YAML text. See :func:`load_profile`."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
        raise ProfileError([Problem((), reason, file, line)], file) from exc
    if not isinstance(node, yaml.MappingNode):
        line = node.start_mark.line + 1 if node is not None else None
        raise ProfileError([Problem((), "a profile is a YAML mapping of keys", file, line)], file)
    lines: dict[FieldPath, int] = {}
    duplicates: list[Problem] = []
    _walk(node, (), lines, duplicates, file)
    if duplicates:
        raise ProfileError(duplicates, file)
    data: Any = yaml.safe_load(text)
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        problems = [_pydantic_problem(err, lines, file) for err in exc.errors()]
        raise ProfileError(problems, file) from exc
    safety = check_profile(profile, limits)
    if safety:
        problems = [_with_line(Problem(p.field, p.reason, file), lines) for p in safety]
        raise ProfileError(problems, file)
    return profile


def locate(problems: Sequence[Problem], path: Path | str) -> list[Problem]:
    """Fill in file and line for problems found on an already loaded profile (for example by
    :func:`treadctl.workout.check.check_profile_for_device`)."""
    path = Path(path)
    try:
        lines = _line_map_of(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        lines = {}
    return [_with_line(Problem(p.field, p.reason, str(path)), lines) for p in problems]


def _walk(
    node: yaml.Node,
    path: FieldPath,
    lines: dict[FieldPath, int],
    duplicates: list[Problem],
    file: str,
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                duplicates.append(Problem((*path, key), "duplicate key", file, line))
            seen.add(key)
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, duplicates, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines, duplicates, file)


def _line_map_of(text: str) -> dict[FieldPath, int]:
    lines: dict[FieldPath, int] = {}
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if node is not None:
        _walk(node, (), lines, [], "")
    return lines


def _with_line(problem: Problem, lines: dict[FieldPath, int]) -> Problem:
    path = problem.field
    while path and path not in lines:
        path = path[:-1]
    return Problem(problem.field, problem.reason, problem.file, lines.get(path))


_TAGS = {"float", "int", "str", "bool", "list", "dict", "none", "constrained-float"}


def _pydantic_problem(err: Any, lines: dict[FieldPath, int], file: str) -> Problem:
    loc: FieldPath = tuple(err.get("loc", ()))
    # Drop pydantic's schema tags (union members, validators) from the location.
    field = tuple(p for p in loc if isinstance(p, int) or (p not in _TAGS and "[" not in p))
    reason = str(err.get("msg", "invalid"))
    if err.get("type") == "extra_forbidden":
        reason = "unknown key (see docs/profiles.md for the keys a profile may have)"
    elif err.get("type") == "missing":
        reason = "required key is missing"
    if (
        "input" in err
        and err.get("type") not in ("missing",)
        and not isinstance(err["input"], dict | list)
    ):
        reason += f" (got {err['input']!r})"
    return _with_line(Problem(field, reason, file), lines)
