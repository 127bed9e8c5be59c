"""Profile file models (pydantic). Speeds are km/h and inclines % in files; the engine and the
governor use exact integers (``treadctl.units``: 0.01 km/h, 0.1 %).

A profile is a list of segments: a warm-up (forward or backward), backward blocks, standing
rests (belt stopped, or at the device minimum) and a cool-down. The shape follows
docs/references.md#retro-defaults: "forward warm-up -> retro block(s) with standing rests -> forward
cool-down".
"""

from __future__ import annotations

import enum
import re
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from treadctl.numbers import Number
from treadctl.units import kmh_to_centi, percent_to_deci

_DURATION = re.compile(r"^\s*(?:(\d+)\s*min)?\s*(?:(\d+)\s*s)?\s*$")


class SegmentKind(enum.Enum):
    WARMUP = "warmup"
    BACKWARD = "backward"
    REST = "rest"
    COOLDOWN = "cooldown"


class Direction(enum.Enum):
    """Which way the person faces. The belt always runs its normal way (FTMS has no belt
    direction for treadmills); "backward" means facing the rear
    (docs/references.md#retro-studies)."""

    FORWARD = "forward"
    BACKWARD = "backward"


class RestBelt(enum.Enum):
    STOPPED = "stopped"
    MINIMUM = "minimum"


class Level(enum.Enum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    REHAB = "rehab"


def parse_duration(value: object) -> int:
    """'5 min', '90 s', '2 min 30 s' -> seconds. Bare numbers are refused (which unit?)."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError("give a duration with its unit, e.g. '5 min', '90 s' or '2 min 30 s'")
    match = _DURATION.match(value)
    if match is None or not any(match.groups()):
        raise ValueError(f"cannot read duration {value!r}; write e.g. '5 min' or '90 s'")
    minutes, seconds = (int(g) if g else 0 for g in match.groups())
    total = minutes * 60 + seconds
    if total <= 0:
        raise ValueError("a duration must be longer than 0 s")
    return total


def _decimals(value: float, places: int, what: str) -> float:
    if Decimal(str(value)).as_tuple().exponent < -places:  # type: ignore[operator]
        raise ValueError(f"{what} {value} is finer than the {10**-places:g} the treadmill uses")
    return value


class Segment(BaseModel):
    """One part of a session."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: SegmentKind
    duration: int = Field(description="'5 min', '90 s' or '2 min 30 s'")
    speed_kmh: Annotated[Number, Field(gt=0, allow_inf_nan=False)] | None = None
    incline_percent: Annotated[Number, Field(ge=0, allow_inf_nan=False)] = 0.0
    direction: Direction | None = None
    belt: RestBelt | None = None
    name: str | None = None
    cue: str = ""
    say: str = ""
    """Shorter text to speak instead of ``cue`` (docs/speech.md); the cue is still shown."""

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: object) -> int:
        return parse_duration(value)

    @field_validator("speed_kmh")
    @classmethod
    def _speed_precision(cls, value: float | None) -> float | None:
        return None if value is None else _decimals(value, 2, "speed")

    @field_validator("incline_percent")
    @classmethod
    def _incline_precision(cls, value: float) -> float:
        return _decimals(value, 1, "incline")

    @model_validator(mode="after")
    def _shape(self) -> Segment:
        if self.kind == SegmentKind.REST:
            if self.speed_kmh is not None:
                raise ValueError("a rest has no speed; use belt: stopped or belt: minimum")
            if self.direction is not None:
                raise ValueError("a rest has no direction")
            if self.incline_percent:
                raise ValueError("a rest has no incline")
        else:
            if self.speed_kmh is None:
                raise ValueError(f"a {self.kind.value} segment needs speed_kmh")
            if self.belt is not None:
                raise ValueError("belt: is only for rests")
            if self.kind == SegmentKind.BACKWARD and self.direction == Direction.FORWARD:
                raise ValueError("a backward block faces backward; use warmup/cooldown")
        return self

    @property
    def facing(self) -> Direction | None:
        """The direction the person faces (None for a rest)."""
        if self.kind == SegmentKind.REST:
            return None
        if self.direction is not None:
            return self.direction
        return Direction.BACKWARD if self.kind == SegmentKind.BACKWARD else Direction.FORWARD

    @property
    def rest_belt(self) -> RestBelt:
        return self.belt or RestBelt.STOPPED

    @property
    def speed(self) -> int | None:
        """Target speed in 0.01 km/h (exact; files may not be finer)."""
        return None if self.speed_kmh is None else kmh_to_centi(self.speed_kmh)

    @property
    def incline(self) -> int:
        """Target incline in 0.1 %."""
        return percent_to_deci(self.incline_percent)

    @property
    def moving(self) -> bool:
        return self.kind != SegmentKind.REST or self.rest_belt == RestBelt.MINIMUM

    @property
    def label(self) -> str:
        return self.name or self.kind.value


class Profile(BaseModel):
    """A backward-walking session profile (see docs/profiles.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
    description: Annotated[str, Field(min_length=1)]
    audience: Annotated[str, Field(min_length=1)]
    level: Level
    needs_handrails: bool
    supervised: bool = False
    cap_kmh: Annotated[Number, Field(gt=0, allow_inf_nan=False)]
    segments: Annotated[list[Segment], Field(min_length=1)]

    @field_validator("cap_kmh")
    @classmethod
    def _cap_precision(cls, value: float) -> float:
        return _decimals(value, 2, "cap")

    @property
    def cap(self) -> int:
        """The profile's own cap in 0.01 km/h."""
        return kmh_to_centi(self.cap_kmh)

    @property
    def duration_s(self) -> int:
        return sum(s.duration for s in self.segments)
