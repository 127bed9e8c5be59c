"""Golden tests: every frame of the real CS-WP8 capture and what its bytes mean.

The expected values below were read off the hex by hand (little-endian; flags ``84 24`` =
0x2484 = bits 2 distance, 7 energy, 10 elapsed time, 13 vendor step count; bit 0 clear, so the
speed is present). They are not the decoder's output. Each row also repeats the frame's hex so
that the table is tied to the capture file.
"""

from __future__ import annotations

from dataclasses import fields
from typing import NamedTuple, SupportsBytes

import pytest

from tests.ftms.ftms_captures import Frame, cs_wp8_frames
from treadctl.ftms import (
    ControlResponse,
    Diagnostic,
    FitnessMachineFeature,
    MachineFeature,
    MachineStatus,
    MachineStatusOp,
    OpCode,
    RequestControl,
    ResultCode,
    SetTargetSpeed,
    StartOrResume,
    StopKind,
    StopOrPause,
    SupportedSpeedRange,
    TargetSettingFeature,
    TrainingStatus,
    TrainingStatusCode,
    TreadmillData,
    TreadmillDataFlag,
    parse_control_request,
)


class Tread(NamedTuple):
    """Expected Treadmill Data fields of a CS-WP8 frame (the only fields it sends)."""

    speed: int  # 0.01 km/h
    distance: int  # m
    total_energy: int  # kcal
    energy_per_hour: int | None  # kcal; None = "ff ff" (not available)
    energy_per_minute: int | None  # kcal; None = "ff" (not available)
    elapsed: int  # s
    steps: int
    idle: bool = False  # every field zero


