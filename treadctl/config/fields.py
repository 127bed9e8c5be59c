"""Field types and checks shared by the configuration sections: bounds that name where the limit
comes from, topic-safe ids, Bumble transports, the speed cap type."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator

from treadctl.config import limits
from treadctl.numbers import Number

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,47}\Z")
_TRANSPORT = re.compile(r"[a-z][a-z0-9-]*(:\S*)?\Z")

Backend = Literal["bluez", "bumble"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

DEFAULTS_SOURCE = "docs/references.md#retro-defaults"
"""Where the safety defaults come from, named in the errors that cite them."""


def at_most(limit: float, why: str) -> AfterValidator:
    """``value <= limit``, failing with the limit and where it comes from."""

    def check(value: float) -> float:
        if value > limit:
            raise ValueError(f"must be ≤ {limit} ({why})")
        return value

    return AfterValidator(check)


def at_least(limit: float, why: str) -> AfterValidator:
    def check(value: float) -> float:
        if value < limit:
            raise ValueError(f"must be ≥ {limit} ({why})")
        return value

    return AfterValidator(check)


def check_slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(
            "must be a topic-safe id: 1-48 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return value


def check_transport(value: str | None) -> str | None:
    if value is not None and not _TRANSPORT.match(value):
        raise ValueError(
            "must be a Bumble transport such as 'tcp-client:127.0.0.1:9000' or 'unix:/run/sim.sock'"
        )
    return value


def to_upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


UserCap = Annotated[
    Number,
    at_least(limits.FINEST_SPEED_KMH, "the finest speed step"),
    at_most(limits.ABSOLUTE_CAP_KMH, "absolute cap"),
    at_most(limits.DEFAULT_USER_CAP_KMH, f"user cap, may only be lowered; {DEFAULTS_SOURCE}"),
]
"""A speed cap in km/h. Above 4.0 the message names the absolute cap; above 3.0 the default
user cap, which may only be lowered (as ``treadctl.safety.limits.Limits`` requires)."""
