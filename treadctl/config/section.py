"""The base of every configuration section: unknown keys, NaN and infinities are errors (a
misspelt safety setting must never pass silently). Number fields use the strict types of
:mod:`treadctl.numbers` (no booleans, no quoted text outside the environment)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """Base of every configuration section."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, str_strip_whitespace=True
    )
