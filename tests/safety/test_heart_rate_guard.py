"""The pure heart-rate guard: limits, filtering, holds, the hard-limit stop, statistics."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treadctl.hrs import HeartRateSample, HeartRateSource, SensorContact, SensorStatus
from treadctl.safety.heart_rate import (
    HeartRateGuard,
    HeartRateLimits,
    HeartRateSettingsError,
    HoldReason,
)

LIMITS = HeartRateLimits(150)  # soft 105, hard 120
DETECTED = SensorContact.DETECTED


def sample(at: float, bpm: int, contact: SensorContact = DETECTED) -> HeartRateSample:
    return HeartRateSample(at, bpm, contact, HeartRateSource.STRAP)


def fed(*items: tuple[float, int]) -> HeartRateGuard:
    guard = HeartRateGuard(LIMITS, now=0.0)
    for at, bpm in items:
        guard.observe(sample(at, bpm))
    return guard


# ----------------------------------------------------------------------------- limits
def test_limits_from_age_are_an_estimate_and_measured_wins() -> None:
    estimated = HeartRateLimits.for_person(age=70)
    assert estimated is not None
    assert (estimated.hr_max, estimated.estimated) == (150, True)
    assert (estimated.soft_bpm, estimated.hard_bpm) == (105, 120)
    measured = HeartRateLimits.for_person(age=70, hr_max=140)
    assert measured == HeartRateLimits(140, False)
    assert HeartRateLimits.for_person() is None
    assert "estimated from age" in estimated.describe()


def test_a_therapist_can_lower_never_raise_past_the_rules() -> None:
    lower = HeartRateLimits.for_person(age=70, soft_fraction=0.6, hard_fraction=0.7)
    assert lower is not None
    assert (lower.soft_bpm, lower.hard_bpm) == (90, 105)
    with pytest.raises(HeartRateSettingsError, match="hard_fraction"):
        HeartRateLimits(150, hard_fraction=1.0)  # at hr_max
    with pytest.raises(HeartRateSettingsError, match="soft_fraction"):
        HeartRateLimits(150, soft_fraction=0.8, hard_fraction=0.8)
    with pytest.raises(HeartRateSettingsError, match="hr_max"):
        HeartRateLimits(250)
    with pytest.raises(HeartRateSettingsError, match="hard_window_s"):
        HeartRateLimits(150, hard_window_s=30.0)  # longer than the rule allows
    with pytest.raises(HeartRateSettingsError, match="signal_timeout_s"):
        HeartRateLimits(150, signal_timeout_s=0.0)


# ----------------------------------------------------------------------------- verdicts
def test_no_sample_yet_holds() -> None:
    verdict = HeartRateGuard(LIMITS, now=0.0).verdict(1.0)
    assert verdict.hold is HoldReason.SIGNAL_LOST
    assert not verdict.stop


def test_below_soft_is_free_and_at_soft_holds() -> None:
    guard = fed((1.0, 90))
    assert guard.verdict(1.5).hold is HoldReason.CONFIRMING  # one value never frees
    guard.observe(sample(2.0, 91))
    assert guard.verdict(2.5).hold is None
    assert guard.verdict(2.5).bpm == 91
    guard.observe(sample(3.0, 105))
    verdict = guard.verdict(3.0)
    assert verdict.hold is HoldReason.ABOVE_SOFT  # one value is enough to hold
    assert "105 bpm" in verdict.text
    guard.observe(sample(4.0, 100))
    assert guard.verdict(4.0).hold is HoldReason.CONFIRMING
    guard.observe(sample(5.0, 99))
    assert guard.verdict(5.0).hold is None  # a hold ends by itself, on two values


def test_an_artefact_after_a_short_gap_does_not_release_a_hold() -> None:
    guard = fed((1.0, 110), (2.0, 111))
    guard.observe(sample(5.0, 40))  # passes the rate check (3 s), but is a single value
    assert guard.verdict(5.0).hold is HoldReason.CONFIRMING
    guard.observe(sample(6.0, 112))  # the true value: a jump from the 40, filtered
    assert guard.verdict(6.0).hold is not None
    guard.observe(sample(7.0, 112))
    guard.observe(sample(8.0, 113))  # consistent: re-anchored, above the soft limit
    assert guard.verdict(8.0).hold is HoldReason.ABOVE_SOFT


def test_contact_lost_disconnect_and_timeout_hold() -> None:
    guard = fed((0.5, 89), (1.0, 90))
    guard.observe(sample(2.0, 0, SensorContact.NOT_DETECTED))
    assert guard.verdict(2.0).hold is HoldReason.CONTACT_LOST
    assert guard.filtered == {}  # a contact-lost 0 is not counted as implausible
    guard.observe(sample(3.0, 90))
    assert guard.verdict(3.0).hold is HoldReason.CONFIRMING
    guard.observe(sample(3.5, 90))
    assert guard.verdict(3.5).hold is None
    guard.observe(SensorStatus(4.0, HeartRateSource.STRAP, False))
    assert guard.verdict(4.0).hold is HoldReason.DISCONNECTED
    guard.observe(SensorStatus(5.0, HeartRateSource.STRAP, True))
    guard.observe(sample(5.0, 90))
    guard.observe(sample(5.5, 91))
    assert guard.verdict(5.5).hold is None
    assert guard.next_deadline(5.5) == pytest.approx(10.501)
    assert guard.verdict(10.6).hold is HoldReason.SIGNAL_LOST


def test_contact_not_supported_values_count() -> None:
    guard = HeartRateGuard(LIMITS, now=0.0)
    guard.observe(sample(1.0, 110, SensorContact.NOT_SUPPORTED))
    assert guard.verdict(1.0).hold is HoldReason.ABOVE_SOFT


@pytest.mark.parametrize(("bpm", "reason"), [(255, "too_high"), (0, "zero"), (231, "too_high")])
def test_implausible_values_do_nothing_and_are_counted(bpm: int, reason: str) -> None:
    guard = fed((1.0, 90), (2.0, bpm), (3.0, 91))
    assert guard.filtered == {reason: 1}
    assert guard.verdict(3.0).hold is None
    assert guard.stats.max_bpm == 91


def test_jumps_are_filtered_and_three_consistent_values_reanchor() -> None:
    guard = fed((1.0, 60), (2.0, 95))  # +35 in 1 s
    assert guard.filtered == {"jump": 1}
    assert guard.verdict(2.0).bpm == 60
    guard.observe(sample(3.0, 200))  # +140 in 2 s
    guard.observe(sample(4.0, 201))
    assert guard.verdict(4.0).bpm == 60
    guard.observe(sample(5.0, 202))  # third consistent value: the 60 was what was wrong
    assert guard.verdict(5.0).bpm == 202
    assert guard.filtered == {"jump": 3}


def test_a_slow_rise_over_seconds_is_not_a_jump() -> None:
    guard = fed((1.0, 60), (3.0, 110))  # 50 bpm over 2 s: within 30 bpm/s
    assert guard.verdict(3.0).bpm == 110


def test_hard_limit_for_longer_than_the_window_stops() -> None:
    guard = fed((1.0, 100), (2.0, 121), (3.0, 122), (4.0, 121))
    assert not guard.verdict(6.5).stop
    assert guard.next_deadline(6.5) == pytest.approx(7.001)
    guard.observe(sample(7.0, 121))
    assert guard.verdict(7.01).stop


def test_dipping_under_the_hard_limit_restarts_the_window() -> None:
    guard = fed((1.0, 121), (5.0, 119), (6.0, 121))
    assert not guard.verdict(10.0).stop
    assert guard.verdict(11.1).stop


def test_hard_limit_then_silence_still_stops() -> None:
    guard = fed((1.0, 121))
    guard.observe(SensorStatus(2.0, HeartRateSource.STRAP, False))
    assert guard.verdict(6.1).stop  # no evidence the heart rate came down


def test_statistics() -> None:
    guard = fed((0.0, 100), (1.0, 110), (2.0, 112), (3.0, 100), (4.0, 255))
    assert guard.stats.samples == 4
    assert guard.stats.max_bpm == 112
    assert guard.stats.average_bpm == pytest.approx(105.5)
    assert guard.stats.above_soft_s == pytest.approx(2.0)


# ----------------------------------------------------------------------------- properties
items = st.one_of(
    st.tuples(st.just("bpm"), st.integers(0, 300)),
    st.tuples(st.just("lost"), st.just(0)),
    st.tuples(st.just("gone"), st.just(0)),
    st.tuples(st.just("back"), st.just(0)),
)


@given(st.lists(st.tuples(st.floats(0.1, 3.0), items), max_size=60))
def test_free_only_with_a_fresh_plausible_value_below_soft(
    stream: list[tuple[float, tuple[str, int]]],
) -> None:
    guard = HeartRateGuard(LIMITS, now=0.0)
    now = 0.0
    last_good: tuple[float, int] | None = None
    contact, connected = True, True
    for dt, (kind, bpm) in stream:
        now += dt
        if kind == "bpm":
            guard.observe(sample(now, bpm))
            contact = connected = True
        elif kind == "lost":
            guard.observe(sample(now, 0, SensorContact.NOT_DETECTED))
            contact, connected = False, True
        else:
            guard.observe(SensorStatus(now, HeartRateSource.STRAP, kind == "back"))
            connected = kind == "back"
            contact = contact if connected else True
        verdict = guard.verdict(now)
        if kind == "bpm" and verdict.bpm == bpm:
            last_good = (now, bpm)
        if verdict.hold is None:
            assert not verdict.stop
            assert contact
            assert connected
            assert last_good is not None
            assert now - last_good[0] <= LIMITS.signal_timeout_s
            assert 0 < last_good[1] < LIMITS.soft_bpm
            assert verdict.bpm == last_good[1]
