"""Loading profile files (YAML) with file, line and field in every error.

Pipeline: the shared YAML model loader (:mod:`treadctl.workout.yamlfile`: syntax, duplicate
keys, the pydantic model) -> safety checks (:mod:`treadctl.workout.check`). All problems found at
one stage are reported together. Pure apart from reading the file.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

from treadctl.errors import TreadctlError
from treadctl.safety.limits import Limits
from treadctl.workout.check import Problem, check_profile
from treadctl.workout.models import Profile
from treadctl.workout.yamlfile import line_map, load_yaml_model, read_yaml_text, with_line

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
    text = read_yaml_text(path, ProfileError)
    profile = load_profile_text(text, file=str(path), limits=limits)
    if profile.name != path.stem:
        problem = Problem(
            ("name",), f"name {profile.name!r} must match the file name {path.stem!r}", str(path)
        )
        raise ProfileError([with_line(problem, line_map(text))], str(path))
    return profile


def load_profile_text(
    text: str, *, file: str = "<profile>", limits: Limits | None = None
) -> Profile:
    """Validate profile YAML text. See :func:`load_profile`."""
    profile, lines = load_yaml_model(
        text,
        Profile,
        file=file,
        kind="a profile",
        refuse=ProfileError,
        unknown_key="unknown key (see docs/profiles.md for the keys a profile may have)",
    )
    safety = check_profile(profile, limits)
    if safety:
        problems = [with_line(Problem(p.field, p.reason, file), lines) for p in safety]
        raise ProfileError(problems, file)
    return profile


def locate(problems: Sequence[Problem], path: Path | str) -> list[Problem]:
    """Fill in file and line for problems found on an already loaded profile (for example by
    :func:`treadctl.workout.check.check_profile_for_device`)."""
    path = Path(path)
    try:
        lines = line_map(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        lines = {}
    return [with_line(Problem(p.field, p.reason, str(path)), lines) for p in problems]
