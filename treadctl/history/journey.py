"""A person's journey through a program, on a store: the next session, ratings and the
decisions they lead to, and the summary Home Assistant shows (docs/journey.md).

Synchronous functions over a :class:`HistoryStore` (the daemon runs them in its writer
thread; the command line calls them directly). The rule itself is the pure
:func:`treadctl.history.progression.decide`; here is only what feeds it and stores its result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from treadctl.history.program import Program
from treadctl.history.progression import Decision, decide, frequency_warnings, next_due
from treadctl.history.recorder import PlannedStart, SessionOwner
from treadctl.history.records import Rating, SessionRecord
from treadctl.history.store_api import RatingRefusedError, StageChange

if TYPE_CHECKING:
    from treadctl.history.store import HistoryStore


@dataclass(frozen=True, slots=True)
class RatingOutcome:
    session: SessionRecord
    decision: Decision | None
    """None when the session is not a program session at the person's current stage, or its
    stage was already decided (a safety stop decides at once)."""


def current_stage(store: HistoryStore, person: str, program: Program, now: datetime) -> int:
    """The person's stage; a person new to the program starts at stage 1 (stored)."""
    found = store.stage(person, program.name)
    if found is not None:
        return min(found[0], len(program.stages))
    store.apply(
        StageChange(person, program.name, None, 1, "start", "starts the program", None, now)
    )
    return 1


def plan_next(
    store: HistoryStore, person: str, program: Program, now: datetime, local: tzinfo
) -> PlannedStart:
    """What ``start_next`` starts for ``person``, with the frequency advice."""
    stage = current_stage(store, person, program, now)
    last = store.sessions(person_id=person, limit=1)
    warnings = frequency_warnings(last[0].started_at if last else None, now, local, program.rule)
    return PlannedStart(
        profile=program.stage_profile(stage),
        owner=SessionOwner(person, program.name, stage),
        stage_name=program.stage_name(stage),
        warnings=tuple(warnings),
    )


def judge(
    store: HistoryStore, program: Program, session: SessionRecord, now: datetime
) -> Decision | None:
    """Decide the person's stage after ``session`` and store the decision (and any change)."""
    if session.program != program.name or session.stage is None or session.ended_at is None:
        return None
    if store.decision_of(session.id) is not None:
        return None
    found = store.stage(session.person_id, program.name)
    if found is None or found[0] != session.stage:
        return None  # the stage changed since this session started: it no longer decides
    stage, since = found
    at_stage = [
        s
        for s in reversed(store.sessions(person_id=session.person_id, since=since))
        if s.program == program.name
        and s.stage == stage
        and s.ended_at is not None
        and s.started_at <= session.started_at
    ]
    if not at_stage or at_stage[-1].id != session.id:
        return None
    decision = decide(stage, len(program.stages), at_stage, program.rule)
    store.apply(
        StageChange(
            session.person_id,
            program.name,
            decision.from_stage,
            decision.to_stage,
            decision.action.value,
            decision.reason,
            session.id,
            now,
        ),
        decision,
    )
    return decision


def session_ended(
    store: HistoryStore, program: Program | None, session: SessionRecord, now: datetime
) -> Decision | None:
    """At a session's end: a safety stop steps back at once (a rating may never come)."""
    if program is None or not session.safety_abort:
        return None
    return judge(store, program, session, now)


def rate(
    store: HistoryStore,
    programs: dict[str, Program],
    *,
    person: str,
    session_id: str | None,
    rating: Rating,
    now: datetime,
) -> RatingOutcome:
    """Store ``person``'s rating of ``session_id`` (None: their last ended session) and decide."""
    if session_id is None:
        ended = [s for s in store.sessions(person_id=person, limit=5) if s.ended_at is not None]
        if not ended:
            raise RatingRefusedError(f"{person!r} has no ended session to rate", where=store.where)
        session_id = ended[0].id
    record = store.rate(session_id, person, rating)
    program = programs.get(record.program) if record.program else None
    decision = judge(store, program, record, now) if program is not None else None
    return RatingOutcome(record, decision)


@dataclass(frozen=True, slots=True)
class JourneySummary:
    """What Home Assistant shows for a person (docs/home-assistant.md)."""

    person: str
    program: str
    stage: int
    stage_name: str
    stage_count: int
    sessions_this_week: int
    backward_min_this_week: float
    last_session: str | None
    last_session_id: str | None
    last_rated: bool
    next_due: datetime


def week_start(now: datetime, local: tzinfo) -> datetime:
    """Monday 00:00 local time of ``now``'s week."""
    here = now.astimezone(local)
    return (here - timedelta(days=here.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )


def describe(session: SessionRecord) -> str:
    """One line: ``2026-03-02 09:00 retro-progress-week1: finished, 10.0 min backward, rated
    pain 2 easy``."""
    text = f"{session.started_at:%Y-%m-%d %H:%M} {session.profile}: "
    text += session.end_reason or "running"
    if session.abort_reason:
        text += f" ({session.abort_reason})"
    text += f", {session.backward_s / 60:.1f} min backward"
    if session.rating is not None:
        r = session.rating
        text += f", rated pain {r.pain} {r.difficulty.value}"
        if r.near_fall:
            text += " near-fall"
    else:
        text += ", not rated"
    return text


def summary(
    store: HistoryStore, person: str, program: Program, now: datetime, local: tzinfo
) -> JourneySummary:
    found = store.stage(person, program.name)
    stage = min(found[0], len(program.stages)) if found else 1
    week = store.sessions(person_id=person, since=week_start(now, local))
    last = store.sessions(person_id=person, limit=1)
    return JourneySummary(
        person=person,
        program=program.name,
        stage=stage,
        stage_name=program.stage_name(stage),
        stage_count=len(program.stages),
        sessions_this_week=len(week),
        backward_min_this_week=round(sum(s.backward_s for s in week) / 60, 1),
        last_session=describe(last[0]) if last else None,
        last_session_id=last[0].id if last else None,
        last_rated=bool(last and last[0].rating is not None),
        next_due=next_due(last[0].started_at if last else None, now, program.rule),
    )
