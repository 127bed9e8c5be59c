"""What a console or fault action of the simulator did (shared by the treadmill and the strap)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What a console or fault action did (``done`` False: refused, see ``reason``)."""

    action: str
    done: bool
    reason: str = ""
