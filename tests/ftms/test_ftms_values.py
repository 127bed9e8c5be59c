"""Building values: encodings by hand, range checks (local misuse), accessors and constants."""

from __future__ import annotations

import dataclasses

import pytest

from treadctl.ftms import (
    CONTROL_POINT_UUID16,
    FEATURE_UUID16,
    FTMS_SERVICE_UUID16,
    INCLINE_RANGE_UUID16,
    MACHINE_STATUS_UUID16,
    SPEED_RANGE_UUID16,
    TRAINING_STATUS_UUID16,
    TREADMILL_DATA_UUID16,
    ControlResponse,
    FtmsServiceData,
    MachineStatus,
    MachineStatusOp,
    MachineType,
    OpCode,
    RequestControl,
    Reset,
    ResultCode,
    SetTargetedDistance,
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
    TrainingStatus,
    TreadmillData,
    TreadmillDataFlag,
    uuid128,
)


def test_uuids() -> None:
    assert uuid128(TREADMILL_DATA_UUID16) == "00002acd-0000-1000-8000-00805f9b34fb"
    assert uuid128(FTMS_SERVICE_UUID16) == "00001826-0000-1000-8000-00805f9b34fb"
    assert [
        FEATURE_UUID16,
        TREADMILL_DATA_UUID16,
        TRAINING_STATUS_UUID16,
        SPEED_RANGE_UUID16,
        INCLINE_RANGE_UUID16,
        CONTROL_POINT_UUID16,
        MACHINE_STATUS_UUID16,
    ] == [0x2ACC, 0x2ACD, 0x2AD3, 0x2AD4, 0x2AD5, 0x2AD9, 0x2ADA]
    with pytest.raises(ValueError, match="16-bit"):
        uuid128(0x10000)


@pytest.mark.parametrize(
    ("request_", "wire"),
    [
        (RequestControl(), "00"),
        (Reset(), "01"),
        (SetTargetSpeed(150), "02 96 00"),  # 1.50 km/h
        (SetTargetSpeed(400), "02 90 01"),  # 4.00 km/h
        (SetTargetInclination(-15), "03 f1 ff"),  # -1.5 %
        (SetTargetResistance(12), "04 0c"),
        (SetTargetPower(-2), "05 fe ff"),
        (SetTargetHeartRate(120), "06 78"),
        (StartOrResume(), "07"),
        (StopOrPause(StopKind.STOP), "08 01"),
        (StopOrPause(StopKind.PAUSE), "08 02"),
        (SetTargetedDistance(0x010203), "0c 03 02 01"),
        (SetTargetedTrainingTime(600), "0d 58 02"),
    ],
)
def test_request_encodings(request_: object, wire: str) -> None:
    assert bytes(request_).hex(" ") == wire  # type: ignore[call-overload]
    assert request_.op_code == bytes.fromhex(wire)[0]  # type: ignore[attr-defined]


def test_response_encoding() -> None:
    assert bytes(ControlResponse(OpCode.SET_TARGET_SPEED, ResultCode.SUCCESS)) == b"\x80\x02\x01"
    assert bytes(ControlResponse(-1, ResultCode.OPERATION_FAILED, bare=True)) == b"\x04"


@pytest.mark.parametrize(
    "build",
    [
        lambda: SetTargetSpeed(-1),
        lambda: SetTargetSpeed(0x10000),
        lambda: SetTargetSpeed(True),  # a bool is not a speed
        lambda: SetTargetInclination(0x8000),
        lambda: StopOrPause(3),  # type: ignore[arg-type]
        lambda: SetTargetedDistance(0x1000000),
        lambda: SupportedSpeedRange(600, 100, 50),
        lambda: SupportedInclinationRange(-0x8001, 0, 1),
        lambda: ControlResponse(2, 1, b"\x00", bare=True),
        lambda: ControlResponse(0x100, 1),
        lambda: MachineStatus(MachineStatusOp.TARGET_SPEED_CHANGED, b"\x00\x00\x00"),
        lambda: MachineStatus(0x100),
        lambda: TrainingStatus(0x100),
        lambda: TrainingStatus(1, "\ud800"),
        lambda: FtmsServiceData(True, MachineType(0x10000)),
        TreadmillData,  # no speed, yet not flagged More Data
        lambda: TreadmillData(more_data=True, instantaneous_speed=100),
        lambda: TreadmillData(instantaneous_speed=0x10000),
        lambda: TreadmillData(instantaneous_speed=1, inclination=0x7FFF),  # "not available"
        lambda: TreadmillData(instantaneous_speed=1, energy_per_minute=0xFF),
        lambda: TreadmillData(instantaneous_speed=1, total_distance=0x1000000),
        lambda: TreadmillData(instantaneous_speed=1, instantaneous_pace=0x100),
        lambda: TreadmillData(instantaneous_speed=1, positive_elevation_gain=1),
        lambda: TreadmillData(instantaneous_speed=1, wide_pace=True),
        lambda: TreadmillData(instantaneous_speed=1, step_count=-1),
    ],
)
def test_out_of_range_values_are_refused(build: object) -> None:
    with pytest.raises(ValueError, match=r"."):
        build()  # type: ignore[operator]


