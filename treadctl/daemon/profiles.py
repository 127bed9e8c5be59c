"""The daemon's profile catalog: the bundled profiles plus the configured directory.

A reload that finds a broken file keeps the last good version of that profile (and reports the
problems); a profile whose file disappeared is dropped. Nothing here touches a treadmill.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from treadctl.safety.limits import Limits
from treadctl.workout.loader import (
    ProfileError,
    ProfileNotFoundError,
    list_profile_files,
    load_profile,
    profile_dirs,
)
from treadctl.workout.models import Profile


@dataclass(frozen=True, slots=True)
class ReloadReport:
    loaded: tuple[str, ...]
    problems: tuple[str, ...]
    """One line per problem, ``file:line: field: reason``; those profiles kept their last good
    version (or stay absent if they never loaded)."""


class ProfileCatalog:
    """Profiles by name. ``reload()`` re-reads the directories."""

    def __init__(self, extra_dirs: Iterable[Path] = (), limits: Limits | None = None) -> None:
        self._dirs = profile_dirs(list(extra_dirs))
        self._limits = limits or Limits()
        self._profiles: dict[str, Profile] = {}

    def reload(self) -> ReloadReport:
        found: dict[str, Profile] = {}
        problems: list[str] = []
        for path in list_profile_files(self._dirs):
            try:
                found[path.stem] = load_profile(path, limits=self._limits)
            except ProfileError as exc:
                problems.extend(str(p) for p in exc.problems)
                if path.stem in self._profiles:
                    found[path.stem] = self._profiles[path.stem]
        self._profiles = found
        return ReloadReport(tuple(sorted(found)), tuple(problems))

    def get(self, name: str) -> Profile:
        try:
            return self._profiles[name]
        except KeyError:
            raise ProfileNotFoundError(name, self._dirs) from None

    def names(self) -> list[str]:
        return sorted(self._profiles)

    def all(self) -> list[Profile]:
        return [self._profiles[n] for n in self.names()]
