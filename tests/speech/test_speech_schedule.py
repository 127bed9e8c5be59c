"""The pure cue scheduler: what is said for each session change, in which order, and the queue's
rules (priority, pre-emption by safety cues, supersession, staleness, bound)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from treadctl.control import session
from treadctl.control.session_states import SessionSnapshot, SessionState
from treadctl.speech import phrases, schedule
from treadctl.speech.schedule import (
    MAX_AGE_S,
    CueQueue,
    CueScheduler,
    Kind,
    Utterance,
)
from treadctl.workout.models import Profile, SegmentKind
from treadctl.workout.summary import SessionSummary

PROFILE = Profile.model_validate(
    {
        "name": "spoken",
        "description": "d",
        "audience": "a",
        "level": "beginner",
        "needs_handrails": True,
        "cap_kmh": 1.5,
        "segments": [
            {"kind": "warmup", "duration": "2 min", "speed_kmh": 1.5, "cue": "Walk forward."},
            {"kind": "rest", "duration": "1 min", "cue": "Belt stopped. Turn around."},
            {
                "kind": "backward",
                "duration": "5 min",
                "speed_kmh": 1.0,
                "cue": "Look straight ahead, small steps, hands on the rails.",
                "say": "Look ahead, small steps.",
            },
            {"kind": "cooldown", "duration": "2 min", "speed_kmh": 1.2},
        ],
    }
)

BASE = SessionSnapshot(
    at=0.0,
    state=SessionState.IDLE,
    reason=None,
    profile=None,
    segment_index=None,
    segment_count=0,
    segment_name=None,
    segment_kind=None,
    facing=None,
    cue="",
    target_speed=None,
    reported_speed=None,
    target_incline=None,
    reported_incline=None,
    elapsed_s=0.0,
    segment_remaining_s=None,
    remaining_s=None,
    speed_cap=150,
    incline_cap=0,
    latch=None,
    belt_phase="stopped",
)


def snap(state: SessionState, **changes: object) -> SessionSnapshot:
    fields: dict[str, object] = {"state": state, "profile": "spoken", "segment_count": 4}
    fields.update(changes)
    return dataclasses.replace(BASE, **fields)  # type: ignore[arg-type]


def said(scheduler: CueScheduler, *snaps: SessionSnapshot, **kw: object) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for n, s in enumerate(snaps):
        out += [
            (u.kind.value, u.text)
            for u in scheduler.snapshot(s, float(n), profile=PROFILE, **kw)  # type: ignore[arg-type]
        ]
    return out


SUMMARY = SessionSummary(
    profile="spoken",
    ended="finished",
    reason=None,
    duration_s=700.0,
    active_s=600.0,
    distance_m=190,
    average_speed=120,
    max_speed=150,
    steps=None,
)


def test_a_whole_session_says_countdown_segments_speeds_rest_over_and_summary() -> None:
    run = SessionState.RUNNING
    sched = CueScheduler("tm1")
    got = said(
        sched,
        snap(SessionState.ARMING),
        snap(SessionState.STARTING, segment_index=0, target_speed=150),
        snap(run, segment_index=0, target_speed=150, cue="Walk forward."),
        snap(run, segment_index=0, target_speed=150, reported_speed=80),  # ramping: nothing
        snap(run, segment_index=0, target_speed=160),  # a nudge
        snap(run, segment_index=1, target_speed=None),  # stopped rest
        snap(SessionState.PAUSED, reason="rest_over", segment_index=2, cue="Rest over. Go."),
        snap(SessionState.STARTING, segment_index=2, target_speed=100),
        snap(run, segment_index=2, target_speed=100),
        snap(run, segment_index=3, target_speed=120),
        snap(SessionState.STOPPING, segment_index=None),
    )
    got += said(sched, snap(SessionState.FINISHED), summary=SUMMARY)
    assert got == [
        ("countdown", "Starting in 3, 2, 1."),
        ("segment", "Walk forward."),
        ("speed", "Speeding up to 1.6."),
        ("segment", "Belt stopped. Turn around."),
        ("rest_over", "Rest over. Go."),
        ("countdown", "Starting in 3, 2, 1."),
        ("segment", "Look ahead, small steps."),  # the say: variant
        ("segment", "Cool-down."),  # no cue: the kind
        ("speed", "Speeding up to 1.2."),
        ("summary", "Session complete: 10 minutes, 190 metres. Well done."),
    ]


def test_pause_and_resume_do_not_repeat_the_segment_cue() -> None:
    run = SessionState.RUNNING
    got = said(
        CueScheduler(),
        snap(SessionState.STARTING, segment_index=0, target_speed=150),
        snap(run, segment_index=0, target_speed=150),
        snap(SessionState.PAUSED, reason="paused_by_user", segment_index=0),
        snap(SessionState.STARTING, segment_index=0, target_speed=150),
        snap(run, segment_index=0, target_speed=150),
    )
    assert [k for k, _ in got] == ["countdown", "segment", "paused", "countdown"]


@pytest.mark.parametrize(
    ("state", "reason", "text"),
    [
        (SessionState.ABORTED, "safety_key", "Stopped: safety key."),
        (SessionState.ABORTED, "console_stop", "Stopped at the console."),
        (SessionState.ABORTED, "emergency_stop", "Emergency stop."),
        (SessionState.ABORTED, "overspeed", "Stopped: belt too fast."),
        (SessionState.PAUSED, "control_lost", "Paused: the console took control."),
        (SessionState.PAUSED, "disconnected", "Paused: treadmill disconnected."),
        (SessionState.PAUSED, "stale_telemetry", "Paused: no data from the treadmill."),
        (SessionState.ABORTED, "refused: 3 km/h over cap", "Stopped: segment refused."),
        (SessionState.PAUSED, "some_new_reason", "Safety stop: some new reason."),
    ],
)
def test_every_safety_reaction_is_said_first(state: SessionState, reason: str, text: str) -> None:
    sched = CueScheduler()
    said(sched, snap(SessionState.RUNNING, segment_index=0, target_speed=150))
    out = sched.snapshot(snap(state, reason=reason), 5.0, summary=SUMMARY)
    assert out[0].kind == Kind.SAFETY
    assert out[0].text == text
    if state == SessionState.ABORTED:
        assert [u.kind for u in out] == [Kind.SAFETY, Kind.SUMMARY]


def test_a_safety_reaction_reported_twice_is_said_once() -> None:
    sched = CueScheduler()
    said(sched, snap(SessionState.RUNNING, segment_index=0, target_speed=150))
    assert [u.text for u in sched.safety("safety_key", 10.0)] == ["Stopped: safety key."]
    out = sched.snapshot(snap(SessionState.ABORTED, reason="safety_key"), 10.1)
    assert [u.kind for u in out] == [Kind.SUMMARY]
    # Much later (another stop of the same kind): said again.
    assert sched.safety("safety_key", 30.0)


def test_all_safety_phrases_take_at_most_four_seconds_to_say() -> None:
    for text in phrases.SAFETY_PHRASES.values():
        assert phrases.estimate_seconds(text) <= 4.0, text


def test_the_scheduler_speaks_the_session_runners_vocabulary() -> None:
    """schedule.py keeps the runner's state names and reasons as strings (to stay pure)."""
    assert {s.value for s in SessionState} >= {
        schedule.STARTING,
        schedule.RUNNING,
        schedule.PAUSED,
        schedule.FINISHED,
        schedule.ABORTED,
        schedule.IDLE,
    }
    assert (schedule.REST_OVER, schedule.PAUSED_BY_USER, schedule.STOPPED_BY_USER) == (
        session.REST_OVER,
        session.PAUSED_BY_USER,
        session.STOPPED_BY_USER,
    )
    assert set(phrases.KIND_WORDS) == {k.value for k in SegmentKind}


