"""``[logging]``: levels and output format."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from treadctl.config.fields import LogLevel, to_upper
from treadctl.config.section import Section


class LoggingConfig(Section):
    """``[logging]``."""

    level: Annotated[LogLevel, BeforeValidator(to_upper)] = "INFO"
    format: Literal["auto", "json", "console"] = "auto"
    """``auto``: JSON lines when stdout is not a terminal (journald), readable on a terminal."""
    loggers: dict[str, Annotated[LogLevel, BeforeValidator(to_upper)]] = Field(default_factory=dict)
    """Per-library levels, e.g. ``bumble = "DEBUG"`` (defaults in ``treadctl.log``)."""
