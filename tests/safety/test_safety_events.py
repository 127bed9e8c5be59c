"""The table of safety events (treadctl/safety/events.py) is the table in docs/safety.md."""

from __future__ import annotations

import re
from pathlib import Path

from treadctl.observations import EventKind
from treadctl.safety.events import (
    ABORT_ON,
    DEVICE_SAFETY_EVENTS,
    DEVICE_STOPPED,
    DISARMING_EVENTS,
    LATCH_FOR_EVENT,
    PUBLISHED_EVENTS,
    SAFETY_EVENTS,
    LatchReason,
    SessionReaction,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "safety.md"


def _doc_rows() -> dict[str, tuple[bool, bool, SessionReaction]]:
    """Reason -> (our Stop, disarms and published, session reaction) from the Reactions table."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Reactions", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[bool, bool, SessionReaction]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 6 or cells[0] in ("event", "---"):
            continue
        match = re.fullmatch(r"(?:\*\*)?(aborted|paused)(?:\*\*)? `(\w+)`", cells[5])
        assert match is not None, line
        rows[match.group(2)] = (cells[3] == "yes", cells[4] == "yes", SessionReaction(match[1]))
    return rows


def test_the_code_table_is_the_documented_table() -> None:
    documented = _doc_rows()
    assert set(documented) == {reason.value for reason in LatchReason}
    for reason, row in SAFETY_EVENTS.items():
        our_stop, disarms, session = documented[reason.value]
        assert (not row.device_stopped, row.disarms, row.published, row.session) == (
            our_stop,
            disarms,
            disarms,
            session,
        ), reason


def test_every_latch_reason_has_one_row() -> None:
    assert set(SAFETY_EVENTS) == set(LatchReason)
    assert all(reason is row.reason for reason, row in SAFETY_EVENTS.items())


def test_derived_sets() -> None:
    assert set(LATCH_FOR_EVENT) == set(DEVICE_SAFETY_EVENTS) == DISARMING_EVENTS == PUBLISHED_EVENTS
    assert all(LATCH_FOR_EVENT[kind].value == kind.value for kind in LATCH_FOR_EVENT)
    assert EventKind.CONNECTED not in LATCH_FOR_EVENT
    assert EventKind.TARGET_SPEED_CHANGED not in LATCH_FOR_EVENT
    assert {
        LatchReason.SAFETY_KEY,
        LatchReason.CONSOLE_STOP,
        LatchReason.CONSOLE_PAUSE,
    } == DEVICE_STOPPED
    assert LatchReason.EMERGENCY_STOP in ABORT_ON
    assert LatchReason.CONTROL_LOST not in ABORT_ON
