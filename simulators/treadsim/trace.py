"""The JSON-lines trace (``--trace FILE``): evidence of what a client commanded.

One JSON object per line, appended and flushed at once. Every record has ``t`` (the
simulator process's ``time.monotonic()``, seconds), ``sim`` (simulated seconds) and ``kind``:

- ``start``: the simulator advertises: ``preset``, ``quirks``, ``address``, ``name``.
- ``write``: a control point write: ``hex``, ``op`` (int, -1 for an empty write), ``op_name``,
  then either ``result`` (the FTMS result code answered) or ``att_error`` (0xFD, 0xFE, 0x0D),
  or ``disconnected: true`` (the cold-start quirk dropped the link instead of answering).
- ``belt``: the belt speed changed: ``speed`` and ``target`` (0.01 km/h).
- ``connection``: ``event`` = ``connected`` | ``disconnected``, ``peer``, ``reason``.
- ``console`` / ``fault``: an action of the console or fault API: ``action``, ``done``, ...
"""

from __future__ import annotations

import json
import time
from typing import TextIO

from treadctl.clock import Clock


class Trace:
    """Appends trace records to ``sink`` (nothing when ``sink`` is None)."""

    def __init__(self, sink: TextIO | None, clock: Clock) -> None:
        self._sink = sink
        self._clock = clock

    def record(self, kind: str, **fields: object) -> None:
        if self._sink is None:
            return
        line = {"t": time.monotonic(), "sim": round(self._clock.now(), 6), "kind": kind, **fields}
        self._sink.write(json.dumps(line, separators=(",", ":")) + "\n")
        self._sink.flush()
