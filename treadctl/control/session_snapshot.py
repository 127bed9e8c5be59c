"""What a session shows: its snapshot, and the stream of snapshots as they change.

:class:`treadctl.control.session.SessionRunner` builds its :class:`SessionSnapshot` here from its
own values and the governed treadmill's state, and hands each subscriber a stream that wakes on
the runner's changes (one :class:`asyncio.Event` per subscriber, set by the runner).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from treadctl.control.session_states import TERMINAL, SessionSnapshot, SessionState, differs
from treadctl.safety.state import GovernorState
from treadctl.workout.engine import Position, Timeline
from treadctl.workout.models import Profile


def build_snapshot(
    *,
    at: float,
    state: SessionState,
    reason: str | None,
    rest_over: bool,
    profile: Profile | None,
    timeline: Timeline | None,
    pos: Position | None,
    active_s: float,
    gs: GovernorState,
) -> SessionSnapshot:
    """The session's snapshot (``rest_over``: paused after a standing rest, waiting for a
    person's resume)."""
    planned = pos.planned if pos is not None else None
    seg = planned.segment if planned is not None else None
    cue = seg.cue if seg is not None else ""
    if rest_over:
        cue = "Rest over. Press resume when you are ready."
    return SessionSnapshot(
        at=at,
        state=state,
        reason=reason,
        profile=profile.name if profile else None,
        segment_index=planned.index if planned else None,
        segment_count=len(timeline.segments) if timeline else 0,
        segment_name=seg.label if seg else None,
        segment_kind=seg.kind.value if seg else None,
        facing=planned.facing.value if planned and planned.facing else None,
        cue=cue,
        target_speed=gs.target_speed,
        reported_speed=gs.belt_speed,
        target_incline=gs.target_incline,
        reported_incline=gs.belt_incline,
        elapsed_s=active_s,
        segment_remaining_s=pos.segment_remaining_s if pos else None,
        remaining_s=pos.remaining_s if pos else None,
        speed_cap=gs.speed_cap,
        incline_cap=gs.incline_cap,
        latch=gs.latch.value if gs.latch else None,
        belt_phase=gs.phase.value,
    )


async def snapshot_stream(
    snapshot: Callable[[], SessionSnapshot], subscribers: list[asyncio.Event]
) -> AsyncIterator[SessionSnapshot]:
    """Snapshots as they change, ending after the finished/aborted one. The stream's event is
    in ``subscribers`` (whose owner sets every event on a change) while it runs."""
    event = asyncio.Event()
    subscribers.append(event)
    try:
        last: SessionSnapshot | None = None
        while True:
            event.clear()
            snap = snapshot()
            if last is None or differs(snap, last):
                yield snap
                last = snap
            if snap.state in TERMINAL:
                return
            await event.wait()
    finally:
        with contextlib.suppress(ValueError):
            subscribers.remove(event)
