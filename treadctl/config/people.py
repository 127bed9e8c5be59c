"""``[[people]]``: who walks, their program and heart-rate limits."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from treadctl.config.fields import check_slug
from treadctl.config.section import Section
from treadctl.numbers import Number, WholeNumber
from treadctl.safety.heart_rate import HeartRateLimits, HeartRateSettingsError


class PersonConfig(Section):
    """One person who walks (``[[people]]``): the history and the program follow them."""

    id: Annotated[str, AfterValidator(check_slug)]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    program: Annotated[str, Field(min_length=1, max_length=64)] = "retro-6-weeks"
    """The progression program (``treadctl program list``) this person follows."""
    default: bool = False
    """The person a session is for when a command names nobody (the only person is always
    the default)."""
    age: Annotated[WholeNumber, Field(ge=1, le=120)] | None = None
    """Without ``hr_max_bpm``: the heart-rate guard estimates the maximum as 220 - age
    (docs/heart-rate.md)."""
    hr_max_bpm: Annotated[WholeNumber, Field(ge=60, le=240)] | None = None
    """A measured maximum heart rate (always wins over an age estimate)."""
    hr_soft_fraction: Annotated[Number, Field(ge=0.3, le=0.95)] | None = None
    """Hold speed and incline increases from this fraction of the maximum (default 0.70); a
    therapist may lower it (docs/heart-rate.md)."""
    hr_hard_fraction: Annotated[Number, Field(ge=0.3, le=0.95)] | None = None
    """Ramp down and stop above this fraction for more than 5 s (default 0.80)."""

    @model_validator(mode="after")
    def _heart_rate_limits(self) -> PersonConfig:
        try:
            self.heart_rate_limits()
        except HeartRateSettingsError as exc:
            raise ValueError(str(exc)) from None
        return self

    def heart_rate_limits(self) -> HeartRateLimits | None:
        """This person's heart-rate limits; None without ``age`` or ``hr_max_bpm``."""
        return HeartRateLimits.for_person(
            hr_max=self.hr_max_bpm,
            age=self.age,
            soft_fraction=self.hr_soft_fraction,
            hard_fraction=self.hr_hard_fraction,
        )
