"""``[safety]``: the governor's limits, which may only be made more conservative."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from treadctl.config import limits
from treadctl.config.fields import DEFAULTS_SOURCE, UserCap, at_least, at_most
from treadctl.config.section import Section
from treadctl.numbers import Number


class SafetyConfig(Section):
    """``[safety]``: may only be made more conservative than the defaults (see ``limits``).

    Every field here reaches the governor (``treadctl.safety.limits.Limits``); the fixed rules
    (no speed-up in a block's first 3 minutes, +0.1 km/h per minute nudges, 10-minute blocks
    without handrails) live in the safety module and are not configurable.
    """

    user_cap_kmh: UserCap = limits.DEFAULT_USER_CAP_KMH
    """Highest speed for every treadmill (a treadmill's own cap may only lower it)."""
    no_handrails_cap_kmh: Annotated[
        Number,
        at_least(limits.FINEST_SPEED_KMH, "the finest speed step"),
        at_most(limits.NO_HANDRAILS_CAP_KMH, f"cap without handrails, {DEFAULTS_SOURCE}"),
    ] = limits.NO_HANDRAILS_CAP_KMH
    acceleration_kmh_per_s: Annotated[
        Number,
        at_least(limits.FINEST_SPEED_KMH, "the finest speed step per second"),
        at_most(limits.ACCELERATION_LIMIT_KMH_PER_S, f"acceleration limit, {DEFAULTS_SOURCE}"),
    ] = limits.ACCELERATION_LIMIT_KMH_PER_S
    max_incline_percent: Annotated[
        Number, Field(ge=0), at_most(limits.INCLINE_CAP_PERCENT, f"incline cap, {DEFAULTS_SOURCE}")
    ] = limits.INCLINE_CAP_PERCENT
    incline_ramp_percent_per_min: Annotated[
        Number,
        at_least(limits.FINEST_INCLINE_PERCENT, "the finest incline step per minute"),
        at_most(limits.INCLINE_RAMP_PERCENT_PER_MIN, "incline ramp limit"),
    ] = limits.INCLINE_RAMP_PERCENT_PER_MIN
    stale_telemetry_s: Annotated[
        Number,
        at_most(limits.STALE_TELEMETRY_S, "stale-telemetry default; shorter is stricter"),
        at_least(limits.STALE_TELEMETRY_FLOOR_S, "treadmills send data about once a second"),
    ] = limits.STALE_TELEMETRY_S