# index -> (characteristic, hex, meaning)
GOLDEN: dict[int, tuple[str, str, object]] = {
    # Walking session 1 -> 3 km/h and back (nRF Connect log).
    0: ("2acd", "8424000000000000000000000000000000", Tread(0, 0, 0, 0, 0, 0, 0, idle=True)),
    1: ("2acd", "8424640000000000000000000000000000", Tread(100, 0, 0, 0, 0, 0, 0)),
    2: ("2acd", "84242c0103000000000000000500030000", Tread(300, 3, 0, 0, 0, 5, 3)),
    3: ("2acd", "84242c0108000000000000000b00090000", Tread(300, 8, 0, 0, 0, 11, 9)),
    4: ("2acd", "84242c010b000000000000000f00100000", Tread(300, 11, 0, 0, 0, 15, 16)),
    5: ("2acd", "84242c010f000000000000001400180000", Tread(300, 15, 0, 0, 0, 20, 24)),
    6: ("2acd", "84242c0112000001000000001800200000", Tread(300, 18, 1, 0, 0, 24, 32)),
    7: ("2acd", "84242c0117000001000000001e00280000", Tread(300, 23, 1, 0, 0, 30, 40)),
    8: ("2acd", "84242c011b0000010000000022002f0000", Tread(300, 27, 1, 0, 0, 34, 47)),
    9: ("2acd", "84242c011e000001000000002600360000", Tread(300, 30, 1, 0, 0, 38, 54)),
    10: ("2acd", "84242c0122000002000000002b003d0000", Tread(300, 34, 2, 0, 0, 43, 61)),
    11: ("2acd", "84242c0125000002000000002f00450000", Tread(300, 37, 2, 0, 0, 47, 69)),
    12: ("2acd", "84242c012a0000020000000035004d0000", Tread(300, 42, 2, 0, 0, 53, 77)),
    13: ("2acd", "84242c012f000002000000003a00560000", Tread(300, 47, 2, 0, 0, 58, 86)),
    14: ("2acd", "8424040131000002000000003f005d0000", Tread(260, 49, 2, 0, 0, 63, 93)),
    15: ("2acd", "8424780031000003000000004300630000", Tread(120, 49, 3, 0, 0, 67, 99)),
    16: ("2acd", "8424500031000003000000004400640000", Tread(80, 49, 3, 0, 0, 68, 100)),
    17: ("2acd", "84243c0031000003000000004500640000", Tread(60, 49, 3, 0, 0, 69, 100)),
    18: ("2acd", "8424320031000003000000004500640000", Tread(50, 49, 3, 0, 0, 69, 100)),
    19: ("2acd", "84241e0031000003000000004600640000", Tread(30, 49, 3, 0, 0, 70, 100)),
    20: ("2acd", "8424140031000003000000004600640000", Tread(20, 49, 3, 0, 0, 70, 100)),
    # Status notifications, some padded with zeros.
    21: ("2ada", "040000", MachineStatus(MachineStatusOp.STARTED_OR_RESUMED_BY_USER)),
    22: ("2ada", "059600", MachineStatus(MachineStatusOp.TARGET_SPEED_CHANGED, b"\x96\x00")),
    23: ("2ada", "055802", MachineStatus(MachineStatusOp.TARGET_SPEED_CHANGED, b"\x58\x02")),
    24: ("2acd", "8424580200000000000000000000000000", Tread(600, 0, 0, 0, 0, 0, 0)),
    25: ("2ada", "056400", MachineStatus(MachineStatusOp.TARGET_SPEED_CHANGED, b"\x64\x00")),
    26: ("2acd", "8424a00000000000000000000000000000", Tread(160, 0, 0, 0, 0, 0, 0)),
    27: ("2acd", "84240a0000000000000000000000000000", Tread(10, 0, 0, 0, 0, 0, 0)),
    28: ("2ada", "020100", MachineStatus(MachineStatusOp.STOPPED_OR_PAUSED_BY_USER, b"\x01")),
    29: ("2acd", "842400000000000000ffffff0000000000", Tread(0, 0, 0, None, None, 0, 0)),
    # Control-point session (btsnoop HCI capture).
    30: ("2ad3", "0101", TrainingStatus(TrainingStatusCode.IDLE, "")),
    31: ("2ad4", "640058023200", SupportedSpeedRange(100, 600, 50)),
    32: ("2ad3", "0101", TrainingStatus(TrainingStatusCode.IDLE, "")),
    33: ("2ad9", "00", RequestControl()),
    34: ("2ad9", "800001", ControlResponse(OpCode.REQUEST_CONTROL, ResultCode.SUCCESS)),
    35: (
        "2acc",
        "4412000001000000",
        FitnessMachineFeature(
            MachineFeature.TOTAL_DISTANCE  # 0x0004
            | MachineFeature.STEP_COUNT  # 0x0040
            | MachineFeature.EXPENDED_ENERGY  # 0x0200
            | MachineFeature.ELAPSED_TIME,  # 0x1000 -> 0x1244 = "44 12 00 00"
            TargetSettingFeature.SPEED_TARGET,  # "01 00 00 00"
        ),
    ),
    36: ("2ad9", "07", StartOrResume()),
    37: ("2ada", "04", MachineStatus(MachineStatusOp.STARTED_OR_RESUMED_BY_USER)),
    38: ("2ad3", "010e", TrainingStatus(TrainingStatusCode.PRE_WORKOUT, "")),
    39: ("2ad9", "800701", ControlResponse(OpCode.START_OR_RESUME, ResultCode.SUCCESS)),
    40: ("2ad3", "010d", TrainingStatus(TrainingStatusCode.MANUAL_MODE, "")),
    41: ("2acd", "842464000000000000ffffff0000000000", Tread(100, 0, 0, None, None, 0, 0)),
    42: ("2ad9", "029600", SetTargetSpeed(150)),
    43: ("2ad9", "800201", ControlResponse(OpCode.SET_TARGET_SPEED, ResultCode.SUCCESS)),
    44: ("2ad9", "02c800", SetTargetSpeed(200)),
    45: ("2ada", "05c800", MachineStatus(MachineStatusOp.TARGET_SPEED_CHANGED, b"\xc8\x00")),
    46: ("2acd", "8424c8000100000000ffffff0300020000", Tread(200, 1, 0, None, None, 3, 2)),
    47: ("2acd", "8424c8002100000100ffffff3c00400000", Tread(200, 33, 1, None, None, 60, 64)),
    48: ("2ad9", "0801", StopOrPause(StopKind.STOP)),
    49: ("2ad3", "010f", TrainingStatus(TrainingStatusCode.POST_WORKOUT, "")),
    50: ("2ada", "0201", MachineStatus(MachineStatusOp.STOPPED_OR_PAUSED_BY_USER, b"\x01")),
    51: ("2ad9", "800801", ControlResponse(OpCode.STOP_OR_PAUSE, ResultCode.SUCCESS)),
}

# Frames whose encoding differs from the capture because the device padded them.
PADDED = {21: "04", 28: "0201"}
CS_WP8_FIELDS = {
    "more_data",
    "instantaneous_speed",
    "total_distance",
    "total_energy",
    "energy_per_hour",
    "energy_per_minute",
    "elapsed_time",
    "step_count",
    "wide_pace",
}


@pytest.fixture(scope="module")
def frames() -> list[Frame]:
    return cs_wp8_frames()


def test_table_covers_every_frame_of_the_capture(frames: list[Frame]) -> None:
    assert len(frames) == 52
    assert sorted(GOLDEN) == list(range(52))
    for frame in frames:
        characteristic, hex_, _meaning = GOLDEN[frame.index]
        assert (frame.characteristic, frame.raw.hex()) == (characteristic, hex_)


def _decode(frame: Frame) -> tuple[SupportsBytes, tuple[str, ...]]:
    raw = frame.raw
    value: SupportsBytes
    diags: tuple[Diagnostic, ...]
    if frame.characteristic == "2acd":
        value, diags = TreadmillData.decode(raw)
    elif frame.characteristic == "2ada":
        value, diags = MachineStatus.decode(raw)
    elif frame.characteristic == "2ad3":
        value, diags = TrainingStatus.decode(raw)
    elif frame.characteristic == "2ad4":
        value, diags = SupportedSpeedRange.decode(raw)
    elif frame.characteristic == "2acc":
        value, diags = FitnessMachineFeature.decode(raw)
    elif frame.direction.startswith("client->server write"):
        return parse_control_request(raw), ()
    else:
        value, diags = ControlResponse.decode(raw)
    return value, tuple(d.code for d in diags)


