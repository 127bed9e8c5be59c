"""Reconnect delay (pure): exponential, capped, with jitter supplied by the caller."""

from __future__ import annotations

import math


def backoff_delay(
    attempt: int,
    *,
    initial_s: float = 0.5,
    maximum_s: float = 30.0,
    factor: float = 2.0,
    jitter: float = 0.0,
) -> float:
    """Seconds to wait before connection attempt number ``attempt + 1`` (``attempt`` >= 0).

    ``initial_s * factor**attempt``, capped at ``maximum_s``, then scaled into
    ``[delay / 2, delay]`` by ``jitter`` in ``[0, 1]`` (pass ``random.random()``; 0 gives the
    plain exponential value) so that many bridges restarted together do not reconnect in step.
    """
    if attempt < 0:
        raise ValueError("attempt must be >= 0")
    if not (0 < initial_s <= maximum_s and factor >= 1 and math.isfinite(maximum_s)):
        raise ValueError("need 0 < initial_s <= maximum_s < inf and factor >= 1")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError("jitter must be within [0, 1]")
    # Cap the exponent first so that a long outage cannot overflow the float.
    exponent = min(attempt, 64)
    delay = min(maximum_s, initial_s * factor**exponent)
    return delay * (1.0 - jitter / 2.0)
