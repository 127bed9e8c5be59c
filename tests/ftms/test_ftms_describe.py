"""describe(): one-line descriptions in display units (used by logs and ``treadctl decode``)."""

from __future__ import annotations

import pytest

from treadctl.ftms import (
    UNKNOWN_REQUEST_OP,
    ControlResponse,
    FitnessMachineFeature,
    FtmsServiceData,
    MachineFeature,
    MachineStatus,
    MachineStatusOp,
    MachineType,
    OpCode,
    ResultCode,
    SetTargetedDistance,
    SetTargetInclination,
    SetTargetSpeed,
    StopKind,
    StopOrPause,
    SupportedInclinationRange,
    TargetSettingFeature,
    TrainingStatus,
    TrainingStatusCode,
    TreadmillData,
)
from treadctl.ftms.describe import describe


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (SetTargetSpeed(150), "control request: set target speed 1.50 km/h"),
        (SetTargetInclination(-15), "control request: set target inclination -1.5 %"),
        (StopOrPause(StopKind.PAUSE), "control request: pause"),
        (SetTargetedDistance(1000), "control request: set targeted distance 1000 m"),
        (
            ControlResponse(OpCode.SET_TARGET_SPEED, ResultCode.CONTROL_NOT_PERMITTED),
            "control response: set target speed -> control not permitted",
        ),
        (
            ControlResponse(UNKNOWN_REQUEST_OP, ResultCode.SUCCESS, bare=True),
            "control response: unknown request -> success (bare result byte)",
        ),
        (MachineStatus(MachineStatusOp.STOPPED_BY_SAFETY_KEY), "stopped by safety key"),
        (MachineStatus(MachineStatusOp.TARGET_INCLINE_CHANGED, b"\x0f\x00"), "changed 1.5 %"),
        (MachineStatus(0x42, b"\x01"), "machine status: 0x42 parameter [01]"),
        (TrainingStatus(TrainingStatusCode.IDLE, None), "training status: idle"),
        (TrainingStatus(0x20, "x"), 'training status: 0x20 "x"'),
        (SupportedInclinationRange(-60, 150, 5), "inclination range: -6.0-15.0 % by 0.5"),
        (
            FitnessMachineFeature(
                MachineFeature.AVERAGE_SPEED | MachineFeature(1 << 20),
                TargetSettingFeature(0),
            ),
            "features: machine average_speed|0x100000; targets none",
        ),
        (FtmsServiceData(True, MachineType.TREADMILL), "service data: available, type treadmill"),
        (
            TreadmillData(more_data=True, inclination=-5, heart_rate=80),
            "treadmill data: fragment (more data follows), incline -0.5 %, heart rate 80 bpm",
        ),
    ],
)
def test_describe(value: object, text: str) -> None:
    assert text in describe(value)
