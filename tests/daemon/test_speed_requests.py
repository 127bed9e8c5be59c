"""A person's ``set_speed`` through the daemon (``DeviceRuntime.handle_local``), on the in-memory
port and a hand-driven clock: what the belt is commanded. The speed rules (docs/safety.md,
"Limits": manual nudges, no increase in the first 3 minutes of a block, never above what was
asked) hold with and without a session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.control.fakes import FINE, PAD
from tests.control.rig import Rig
from tests.daemon.inprocess import config_for
from treadctl.commands import CommandResult, SetSpeed
from treadctl.control.session_states import SessionState
from treadctl.daemon.app import Daemon
from treadctl.daemon.device import DeviceRuntime
from treadctl.observations import DeviceInfo
from treadctl.workout.loader import load_profile_text

STEADY_14 = """\
name: steady-14
description: test
audience: tests
level: beginner
needs_handrails: true
cap_kmh: 2.0
segments:
  - kind: backward
    duration: 10 min
    speed_kmh: 1.4
"""


def _runtime(tmp_path: Path, info: DeviceInfo) -> Iterator[tuple[DeviceRuntime, Rig]]:
    """A daemon's runtime for one treadmill whose belt is the rig's in-memory port."""
    rig = Rig(info)
    runtime = Daemon(config_for(tmp_path, [("tm1", "local:nowhere")])).devices["tm1"]
    runtime.governed = rig.belt
    runtime.runner = rig.runner
    runtime.link_up = True
    try:
        yield runtime, rig
    finally:
        rig.close()


@pytest.fixture
def pad(tmp_path: Path) -> Iterator[tuple[DeviceRuntime, Rig]]:
    yield from _runtime(tmp_path, PAD)


@pytest.fixture
def fine(tmp_path: Path) -> Iterator[tuple[DeviceRuntime, Rig]]:
    yield from _runtime(tmp_path, FINE)


def _speed(runtime: DeviceRuntime, rig: Rig, kmh: float) -> CommandResult:
    result = runtime.handle_local(SetSpeed(kmh))
    rig.settle()
    return result


def _writes(rig: Rig, since: int = 0) -> list[int]:
    return [s.value for s in rig.port.log[since:] if s.kind == "set_speed" and s.value is not None]


def test_set_speed_in_a_session_never_goes_above_what_was_asked(
    pad: tuple[DeviceRuntime, Rig],
) -> None:
    """Defect 1: on a 0.5 km/h grid a 1.4 km/h segment runs at 1.0; ``set_speed 1.1`` used to
    become a +0.1 nudge of the *unrounded* 1.4, i.e. 1.5 km/h, and was sent."""
    runtime, rig = pad
    rig.runner.arm(load_profile_text(STEADY_14))
    rig.runner.start()
    rig.settle()
    rig.run_for(3 * 60 + 10)  # past the block-start hold
    assert rig.runner.state == SessionState.RUNNING
    before = len(rig.port.log)
    result = _speed(runtime, rig, 1.1)
    rig.run_for(30)
    assert result.ok, result
    assert result.data is not None
    assert result.data["target_kmh"] == 1.0  # 1.1 rounded down to the pad's 0.5 grid
    assert all(v <= 110 for v in _writes(rig, before)), _writes(rig, before)
    assert rig.port.target_speed == 100


def _running_without_session(runtime: DeviceRuntime, rig: Rig, speed: int) -> None:
    rig.belt.start(speed)
    rig.settle()
    rig.run_for(20)
    assert runtime.runner.state == SessionState.IDLE
    assert rig.port.target_speed == speed


def test_without_a_session_no_increase_in_the_first_3_minutes(
    fine: tuple[DeviceRuntime, Rig],
) -> None:
    """Defect 2: the block-start hold was a session rule only."""
    runtime, rig = fine
    _running_without_session(runtime, rig, 150)
    result = _speed(runtime, rig, 1.6)
    assert not result.ok
    assert result.error is not None
    assert "first 3 minutes" in result.error.message
    assert _speed(runtime, rig, 1.4).ok  # down: any time
    rig.run_for(3 * 60)
    assert _speed(runtime, rig, 1.5).ok
    rig.run_for(10)
    assert rig.port.target_speed == 150


def test_without_a_session_nudges_are_one_tenth_per_minute(
    fine: tuple[DeviceRuntime, Rig],
) -> None:
    """Defect 2: +0.1 km/h at a time, once a minute, held for manual changes without a
    session too."""
    runtime, rig = fine
    _running_without_session(runtime, rig, 150)
    rig.run_for(3 * 60)
    too_much = _speed(runtime, rig, 1.7)
    assert not too_much.ok
    assert too_much.error is not None
    assert "+0.1 km/h at a time" in too_much.error.message
    assert _speed(runtime, rig, 1.6).ok
    again = _speed(runtime, rig, 1.7)
    assert not again.ok
    assert again.error is not None
    assert "per minute" in again.error.message
    rig.run_for(61)
    assert _speed(runtime, rig, 1.7).ok
    rig.run_for(10)
    assert rig.port.target_speed == 170
    assert max(_writes(rig)) == 170
