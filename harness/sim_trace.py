"""What a simulator process recorded in its trace, for the cross-process tests.

Trace helpers: ``writes(sim, op=None) -> list[dict]`` (control point writes in the trace),
``is_write(record, op)``, ``belt(sim) -> list[dict]``, ``await wait_trace(sim, predicate,
within=30.0) -> dict``. ``OP_REQUEST_CONTROL``, ``OP_SET_SPEED``, ``OP_START``, ``OP_STOP``
(FTMS v1.0 Table 4.15: 0x00, 0x02, 0x07, 0x08; Stop/Pause share 0x08 with a parameter
``01`` stop / ``02`` pause, §4.16.2.9).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from harness.polling import DEFAULT_WITHIN, poll
from harness.simulator import SimProcess

OP_REQUEST_CONTROL = 0x00
OP_SET_SPEED = 0x02
OP_START = 0x07
OP_STOP = 0x08
"""FTMS v1.0 Table 4.15 op codes (Stop or Pause is 0x08 with parameter 01 = stop, 02 = pause)."""


def writes(sim: SimProcess, op: int | None = None) -> list[dict[str, Any]]:
    """Control point writes the simulator received (optionally of one op code)."""
    return [r for r in sim.trace_records("write") if op is None or r.get("op") == op]


def is_write(record: Mapping[str, Any], op: int) -> bool:
    return record.get("kind") == "write" and record.get("op") == op


def belt(sim: SimProcess) -> list[dict[str, Any]]:
    """Belt speed changes (``speed``, ``target`` in 0.01 km/h)."""
    records: list[dict[str, Any]] = sim.trace_records("belt")
    return records


async def wait_trace(
    sim: SimProcess,
    predicate: Callable[[dict[str, Any]], bool],
    *,
    within: float = DEFAULT_WITHIN,
) -> dict[str, Any]:
    """The first trace record matching ``predicate`` (waits for it)."""

    def find() -> dict[str, Any] | None:
        return next((r for r in sim.trace_records() if predicate(r)), None)

    return await poll(find, within=within, what="trace record")
