"""Short profiles for daemon tests (they pass the same safety checks as every profile)."""

from __future__ import annotations

QUICK_BACK = """\
name: quick-back
description: One short backward block (tests).
audience: tests
level: beginner
needs_handrails: true
cap_kmh: 1.2
segments:
  - kind: backward
    name: block
    duration: 1 min
    speed_kmh: 1.0
    cue: Small steps.
"""

LONG_BACK = """\
name: long-back
description: One long backward block (tests that stop the session before its end).
audience: tests
level: beginner
needs_handrails: true
cap_kmh: 1.2
segments:
  - kind: backward
    name: block
    duration: 20 min
    speed_kmh: 1.0
    cue: Small steps.
"""

TEST_PROFILES = {"quick-back": QUICK_BACK, "long-back": LONG_BACK}

FAST_BACK = """\
name: fast-back
description: One long backward block at 1.5 km/h (caps differ per treadmill).
audience: tests
level: beginner
needs_handrails: true
cap_kmh: 1.5
segments:
  - kind: backward
    name: block
    duration: 10 min
    speed_kmh: 1.5
    cue: Small steps.
"""

TEST_PROFILES["fast-back"] = FAST_BACK
