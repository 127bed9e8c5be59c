"""Home Assistant test harness settings for the treadctl tier."""

from __future__ import annotations

import pytest


@pytest.fixture
def expected_lingering_timers() -> bool:
    """The MQTT integration's periodic housekeeping timer outlives each test in Home
    Assistant's mocked-client harness; it is not ours to cancel."""
    return True
