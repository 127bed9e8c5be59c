"""Strict numbers for files: profiles, programs and the configuration (pydantic types).

A number field takes a number: an int, or a float (an int is a whole float). It refuses a
boolean (YAML 1.1 reads ``yes``, ``on`` and ``true`` as True, TOML has ``true``; pydantic would
otherwise read True as 1.0 km/h) and text (``"1.5"`` is a typo or a unit left in, not a
speed). The one exception is :class:`EnvironmentText`: every environment variable is text, so
the configuration's environment source marks its values with it, and those are parsed as
numbers as before (``TREADCTL_SAFETY__USER_CAP_KMH=2.5``).

A whole-number field (:data:`WholeNumber`) also refuses floats: ``2.0`` sessions or years is a
typo for ``2``. Use :data:`Number` for floats and :data:`WholeNumber` for ints; add bounds with
``Annotated[Number, Field(...)]``. Pure module (pydantic only).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator


class EnvironmentText(str):
    """A value read from an environment variable (text by nature; numbers are parsed from it)."""

    __slots__ = ()


def _only_numbers(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not a yes/no value (read as {str(value).lower()})")
    if isinstance(value, str) and not isinstance(value, EnvironmentText):
        raise ValueError(f"must be a number, not text ({value!r}): write it without quotes")
    return value


def _only_whole_numbers(value: object) -> object:
    if isinstance(value, bool | float):
        shown = str(value).lower() if isinstance(value, bool) else repr(value)
        raise ValueError(f"must be a whole number (an integer), not {shown}")
    if isinstance(value, str) and not isinstance(value, EnvironmentText):
        raise ValueError(f"must be a whole number (an integer), not text ({value!r})")
    return value


Number = Annotated[float, BeforeValidator(_only_numbers)]
"""A float setting: ints and floats, never a boolean or (outside the environment) text."""

WholeNumber = Annotated[int, BeforeValidator(_only_whole_numbers)]
"""An int setting: ints only, never a boolean, a float (``2.0``) or (outside the environment)
text."""
