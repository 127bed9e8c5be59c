"""``[history]``: where sessions are recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator

from treadctl.config.section import Section
from treadctl.numbers import WholeNumber


class HistoryConfig(Section):
    """``[history]``: where sessions are recorded (docs/history.md)."""

    enabled: bool = True
    url: SecretStr | None = None
    """``postgresql://user:password@host/db`` for a shared server; absent: the SQLite file
    ``<state_dir>/history.sqlite3``. A secret (it may hold a password): never printed."""
    programs_dir: Path | None = None
    """Extra program files next to the bundled ones."""
    queue_size: Annotated[WholeNumber, Field(ge=10, le=100_000)] = 2000
    """Writes that may wait for a slow database before new ones are dropped (and reported)."""

    @field_validator("url")
    @classmethod
    def _url_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            text = value.get_secret_value()
            if not text.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://")):
                raise ValueError("must start with postgresql:// (or sqlite:/// for a file)")
        return value

    @field_validator("programs_dir")
    @classmethod
    def _programs_dir_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a directory")
        return value
