"""The one backoff function (pure): counted in consecutive failures, exponential, capped."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treadctl.backoff import backoff_delay


def test_no_failure_no_wait_then_doubling_to_the_cap() -> None:
    delays = [backoff_delay(n) for n in range(12)]
    assert delays[:5] == [0.0, 0.5, 1.0, 2.0, 4.0]
    assert delays == sorted(delays)
    assert max(delays) == 30.0


def test_initial_and_maximum() -> None:
    delays = [backoff_delay(n, initial_s=0.5, maximum_s=4.0) for n in range(1, 7)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


@given(failures=st.integers(1, 10_000), jitter=st.floats(0, 1))
def test_jitter_stays_within_half_and_full_delay(failures: int, jitter: float) -> None:
    full = backoff_delay(failures, initial_s=0.5, maximum_s=30.0)
    got = backoff_delay(failures, initial_s=0.5, maximum_s=30.0, jitter=jitter)
    assert full / 2 <= got <= full <= 30.0


def test_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="failures"):
        backoff_delay(-1)
    with pytest.raises(ValueError, match="jitter"):
        backoff_delay(1, jitter=1.5)
    with pytest.raises(ValueError, match="initial_s"):
        backoff_delay(1, initial_s=0.0)