@pytest.mark.parametrize("index", sorted(GOLDEN))
def test_frame_means_what_its_bytes_say(frames: list[Frame], index: int) -> None:
    frame = frames[index]
    _characteristic, _hex, meaning = GOLDEN[index]
    value, codes = _decode(frame)
    if isinstance(meaning, Tread):
        assert isinstance(value, TreadmillData)
        assert value.more_data is False
        assert value.instantaneous_speed == meaning.speed
        assert value.total_distance == meaning.distance
        assert value.total_energy == meaning.total_energy
        assert value.energy_per_hour == meaning.energy_per_hour
        assert value.energy_per_minute == meaning.energy_per_minute
        assert value.elapsed_time == meaning.elapsed
        assert value.step_count == meaning.steps
        assert value.wide_pace is False
        for field in fields(TreadmillData):
            if field.name not in CS_WP8_FIELDS:
                assert getattr(value, field.name) is None, field.name
        assert value.flags == (
            TreadmillDataFlag.TOTAL_DISTANCE
            | TreadmillDataFlag.EXPENDED_ENERGY
            | TreadmillDataFlag.ELAPSED_TIME
            | TreadmillDataFlag.STEP_COUNT
        )
        assert codes == (("idle_all_zero",) if meaning.idle else ())
    else:
        assert value == meaning
        assert type(value) is type(meaning)
        if index in PADDED:
            assert codes == ("padded_status",)
        elif isinstance(meaning, TrainingStatus):
            assert codes == ("empty_training_string",)
        else:
            assert codes == ()


@pytest.mark.parametrize("index", sorted(GOLDEN))
def test_frame_encodes_back_to_the_captured_bytes(frames: list[Frame], index: int) -> None:
    """The simulator sends what a real pad sends (padding aside)."""
    value, _codes = _decode(frames[index])
    assert bytes(value).hex() == PADDED.get(index, frames[index].raw.hex())


def test_issue_example_frame_read_byte_by_byte() -> None:
    # 84 24 | 2c 01 | 2f 00 00 | 02 00 | 00 00 | 00 | 3a 00 | 56 00 00
    # flags | speed | distance | total | per h | per min | elapsed | steps
    value, diagnostics = TreadmillData.decode(
        bytes.fromhex("84 24 2c 01 2f 00 00 02 00 00 00 00 3a 00 56 00 00")
    )
    assert value.instantaneous_speed == 0x012C  # 300 = 3.00 km/h
    assert value.speed_kmh == 3.0
    assert value.total_distance == 0x2F  # 47 m
    assert value.total_energy == 2  # kcal
    assert value.energy_per_hour == 0
    assert value.energy_per_minute == 0
    assert value.elapsed_time == 0x3A  # 58 s
    assert value.step_count == 0x56  # 86 steps
    assert diagnostics == ()


def test_issue_example_response_is_successful_set_target_speed() -> None:
    response = ControlResponse.from_bytes(bytes.fromhex("80 02 01"))
    assert response.request_op == 0x02  # OpCode.SET_TARGET_SPEED
    assert response.result == 0x01  # ResultCode.SUCCESS
    assert (response.request_op, response.result) == (OpCode.SET_TARGET_SPEED, ResultCode.SUCCESS)
    assert response.ok
    assert response.bare is False


def test_source_stated_values(frames: list[Frame]) -> None:
    """What the capture's sources themselves state (the ``expected`` fields)."""
    checked = 0
    for frame in frames:
        expected = frame.expected
        if "target_speed_kmh" in expected:
            request = parse_control_request(frame.raw)
            assert isinstance(request, SetTargetSpeed)
            assert request.speed == round(expected["target_speed_kmh"] * 100)
            checked += 1
        if "session_distance_m" in expected:
            record = TreadmillData.from_bytes(frame.raw)
            assert record.total_distance == expected["session_distance_m"]
            assert record.total_energy == expected["session_kcal"]
            checked += 1
        if expected.get("operation") == "Start":
            assert parse_control_request(frame.raw) == StartOrResume()
            checked += 1
        if expected.get("operation") == "Stop":
            assert parse_control_request(frame.raw) == StopOrPause(StopKind.STOP)
            checked += 1
        if str(expected.get("operation", "")).startswith("Wakeup"):
            assert parse_control_request(frame.raw) == RequestControl()
            checked += 1
    assert checked == 6


def test_status_accessors_on_captured_frames() -> None:
    assert MachineStatus.from_bytes(bytes.fromhex("059600")).target_speed == 150  # 1.50 km/h
    assert MachineStatus.from_bytes(bytes.fromhex("055802")).target_speed == 600  # 6.00 km/h
    assert MachineStatus.from_bytes(bytes.fromhex("0201")).stop_kind == StopKind.STOP
    assert MachineStatus.from_bytes(bytes.fromhex("020100")).stop_kind == StopKind.STOP
    assert MachineStatus.from_bytes(bytes.fromhex("040000")).stop_kind is None
