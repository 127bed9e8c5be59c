"""Small helpers of the fault and abuse suite, on top of ``tests/support``.

``LONG_RUN``: a skip marker for the long runs (decoder fuzz, soak): they run only when
``TREADCTL_LONG_RUNS=1`` is set, which ``scripts/fuzz`` and ``scripts/soak`` do.
"""

from __future__ import annotations

import os

import pytest

LONG_RUN: pytest.MarkDecorator = pytest.mark.skipif(
    os.environ.get("TREADCTL_LONG_RUNS") != "1",
    reason="long run: use scripts/fuzz or scripts/soak (sets TREADCTL_LONG_RUNS=1)",
)
