"""Session runner scenarios on the in-memory port: what the belt was commanded, step by step."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.control.fakes import PAD
from tests.control.rig import Rig
from treadctl.control.profile_fit import ProfileRefusedError
from treadctl.control.session import REST_OVER, STOPPED_BY_USER
from treadctl.control.session_states import SessionState
from treadctl.observations import EventKind
from treadctl.safety.errors import (
    BeltStateError,
    LimitExceededError,
    NudgeRefusedError,
)
from treadctl.safety.events import (
    DEVICE_SAFETY_EVENTS,
    LATCH_FOR_EVENT,
    SAFETY_EVENTS,
    SessionReaction,
)
from treadctl.safety.limits import Limits
from treadctl.workout.loader import bundled_profiles_dir, load_profile, load_profile_text
from treadctl.workout.models import Profile

SHORT = """\
name: short
description: test
audience: tests
level: beginner
needs_handrails: true
cap_kmh: 2.0
segments:
  - kind: backward
    name: first
    duration: 3 min
    speed_kmh: 1.0
    cue: small steps
  - kind: backward
    name: second
    duration: 2 min
    speed_kmh: 1.5
    cue: steady
  - kind: rest
    duration: 1 min
    belt: stopped
    cue: rest
  - kind: backward
    name: third
    duration: 1 min
    speed_kmh: 1.2
    cue: last
