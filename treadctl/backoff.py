"""Reconnect and retry delays (pure): exponential, capped, with jitter supplied by the caller.

One function for every retry loop: the BLE reconnect supervisor, the link's Request Control
retries after a refusal, and the MQTT reconnect loop. Counting is the same everywhere:
``failures`` is the number of consecutive failures so far, so the first retry waits
``initial_s`` and no failure means no wait.
"""

from __future__ import annotations

import math

MAX_EXPONENT = 64
"""The exponent is capped first so that a long outage cannot overflow the float."""


def backoff_delay(
    failures: int,
    *,
    initial_s: float = 0.5,
    maximum_s: float = 30.0,
    factor: float = 2.0,
    jitter: float = 0.0,
) -> float:
    """Seconds to wait after ``failures`` consecutive failures (0: none, no wait).

    ``initial_s * factor**(failures - 1)``, capped at ``maximum_s``, then scaled into
    ``[delay / 2, delay]`` by ``jitter`` in ``[0, 1]`` (pass ``random.random()``; 0 gives the
    plain exponential value) so that many clients restarted together do not reconnect in step.
    Defaults: 0.5 s, 1 s, 2 s, ... 30 s: a treadmill that was switched off is polled at most
    twice a minute, and a dropped link can come back within a second.
    """
    if failures < 0:
        raise ValueError(f"failures must be >= 0, got {failures}")
    if not (0 < initial_s <= maximum_s and factor >= 1 and math.isfinite(maximum_s)):
        raise ValueError("need 0 < initial_s <= maximum_s < inf and factor >= 1")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError("jitter must be within [0, 1]")
    if failures == 0:
        return 0.0
    exponent = min(failures - 1, MAX_EXPONENT)
    delay = min(maximum_s, initial_s * factor**exponent)
    return delay * (1.0 - jitter / 2.0)
