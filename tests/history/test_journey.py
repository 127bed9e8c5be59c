"""The journey on a real store (SQLite file and PostgreSQL server): start_next's plan, ratings,
decisions stored with their stage changes, the Home Assistant summary."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from tests.history.factories import T0, rating, session
from treadctl.history import journey
from treadctl.history.program import Program, Stage
from treadctl.history.store import HistoryStore, RatingRefusedError

PROGRAM = Program(
    name="p",
    description="three stages",
    stages=[Stage(profile="a"), Stage(profile="b", name="middle"), Stage(profile="c")],
)


def run(store: HistoryStore, sid: str, stage: int, start_days: float, **changes: object) -> None:
    start = T0 + timedelta(days=start_days)
    store.begin_session(
        session(
            sid,
            program="p",
            stage=stage,
            started_at=start,
            ended_at=start + timedelta(minutes=20),
            **changes,
        )
    )


def test_a_journey_up_and_back(store: HistoryStore) -> None:
    plan = journey.plan_next(store, "ann", PROGRAM, T0, UTC)
    assert (plan.profile, plan.owner.stage, plan.warnings) == ("a", 1, ())
    run(store, "s1", 1, 0.01)
    run(store, "s2", 1, 2)
    first = journey.rate(
        store, {"p": PROGRAM}, person="ann", session_id="s1", rating=rating(1), now=T0
    )
    assert first.decision is not None
    assert first.decision.action.value == "repeat"
    second = journey.rate(
        store,
        {"p": PROGRAM},
        person="ann",
        session_id=None,
        rating=rating(3),
        now=T0 + timedelta(days=2, hours=1),
    )
    assert second.session.id == "s2"
    assert second.decision is not None
    assert (second.decision.action.value, second.decision.to_stage) == ("advance", 2)

    later = T0 + timedelta(days=3)
    plan = journey.plan_next(store, "ann", PROGRAM, later, UTC)
    assert (plan.profile, plan.owner.stage, plan.stage_name) == ("b", 2, "middle")
    assert len(plan.warnings) == 1  # 24 h after s2: warned, not refused
    run(store, "s3", 2, 3.01, end_reason="aborted", abort_reason="safety_key")
    decision = journey.session_ended(store, PROGRAM, store.session("s3"), later)
    assert decision is not None
    assert (decision.action.value, decision.to_stage) == ("step_back", 1)
    assert "safety_key" in decision.reason
    # Rated afterwards: stored, but the session already decided.
    late = journey.rate(
        store, {"p": PROGRAM}, person="ann", session_id="s3", rating=rating(2), now=later
    )
    assert late.decision is None
    assert [c.to_stage for c in store.stage_changes("ann")] == [1, 2, 1]

    summary = journey.summary(store, "ann", PROGRAM, later, UTC)
    assert (summary.stage, summary.stage_count, summary.sessions_this_week) == (1, 3, 3)
    assert summary.backward_min_this_week == 30.0
    assert summary.last_session_id == "s3"
    assert summary.next_due == T0 + timedelta(days=5.01)


def test_ratings_of_others_are_refused(store: HistoryStore) -> None:
    run(store, "s1", 1, 0)
    with pytest.raises(RatingRefusedError, match="belongs to 'ann'"):
        journey.rate(store, {"p": PROGRAM}, person="bob", session_id="s1", rating=rating(), now=T0)
    with pytest.raises(RatingRefusedError, match="no ended session"):
        journey.rate(store, {"p": PROGRAM}, person="bob", session_id=None, rating=rating(), now=T0)
    assert store.session("s1").rating is None
