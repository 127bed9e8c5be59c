"""Test-wide settings.

Hypothesis profiles: ``ci`` (default) keeps the run short; ``fuzz`` is the long dedicated run
(``TREADCTL_HYPOTHESIS=fuzz scripts/test -m slow`` or see docs/safety.md).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "fuzz", deadline=None, max_examples=100_000, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("TREADCTL_HYPOTHESIS", "ci"))

collect_ignore = ["ha_side"]
"""Home Assistant's side of tests/ha, run by .venv-ha (Python 3.13), never by this suite."""
