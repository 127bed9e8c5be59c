"""Safety numbers the configuration is checked against, each with its source.

The configuration may only make these *more* conservative (lower speeds and accelerations,
shorter timeouts, longer waits). The one value a person may raise is the user cap, and never
above :data:`ABSOLUTE_CAP_KMH`. Sources: ``retro-walking.md`` (the project's reference table of
studies and defaults) and the issues that set the defaults.
"""

from __future__ import annotations

ABSOLUTE_CAP_KMH = 4.0
"""No configuration, profile or command may exceed this: the highest backward treadmill speed
used in the studies (Cipriani et al. 1995, JOSPT 22(3):95; retro-walking.md "absolute cap")."""

DEFAULT_USER_CAP_KMH = 3.0
"""About half the backward walk→run transition of 5.9 km/h (Hreljac et al. 2005;
retro-walking.md "profile cap")."""

NO_HANDRAILS_CAP_KMH = 2.0
"""Walking pad without handrails: no support within reach (retro-walking.md)."""

ACCELERATION_LIMIT_KMH_PER_S = 0.1
"""~100x gentler than fall-perturbation training (retro-walking.md "acceleration limit")."""

STALE_TELEMETRY_S = 3.0
"""No treadmill data for "more than a few seconds" ends or pauses the profile
(retro-walking.md "Safety reactions"; default 3 s from the safety issue)."""

STALE_TELEMETRY_FLOOR_S = 1.5
"""Lower bound for the stale-telemetry timeout: many treadmills send Treadmill Data about once
a second (the simulator's default interval is 1 s), so below 1.5 s one late record would stop
the belt (a false alarm, not extra safety)."""

INCLINE_CAP_PERCENT = 10.0
"""Never above 10 % incline (retro-walking.md; NCKU 2000 found 10 % the most stable)."""

MANUAL_NUDGE_KMH_PER_MIN = 0.1
"""At most +0.1 km/h per minute for manual nudges (retro-walking.md)."""

NO_INCREASE_FIRST_S = 180.0
"""No speed increase in the first 3 minutes of a block (retro-walking.md)."""

MAX_BLOCK_MIN = 30.0
"""Longest retro block: 30 min (Chang et al. 2021; retro-walking.md progression "max 30 min")."""

NO_HANDRAILS_MAX_BLOCK_MIN = 10.0
"""Walking pad without handrails: blocks ≤ 10 min (retro-walking.md)."""
