"""Hypothesis strategies covering the whole valid range of every FTMS wire type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from treadctl.ftms import (
    UNKNOWN_REQUEST_OP,
    ControlResponse,
    FitnessMachineFeature,
    FtmsServiceData,
    MachineFeature,
    MachineStatus,
    MachineType,
    RequestControl,
    Reset,
    SetTargetedDistance,
    SetTargetedExpendedEnergy,
    SetTargetedSteps,
    SetTargetedStrides,
    SetTargetedTrainingTime,
    SetTargetHeartRate,
    SetTargetInclination,
    SetTargetPower,
    SetTargetResistance,
    SetTargetSpeed,
    StartOrResume,
    StopKind,
    StopOrPause,
    SupportedInclinationRange,
    SupportedSpeedRange,
    TargetSettingFeature,
    TrainingStatus,
    TreadmillData,
)
from treadctl.ftms.machine_status import PARAMETER_LENGTH

U8 = st.integers(0, 0xFF)
U16 = st.integers(0, 0xFFFF)
U24 = st.integers(0, 0xFF_FFFF)
U32 = st.integers(0, 0xFFFF_FFFF)
S16 = st.integers(-0x8000, 0x7FFF)


def _opt(strategy: st.SearchStrategy[int]) -> st.SearchStrategy[int | None]:
    return st.none() | strategy


@st.composite
def treadmill_data(draw: Callable[..., Any], *, complete: bool | None = None) -> TreadmillData:
    """Any valid TreadmillData; ``complete`` True forces a speed (a whole record)."""
    speeds = {None: _opt(U16), True: U16, False: st.none()}[complete]
    speed = draw(speeds)
    wide = draw(st.booleans())
    pace = st.integers(0, 0xFFFF if wide else 0xFF)
    instantaneous_pace = draw(_opt(pace))
    average_pace = draw(_opt(pace))
    if instantaneous_pace is None and average_pace is None:
        wide = False
    elevation = draw(st.none() | st.tuples(U16, U16))
    return TreadmillData(
        more_data=speed is None,
        instantaneous_speed=speed,
        average_speed=draw(_opt(U16)),
        total_distance=draw(_opt(U24)),
        inclination=draw(_opt(st.integers(-0x8000, 0x7FFE))),
        ramp_angle=draw(_opt(st.integers(-0x8000, 0x7FFE))),
        positive_elevation_gain=None if elevation is None else elevation[0],
        negative_elevation_gain=None if elevation is None else elevation[1],
        instantaneous_pace=instantaneous_pace,
        average_pace=average_pace,
        total_energy=draw(_opt(st.integers(0, 0xFFFE))),
        energy_per_hour=draw(_opt(st.integers(0, 0xFFFE))),
        energy_per_minute=draw(_opt(st.integers(0, 0xFE))),
        heart_rate=draw(_opt(U8)),
        metabolic_equivalent=draw(_opt(U8)),
        elapsed_time=draw(_opt(U16)),
        remaining_time=draw(_opt(U16)),
        force_on_belt=draw(_opt(st.integers(-0x8000, 0x7FFE))),
        power_output=draw(_opt(st.integers(-0x8000, 0x7FFE))),
        step_count=draw(_opt(U24)),
        wide_pace=wide,
    )


features = st.builds(FitnessMachineFeature, U32.map(MachineFeature), U32.map(TargetSettingFeature))
training_statuses = st.builds(TrainingStatus, U8, st.none() | st.text(max_size=30), st.booleans())


@st.composite
def _range(draw: Callable[..., Any], low: int, high: int) -> tuple[int, int, int]:
    a = draw(st.integers(low, high))
    b = draw(st.integers(low, high))
    return min(a, b), max(a, b), draw(U16)


speed_ranges = _range(0, 0xFFFF).map(lambda r: SupportedSpeedRange(*r))
incline_ranges = _range(-0x8000, 0x7FFF).map(lambda r: SupportedInclinationRange(*r))
service_data = st.builds(FtmsServiceData, st.booleans(), U16.map(MachineType))

control_requests = st.one_of(
    st.just(RequestControl()),
    st.just(Reset()),
    st.builds(SetTargetSpeed, U16),
    st.builds(SetTargetInclination, S16),
    st.builds(SetTargetResistance, U8),
    st.builds(SetTargetPower, S16),
    st.builds(SetTargetHeartRate, U8),
    st.just(StartOrResume()),
    st.builds(StopOrPause, st.sampled_from(StopKind)),
    st.builds(SetTargetedExpendedEnergy, U16),
    st.builds(SetTargetedSteps, U16),
    st.builds(SetTargetedStrides, U16),
    st.builds(SetTargetedDistance, U24),
    st.builds(SetTargetedTrainingTime, U16),
)

control_responses = st.one_of(
    st.builds(ControlResponse, U8, U8, st.binary(max_size=17)),
    st.builds(
        ControlResponse,
        st.just(UNKNOWN_REQUEST_OP),
        st.integers(1, 5),
        st.just(b""),
        st.just(True),  # bare
    ),
)


@st.composite
def machine_statuses(draw: Callable[..., Any]) -> MachineStatus:
    op = draw(U8)
    length = PARAMETER_LENGTH.get(op)
    if length is None:
        return MachineStatus(op, draw(st.binary(max_size=18)))
    # The spec length, or shorter (a short frame keeps what was sent).
    return MachineStatus(op, draw(st.binary(min_size=0, max_size=length)))