"""


@pytest.fixture
def rig() -> Iterator[Rig]:
    r = Rig()
    yield r
    r.close()


def short() -> Profile:
    return load_profile_text(SHORT)


def started(rig: Rig, profile: Profile | None = None) -> Rig:
    rig.runner.arm(profile or short())
    rig.runner.start()
    rig.settle()
    rig.run_for(2)
    assert rig.runner.state == SessionState.RUNNING
    return rig


def test_full_session_with_a_rest_that_waits_for_the_person(rig: Rig) -> None:
    started(rig)
    assert rig.port.sent("start")
    rig.run_for(5 * 60)  # both moving segments of block 1
    assert rig.runner.snapshot().segment_kind == "rest"
    assert rig.port.running is False  # the rest stopped the belt
    rig.run_for(70)
    snap = rig.runner.snapshot()
    assert (snap.state, snap.reason) == (SessionState.PAUSED, REST_OVER)
    assert "resume" in snap.cue
    starts = len(rig.port.sent("start"))
    rig.run_for(120)  # nothing restarts the belt by itself
    assert len(rig.port.sent("start")) == starts
    assert rig.port.belt_speed == 0
    rig.runner.resume()
    rig.settle()
    rig.run_for(65)
    summary = rig.runner.summary
    assert rig.runner.state == SessionState.FINISHED
    assert summary is not None
    assert summary.reason is None
    assert summary.profile == "short"
    assert summary.max_speed == 150
    assert 7 * 60 - 5 <= summary.active_s <= 7 * 60 + 5  # the rest counts, pauses do not
    # about 3 min at 1.0 + 2 min at 1.5 + 1 min at 1.2 km/h = 120 m, average 1.2 km/h
    assert 110 <= summary.distance_m <= 125
    assert 110 <= summary.average_speed <= 125
    assert len(rig.port.sent("start")) == 2  # one per explicit start/resume
    assert all(s.value is not None and s.value <= 150 for s in rig.port.sent("set_speed"))
    assert rig.port.log[-1].kind == "stop"


def test_bundled_beginner_runs_to_the_end_with_three_resumes(rig: Rig) -> None:
    profile = load_profile(bundled_profiles_dir() / "retro-beginner.yaml")
    started(rig, profile)
    resumes = 0
    for _ in range(30 * 60):
        rig.run_for(1)
        if rig.runner.state == SessionState.PAUSED:
            rig.runner.resume()
            resumes += 1
        if rig.runner.state == SessionState.FINISHED:
            break
    assert rig.runner.state == SessionState.FINISHED
    assert resumes == 3
    assert len(rig.port.sent("start")) == 4
    assert max(s.value or 0 for s in rig.port.sent("set_speed")) == 150


def test_profile_below_the_device_minimum_is_refused_at_arm() -> None:
    rig = Rig(info=PAD)
    try:
        with pytest.raises(ProfileRefusedError) as info:
            rig.runner.arm(load_profile(bundled_profiles_dir() / "retro-rehab-slow.yaml"))
        assert "below this treadmill's minimum 1 km/h" in str(info.value)
        assert rig.runner.state == SessionState.IDLE
        assert rig.port.log == []
    finally:
        rig.close()


def test_profile_needing_rails_refused_on_a_rail_less_treadmill() -> None:
    rig = Rig(limits=Limits(handrails=False))
    try:
        with pytest.raises(ProfileRefusedError, match="needs handrails"):
            rig.runner.arm(short())
    finally:
        rig.close()


@pytest.mark.parametrize(
    "kind", [k for k in DEVICE_SAFETY_EVENTS if k != EventKind.DISCONNECTED], ids=str
)
def test_reactions(rig: Rig, kind: EventKind) -> None:
    row = SAFETY_EVENTS[LATCH_FOR_EVENT[kind]]
    aborts = row.session is SessionReaction.ABORT
    state = SessionState.ABORTED if aborts else SessionState.PAUSED
    stop_sent = not row.device_stopped
    started(rig)
    before = len(rig.port.log)
    rig.event(kind)
    assert rig.runner.state == state
    assert rig.runner.snapshot().reason == kind.value
    rig.run_for(60)
    sent = rig.kinds_since(before)
    assert "start" not in sent
    assert "set_speed" not in sent
    assert ("stop" in sent) == stop_sent
    assert rig.port.belt_speed == 0


def test_console_pause_then_explicit_resume_restarts_once_the_belt_is_still(rig: Rig) -> None:
    started(rig)
    rig.event(EventKind.CONSOLE_PAUSE)
    rig.run_for(30)
    assert rig.port.belt_speed == 0
    rig.runner.resume()
    rig.settle()
    rig.run_for(3)
    assert rig.runner.state == SessionState.RUNNING
    assert len(rig.port.sent("start")) == 2


def test_resume_refused_while_the_belt_still_runs_down(rig: Rig) -> None:
    started(rig)
    rig.run_for(20)
    rig.event(EventKind.CONSOLE_PAUSE)
    rig.run_for(1)
    assert rig.port.belt_speed > 0
    with pytest.raises(BeltStateError, match="moving"):
        rig.runner.resume()
    assert len(rig.port.sent("start")) == 1


def test_disconnect_pauses_and_the_belt_is_stopped_not_resumed_after_reconnect(rig: Rig) -> None:
    started(rig)
    rig.run_for(10)
    rig.event(EventKind.DISCONNECTED)
    assert rig.runner.state == SessionState.PAUSED
    assert rig.runner.snapshot().reason == "disconnected"
    rig.run_for(10)
    assert rig.port.belt_speed > 0  # the pad kept going while we were away
    before = len(rig.port.log)
    rig.event(EventKind.CONNECTED)
    rig.reading()
    assert rig.kinds_since(before) == ["request_control", "stop"]
    rig.run_for(30)
    assert "start" not in rig.kinds_since(before)
    assert rig.runner.state == SessionState.PAUSED


def test_stale_telemetry_pauses_and_stops(rig: Rig) -> None:
    started(rig)
    rig.silent = True
    before = len(rig.port.log)
    rig.run_for(5, step=0.5)
    assert rig.runner.state == SessionState.PAUSED
    assert rig.runner.snapshot().reason == "stale_telemetry"
    assert "stop" in rig.kinds_since(before)


def test_lying_device_overspeed_aborts_and_stops(rig: Rig) -> None:
    started(rig)
    before = len(rig.port.log)
    rig.lie = 260  # reports 2.6 km/h; cap is 2.0 + one 0.1 increment
    rig.run_for(1)
    assert rig.runner.state == SessionState.ABORTED
    assert rig.runner.snapshot().reason == "overspeed"
    assert rig.kinds_since(before) == ["stop"]
    summary = rig.runner.summary
    assert summary is not None
    assert summary.reason == "overspeed"


def test_emergency_stop_goes_first_and_aborts(rig: Rig) -> None:
    started(rig)
    rig.run_for(3)
    before = len(rig.port.log)
    rig.runner.emergency_stop()
    rig.settle()
    assert rig.kinds_since(before)[0] == "stop"
    assert rig.runner.state == SessionState.ABORTED
    assert rig.runner.snapshot().reason == "emergency_stop"


def test_nudges(rig: Rig) -> None:
    started(rig)
    with pytest.raises(NudgeRefusedError, match="first 3 minutes"):
        rig.runner.nudge(10)
    rig.run_for(175)
    with pytest.raises(NudgeRefusedError, match="first 3 minutes"):
        rig.runner.nudge(10)
    rig.run_for(10)  # now in the second segment (1.5 km/h), 3 min into the block
    with pytest.raises(NudgeRefusedError, match=r"\+0.1 km/h at a time"):
        rig.runner.nudge(20)
    assert rig.runner.nudge(10) == 160
    with pytest.raises(NudgeRefusedError, match="per minute"):
        rig.runner.nudge(10)
    rig.run_for(60)
    assert rig.runner.nudge(10) == 170
    assert rig.runner.nudge(-50) == 120  # down: any time
    rig.run_for(5)
    assert rig.port.target_speed == 120


def test_nudge_above_the_cap_is_refused_not_clamped(rig: Rig) -> None:
    started(rig, load_profile_text(SHORT.replace("cap_kmh: 2.0", "cap_kmh: 1.5")))
    rig.run_for(3 * 60 + 5)
    with pytest.raises(LimitExceededError) as info:
        rig.runner.nudge(10)  # 1.5 + 0.1 > the profile's 1.5 cap
    assert (info.value.requested, info.value.limit, info.value.limit_name) == (160, 150, "profile")
    rig.run_for(5)
    assert rig.port.target_speed == 150


def test_skip_and_stop(rig: Rig) -> None:
    started(rig)
    rig.runner.skip()
    rig.run_for(20)
    assert rig.runner.snapshot().segment_name == "second"
    assert rig.port.target_speed == 150
    rig.runner.stop()
    rig.run_for(10)
    assert rig.runner.state == SessionState.FINISHED
    assert rig.runner.snapshot().reason == STOPPED_BY_USER
    assert rig.port.belt_speed == 0


def test_user_pause_and_resume_keeps_the_session_clock(rig: Rig) -> None:
    started(rig)
    rig.run_for(30)
    elapsed = rig.runner.snapshot().elapsed_s
    rig.runner.pause()
    rig.settle()
    assert rig.port.log[-1].kind == "pause"
    rig.run_for(100)
    assert rig.runner.snapshot().elapsed_s == pytest.approx(elapsed)
    rig.runner.resume()
    rig.settle()
    rig.run_for(3)
    assert rig.runner.state == SessionState.RUNNING


def test_snapshot_carries_caps_and_cue(rig: Rig) -> None:
    started(rig)
    snap = rig.runner.snapshot()
    assert snap.profile == "short"
    assert snap.speed_cap == 200
    assert snap.incline_cap == 100
    assert snap.cue == "small steps"
    assert snap.facing == "backward"
    assert snap.segment_count == 4
    assert snap.remaining_s is not None


def test_choosing_a_profile_while_a_session_runs_is_refused_in_words_that_fit(rig: Rig) -> None:
    # "Arm" means enabling remote control everywhere else (MQTT `arm`); picking a profile
    # is "select" (issue 12, defect 7).
    started(rig)
    with pytest.raises(BeltStateError) as info:
        rig.runner.arm(short())
    assert str(info.value) == "cannot select a profile while session running"
    assert "arm" not in str(info.value).split()
    assert rig.runner.state == SessionState.RUNNING