def test_treadmill_data_convenience() -> None:
    record = TreadmillData(instantaneous_speed=250, step_count=12)
    assert record.speed_kmh == 2.5
    assert record.flags == TreadmillDataFlag.STEP_COUNT
    assert bytes(record).hex(" ") == "00 20 fa 00 0c 00 00"
    fragment = TreadmillData(more_data=True, heart_rate=80)
    assert fragment.speed_kmh is None
    assert bytes(fragment).hex(" ") == "01 01 50"
    wide = TreadmillData(instantaneous_speed=1, average_pace=0x1234, wide_pace=True)
    assert bytes(wide).hex(" ") == "40 00 01 00 34 12"


def test_status_accessors() -> None:
    incline = MachineStatus.from_bytes(bytes.fromhex("06f1ff"))
    assert incline.target_incline == -15
    assert incline.target_speed is None
    assert MachineStatus.from_bytes(bytes.fromhex("0201")).stop_kind == StopKind.STOP
    assert MachineStatus.from_bytes(bytes.fromhex("0202")).stop_kind == StopKind.PAUSE
    assert MachineStatus.from_bytes(bytes.fromhex("0209")).stop_kind == 9
    assert MachineStatus.from_bytes(bytes.fromhex("08f6ff")).target_power == -10
    assert MachineStatus.from_bytes(bytes.fromhex("0978")).target_heart_rate == 120
    assert MachineStatus.from_bytes(bytes.fromhex("0d030201")).targeted_distance == 0x010203
    assert MachineStatus.from_bytes(bytes.fromhex("0e5802")).targeted_training_time == 600
    assert MachineStatus.from_bytes(b"\x03").op == MachineStatusOp.STOPPED_BY_SAFETY_KEY
    assert MachineStatus.from_bytes(b"\xff").op == MachineStatusOp.CONTROL_PERMISSION_LOST


def test_service_data() -> None:
    treadmill = FtmsServiceData.from_bytes(bytes.fromhex("010100"))
    assert treadmill == FtmsServiceData(True, MachineType.TREADMILL)
    assert treadmill.is_treadmill
    bike = FtmsServiceData.from_bytes(bytes.fromhex("002000"))
    assert bike == FtmsServiceData(False, MachineType.INDOOR_BIKE)
    assert not bike.is_treadmill


def test_incline_range() -> None:
    value = SupportedInclinationRange.from_bytes(bytes.fromhex("c4ff96000500"))
    assert value == SupportedInclinationRange(-60, 150, 5)  # -6.0 % .. 15.0 % by 0.5 %


def test_decoded_records_are_ordinary_frozen_values() -> None:
    record = TreadmillData.from_bytes(bytes.fromhex("84242c012f000002000000003a00560000"))
    assert type(record) is TreadmillData
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.instantaneous_speed = 400  # type: ignore[misc]
    assert hash(record) == hash(dataclasses.replace(record))
    assert record == dataclasses.replace(record)  # and it passes the range checks


def test_decoders_take_bytearray_as_bleak_delivers_it() -> None:
    record = TreadmillData.from_bytes(bytearray.fromhex("84242c012f000002000000003a00560000"))
    assert (record.instantaneous_speed, record.step_count) == (300, 86)
    assert MachineStatus.from_bytes(bytearray(b"\x03")).op == MachineStatusOp.STOPPED_BY_SAFETY_KEY
    assert ControlResponse.from_bytes(bytearray(b"\x80\x02\x01")).ok
    assert TrainingStatus.from_bytes(bytearray(b"\x01\x0d")).text == ""
    assert SupportedSpeedRange.from_bytes(memoryview(bytes.fromhex("640058023200"))).maximum == 600
