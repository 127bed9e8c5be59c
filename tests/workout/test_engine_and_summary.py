"""The timeline engine and the session summary."""

from __future__ import annotations

import pytest

from treadctl.observations import Reading
from treadctl.workout.engine import Timeline
from treadctl.workout.loader import bundled_profiles_dir, load_profile
from treadctl.workout.models import SegmentKind
from treadctl.workout.summary import SummaryBuilder


def test_timeline_positions_and_blocks() -> None:
    profile = load_profile(bundled_profiles_dir() / "retro-beginner.yaml")
    tl = Timeline(profile)
    assert tl.total_s == profile.duration_s == 20 * 60
    first = tl.at(0)
    assert first is not None
    assert first.planned.kind == SegmentKind.WARMUP
    assert first.planned.speed == 150
    assert first.block_elapsed_s is None
    # 3 min warm-up + 1 min rest: the backward block starts at 240 s
    pos = tl.at(240 + 200)
    assert pos is not None
    assert pos.planned.index == 3  # second part of block 1
    assert pos.planned.block_start_s == 240
    assert pos.block_elapsed_s == 200
    assert pos.segment_elapsed_s == 20
    assert pos.segment_remaining_s == 100
    assert pos.remaining_s == tl.total_s - 440
    rest = tl.at(4 * 60 + 5 * 60 + 1)
    assert rest is not None
    assert rest.planned.belt_stopped
    assert tl.at(tl.total_s) is None
    assert tl.start_of(2) == 240
    assert tl.start_of(99) == tl.total_s


def test_summary_uses_device_distance_and_steps() -> None:
    b = SummaryBuilder()
    b.add(Reading(at=0, speed=100, distance_m=50, steps=1000))
    b.add(Reading(at=60, speed=150, distance_m=70, steps=1090))
    b.add(Reading(at=120, speed=120, distance_m=90, steps=1180))
    s = b.build(profile="p", ended="finished", reason=None, duration_s=130, active_s=120)
    assert (s.distance_m, s.steps, s.max_speed) == (40, 180, 150)
    assert s.average_speed == 120  # 40 m in 120 s = 1.2 km/h


def test_summary_integrates_speed_without_a_distance_field() -> None:
    b = SummaryBuilder()
    for t in range(361):
        b.add(Reading(at=float(t), speed=100))  # 1.0 km/h for 6 min = 100 m
    s = b.build(profile=None, ended="aborted", reason="safety_key", duration_s=360, active_s=360)
    assert s.distance_m == pytest.approx(100, abs=1)
    assert s.steps is None
    assert s.reason == "safety_key"


def test_summary_pause_gap_adds_no_distance() -> None:
    b = SummaryBuilder()
    b.add(Reading(at=0, speed=100))
    b.add(Reading(at=36, speed=100))  # 10 m
    b.pause()
    b.add(Reading(at=1000, speed=100))
    assert b.distance_m == 10
