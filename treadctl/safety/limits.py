"""Safety limits for backward walking, in exact wire units (0.01 km/h, 0.1 %, seconds).

Sources are named next to every number. "retro-walking defaults" is the table of defaults this
project adopts, ``docs/references.md#retro-defaults``, built on the studies listed there.
Pure module: standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass

from treadctl.errors import TreadctlError

ABSOLUTE_SPEED_CAP = 400
"""4.0 km/h. docs/references.md#retro-defaults: "absolute cap (no profile or command may exceed)
4.0 km/h", the highest backward treadmill speed in the studies (Cipriani et al. 1995). Nothing
raises it."""

DEFAULT_USER_SPEED_CAP = 300
"""3.0 km/h. docs/references.md#retro-defaults: "profile cap (user-adjustable downwards) 3.0 km/h",
about half the backward walk-to-run transition (Hreljac et al. 2005, 5.9 km/h)."""

HANDRAIL_FREE_SPEED_CAP = 200
"""2.0 km/h. docs/references.md#retro-defaults: "walking pad without handrails: cap 2.0 km/h" (no
support within reach; below the 2.2 km/h faller threshold of Fritz et al. 2013)."""

HANDRAIL_FREE_BLOCK_MAX_S = 600
"""10 min. docs/references.md#retro-defaults: "walking pad without handrails: blocks <= 10 min"."""

ACCELERATION_CENTI_PER_S = 10
"""0.1 km/h per second. docs/references.md#retro-defaults: "acceleration limit 0.1 km/h per second,
in device-increment steps (coarse 0.5 km/h steps => >= 5 s apart)"."""

MIN_WRITE_INTERVAL_S = 1.0
"""At most one ramp write per second. Engineering choice: Treadmill Data is "typically 1 Hz"
(FTMS v1.0 §4.4, docs/references.md#ftms-characteristics) and the control point runs one procedure
at a time (§4.16.3), so finer steps cannot be observed and only load the link."""

NO_INCREASE_AT_BLOCK_START_S = 180
"""3 min. docs/references.md#retro-defaults: "no speed increase in the first 3 minutes of a
block"."""

NUDGE_MAX_CENTI = 10
"""+0.1 km/h. docs/references.md#retro-defaults: "at most +0.1 km/h per minute for manual
nudges"."""

NUDGE_INTERVAL_S = 60.0
"""One minute between upward nudges (same source as NUDGE_MAX_CENTI)."""

INCLINE_CAP = 100
"""10 %. docs/references.md#retro-defaults: incline "never above 10 %" (10 % is the most stable
backward pattern, NCKU IEEE EMBS 2000; Cipriani et al. 1995 used 0-10 %)."""

INCLINE_RAMP_DECI_PER_MIN = 10
"""1.0 % per minute. Engineering choice of this project (the reference gives no incline rate):
the uphill dose is 2-5 % (docs/references.md#retro-defaults), reached over 2-5 minutes, never
together with a speed rise (see SPEED_INCLINE_SEPARATION_S)."""

SPEED_INCLINE_SEPARATION_S = 60.0
"""docs/references.md#retro-defaults: "never raise speed and incline in the same minute"."""

STALE_TELEMETRY_S = 3.0
"""3 s. Issue 5 default for the stale-telemetry timeout; docs/references.md#retro-defaults: "no
treadmill data for more than a few seconds" ends or pauses the profile. Treadmill Data is ~1 Hz
(docs/references.md#ftms-characteristics)."""

START_SPEED = 100
"""1.0 km/h. docs/references.md#retro-defaults: "start speed 1.0 km/h, or the device minimum if
higher"."""

START_MOTION_TIMEOUT_S = 10.0
"""How long to wait for the belt to move after Start. docs/references.md#ftms-devices: a real pad
runs a ~3 s start countdown (Pre-Workout -> Manual Mode) and must not get a speed write before it
moves; 10 s is this project's margin over that."""


STOP_RETRY_INTERVAL_S = 1.0
"""Engineering choice: a failed Stop is retried after 1 s, for as long as the belt reports
motion (a device with a pending procedure refuses writes with ATT 0xFE until it answers, FTMS
§4.16.3) ..."""

STOP_ATTEMPTS = 3
"""... and at most 3 times in all once the belt reports 0 or nothing (the safety key stays the
person's own last resort, EN 957-6)."""


class LimitsError(TreadctlError):
    """A configured limit is outside what the safety rules allow."""

    def __init__(self, name: str, value: int | float, allowed: str) -> None:
        self.name = name
        self.value = value
        self.allowed = allowed
        super().__init__(f"limit {name}={value} is not allowed: must be {allowed}")


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits in force for one treadmill and person.

    ``user_speed_cap`` may only be lowered below the defaults; ``handrails=False`` marks a
    treadmill without rails (walking pad) and brings in the 2.0 km/h cap and 10 min blocks.
    The other fields exist so that a person's settings can be *gentler*; none can be made
    looser than the constants above.
    """

    user_speed_cap: int = DEFAULT_USER_SPEED_CAP
    handrails: bool = True
    acceleration_centi_per_s: int = ACCELERATION_CENTI_PER_S
    incline_cap: int = INCLINE_CAP
    incline_ramp_deci_per_min: int = INCLINE_RAMP_DECI_PER_MIN
    stale_telemetry_s: float = STALE_TELEMETRY_S

    def __post_init__(self) -> None:
        _check("user_speed_cap", self.user_speed_cap, 1, DEFAULT_USER_SPEED_CAP)
        _check(
            "acceleration_centi_per_s", self.acceleration_centi_per_s, 1, ACCELERATION_CENTI_PER_S
        )
        _check("incline_cap", self.incline_cap, 0, INCLINE_CAP)
        _check(
            "incline_ramp_deci_per_min",
            self.incline_ramp_deci_per_min,
            1,
            INCLINE_RAMP_DECI_PER_MIN,
        )
        if not 0 < self.stale_telemetry_s <= STALE_TELEMETRY_S:
            raise LimitsError(
                "stale_telemetry_s", self.stale_telemetry_s, f"> 0 and <= {STALE_TELEMETRY_S}"
            )

    @property
    def speed_cap(self) -> int:
        """The cap from these limits alone (before a profile's own cap and the device)."""
        cap = min(ABSOLUTE_SPEED_CAP, self.user_speed_cap)
        if not self.handrails:
            cap = min(cap, HANDRAIL_FREE_SPEED_CAP)
        return cap

    @property
    def block_max_s(self) -> int | None:
        """Longest continuous moving block, or None when there is no such limit."""
        return None if self.handrails else HANDRAIL_FREE_BLOCK_MAX_S


def _check(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise LimitsError(name, value, f"an integer in [{low}, {high}]")