# --------------------------------------------------------------------- the queue


def u(kind: Kind, at: float = 0.0, text: str = "x", device: str | None = "tm1") -> Utterance:
    return Utterance(text, kind, at, device)


def test_safety_goes_first_then_countdown_then_cues_in_arrival_order() -> None:
    q = CueQueue()
    a, b, c, d = u(Kind.REST_OVER), u(Kind.SAFETY), u(Kind.COUNTDOWN), u(Kind.SUMMARY)
    for item in (a, b, c, d):
        q.push(item)
    assert q.pending() == (b, c, a, d)
    assert [q.pop(1.0)[0] for _ in range(5)] == [b, c, a, d, None]


def test_a_safety_cue_preempts_a_cue_being_spoken_but_not_another_safety_cue() -> None:
    q = CueQueue()
    assert q.push(u(Kind.SAFETY), speaking=u(Kind.SEGMENT)).preempt
    assert q.push(u(Kind.SAFETY), speaking=u(Kind.COUNTDOWN)).preempt
    assert not q.push(u(Kind.SAFETY), speaking=u(Kind.SAFETY)).preempt
    assert not q.push(u(Kind.SAFETY), speaking=None).preempt
    assert not q.push(u(Kind.COUNTDOWN), speaking=u(Kind.SEGMENT)).preempt


