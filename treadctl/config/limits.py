"""The safety numbers the configuration is checked against, in the km/h and percent people
write in the file.

They are derived from :mod:`treadctl.safety.limits` (exact wire units, each with its source), so
the configuration and the governor cannot disagree: whatever ``treadctl config check`` accepts,
``treadctl.safety.limits.Limits`` accepts too. Every setting may only be made *more*
conservative than these defaults.
"""

from __future__ import annotations

from treadctl.safety import limits as safety
from treadctl.units import centi_to_kmh, deci_to_percent

ABSOLUTE_CAP_KMH = centi_to_kmh(safety.ABSOLUTE_SPEED_CAP)
"""4.0 km/h: the highest backward treadmill speed in the studies (Cipriani et al. 1995). No
configuration, profile or command exceeds it."""

DEFAULT_USER_CAP_KMH = centi_to_kmh(safety.DEFAULT_USER_SPEED_CAP)
"""3.0 km/h, about half the backward walk→run transition (Hreljac et al. 2005); user-adjustable
downwards only (docs/references.md#retro-defaults "profile cap")."""

NO_HANDRAILS_CAP_KMH = centi_to_kmh(safety.HANDRAIL_FREE_SPEED_CAP)
"""2.0 km/h for a treadmill without handrails: no support within reach
(docs/references.md#retro-defaults)."""

ACCELERATION_LIMIT_KMH_PER_S = centi_to_kmh(safety.ACCELERATION_CENTI_PER_S)
"""0.1 km/h per second, ~100x gentler than fall-perturbation training
(docs/references.md#retro-defaults)."""

FINEST_SPEED_KMH = centi_to_kmh(1)
"""0.01 km/h: the resolution of FTMS speeds (FTMS v1.0 §4.16.2.3, Set Target Speed: u16 in
0.01 km/h). Speed caps and the acceleration limit below it would round to zero."""

INCLINE_CAP_PERCENT = deci_to_percent(safety.INCLINE_CAP)
"""10 %: never above (docs/references.md#retro-defaults; NCKU 2000 found 10 % the most stable
backward pattern)."""

INCLINE_RAMP_PERCENT_PER_MIN = deci_to_percent(safety.INCLINE_RAMP_DECI_PER_MIN)
"""1.0 % per minute (the safety module's engineering choice; see its comment)."""

FINEST_INCLINE_PERCENT = deci_to_percent(1)
"""0.1 %: the resolution of FTMS inclines (FTMS v1.0 §4.16.2.4, Set Target Inclination: s16 in
0.1 %)."""

STALE_TELEMETRY_S = safety.STALE_TELEMETRY_S
"""3 s without Treadmill Data ends or pauses the profile ("more than a few seconds",
docs/references.md#retro-defaults; issue 5 default)."""

STALE_TELEMETRY_FLOOR_S = 1.5
"""Lower bound for the stale-telemetry timeout: many treadmills send Treadmill Data about once a
second (FTMS "typically 1 Hz"; the simulator's default interval is 1 s), so below 1.5 s one
late record would stop the belt: a false alarm, not extra safety."""
