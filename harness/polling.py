"""A deadline-bounded wait on a condition for the cross-process tests.

``await poll(condition, *, within=DEFAULT_WITHIN, what="condition", every=0.02)``: call
``condition()`` until it returns a truthy value (returned) or the deadline fails the test.
``DEFAULT_WITHIN`` (30 s) is the deadline against hangs; never a timing assertion.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

DEFAULT_WITHIN = 30.0
"""Deadline (seconds) against hangs; never a timing assertion."""

T = TypeVar("T")


async def poll(
    condition: Callable[[], T | None],
    *,
    within: float = DEFAULT_WITHIN,
    what: str = "condition",
    every: float = 0.02,
) -> T:
    """Call ``condition`` until it returns something truthy; fail after ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            while True:
                value = condition()
                if value:
                    return value
                await asyncio.sleep(every)  # polling interval of a deadline-bounded wait
    except TimeoutError:
        raise AssertionError(f"{what}: not met within {within} s") from None