def test_a_safety_cue_drops_waiting_cues_it_makes_untrue() -> None:
    q = CueQueue()
    countdown, speed, rest_over = u(Kind.COUNTDOWN), u(Kind.SPEED), u(Kind.REST_OVER)
    for item in (countdown, speed, rest_over):
        q.push(item)
    stop = u(Kind.SAFETY)
    pushed = q.push(stop)
    assert {(d.utterance.kind, d.reason) for d in pushed.dropped} == {
        (Kind.COUNTDOWN, "after_safety"),
        (Kind.SPEED, "after_safety"),
    }
    assert q.pending() == (stop, rest_over)


def test_a_heart_rate_hold_goes_first_but_keeps_the_waiting_cues() -> None:
    q = CueQueue()
    segment, speed = u(Kind.SEGMENT), u(Kind.SPEED)
    q.push(segment)
    q.push(speed)
    hold = Utterance("Heart rate high, holding speed.", Kind.SAFETY, 0.0, "tm1", "heart_rate_hold")
    pushed = q.push(hold, speaking=u(Kind.REST_OVER))
    assert pushed.preempt
    assert pushed.dropped == ()
    assert q.pending() == (hold, segment, speed)


def test_a_newer_cue_of_the_same_sort_replaces_the_waiting_one() -> None:
    q = CueQueue()
    first, other_device = u(Kind.SPEED, text="1.1"), u(Kind.SPEED, device="tm2")
    q.push(first)
    q.push(other_device)
    newer = u(Kind.SPEED, text="1.2")
    assert [d.utterance for d in q.push(newer).dropped] == [first]
    assert q.pending() == (other_device, newer)


def test_stale_cues_are_dropped_when_their_turn_comes() -> None:
    q = CueQueue()
    countdown, cue = u(Kind.COUNTDOWN, at=0.0), u(Kind.SEGMENT, at=0.0)
    q.push(countdown)
    q.push(cue)
    got, dropped = q.pop(MAX_AGE_S[Kind.COUNTDOWN] + 0.5)
    assert got is cue
    assert [(d.utterance, d.reason) for d in dropped] == [(countdown, "stale")]


def test_a_full_queue_drops_the_oldest_least_urgent_cue_never_a_safety_one() -> None:
    q = CueQueue(capacity=3)
    old, new = u(Kind.SUMMARY), u(Kind.REST_OVER)
    q.push(old)
    q.push(new)
    q.push(u(Kind.SAFETY))
    pushed = q.push(u(Kind.SAFETY))
    assert [(d.utterance, d.reason) for d in pushed.dropped] == [(old, "full")]
    q.push(u(Kind.SAFETY))
    late = u(Kind.PAUSED)
    pushed = q.push(late)
    assert not pushed.queued
    assert [d.utterance for d in pushed.dropped] == [late]
    assert all(x.kind == Kind.SAFETY for x in q.pending())


kinds = st.sampled_from(list(Kind))
ops = st.lists(
    st.one_of(
        st.tuples(st.just("push"), kinds, st.sampled_from(["tm1", "tm2"])),
        st.tuples(st.just("pop"), st.floats(0, 5), st.none()),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(ops, st.integers(1, 6))
def test_queue_rules_hold_for_any_sequence(
    sequence: list[tuple[str, object, object]], capacity: int
) -> None:
    """Bounded; every cue is said or reported dropped exactly once; what is said next is the
    most urgent, earliest cue still fresh; a safety cue is never dropped while a non-safety one
    waits; time only moves forward."""
    q = CueQueue(capacity)
    now = 0.0
    pushed: list[Utterance] = []
    outcome: dict[int, str] = {}
    for op, a, b in sequence:
        if op == "push":
            assert isinstance(a, Kind)
            item = Utterance("x", a, now, str(b))
            pushed.append(item)
            before = q.pending()
            result = q.push(item)
            for d in result.dropped:
                assert d.utterance.seq not in outcome
                outcome[d.utterance.seq] = d.reason
                if d.reason == "full" and d.utterance.kind == Kind.SAFETY:
                    assert all(x.kind == Kind.SAFETY for x in (*before, item))
        else:
            assert isinstance(a, float)
            now += a
            fresh = [x for x in q.pending() if x.expires_at >= now]
            got, dropped = q.pop(now)
            for d in dropped:
                assert d.reason == "stale"
                outcome[d.utterance.seq] = d.reason
            if fresh:
                assert got == min(fresh, key=lambda x: (x.priority, x.seq))
                assert got is not None
                outcome[got.seq] = "said"
            else:
                assert got is None
        assert len(q) <= capacity
    waiting = {x.seq for x in q.pending()}
    assert waiting.isdisjoint(outcome)
    assert {x.seq for x in pushed} == waiting | set(outcome)
