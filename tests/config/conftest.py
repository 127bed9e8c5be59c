"""Helpers for the configuration tests: write a TOML file, load it with a given environment."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from treadctl.config import Config, ConfigError, load_config

LoadToml = Callable[..., Config]
Problems = Callable[..., dict[str, str]]


@pytest.fixture
def load_toml(tmp_path: Path) -> LoadToml:
    """Write ``text`` to a file and load it with only ``env`` as the environment."""

    def load(text: str, env: Mapping[str, str] | None = None) -> Config:
        path = tmp_path / "config.toml"
        path.write_text(text, encoding="utf-8")
        return load_config(path, env=dict(env or {}))

    return load


@pytest.fixture
def problems(load_toml: LoadToml) -> Problems:
    """The problems (key → message) loading ``text`` reports; fails if it loads."""

    def collect(text: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
        with pytest.raises(ConfigError) as info:
            load_toml(text, env)
        return {problem.key: problem.message for problem in info.value.problems}

    return collect
