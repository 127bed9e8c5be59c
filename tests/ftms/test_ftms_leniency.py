"""Lenient decoding of what real devices send, and the one typed error for what is broken."""

from __future__ import annotations

import pytest

from treadctl.errors import RemoteProtocolError, TreadctlError
from treadctl.ftms import (
    UNKNOWN_REQUEST_OP,
    ControlResponse,
    FitnessMachineFeature,
    FtmsDecodeError,
    FtmsServiceData,
    InvalidParameterError,
    MachineStatus,
    MachineStatusOp,
    OpCode,
    ResultCode,
    SetTargetSpeed,
    StopKind,
    StopOrPause,
    SupportedInclinationRange,
    SupportedSpeedRange,
    TrainingStatus,
    TrainingStatusCode,
    TreadmillData,
    UnknownOpCodeError,
    parse_control_request,
)

# Frame 13 of the CS-WP8 capture: 3.00 km/h, 47 m, 2 kcal, 58 s, 86 steps.
CS_WP8 = bytes.fromhex("84242c012f000002000000003a00560000")


def codes(diagnostics: tuple[object, ...]) -> list[str]:
    return [d.code for d in diagnostics]  # type: ignore[attr-defined]


# ----------------------------------------------------------------- Treadmill Data
def test_trailing_bytes_are_ignored_with_a_diagnostic() -> None:
    value, diagnostics = TreadmillData.decode(CS_WP8 + b"\xaa\xbb")
    assert value == TreadmillData.from_bytes(CS_WP8)
    assert codes(diagnostics) == ["trailing_bytes"]
    assert "aa bb" in diagnostics[0].message


def test_step_count_seen_by_a_strict_parser_is_trailing() -> None:
    # The same frame with bit 13 cleared (flags 0x0484): the 3 step bytes are trailing.
    value, diagnostics = TreadmillData.decode(b"\x84\x04" + CS_WP8[2:])
    assert value.step_count is None
    assert value.elapsed_time == 58
    assert codes(diagnostics) == ["trailing_bytes"]


@pytest.mark.parametrize("left", [0, 1, 2])
def test_bit_13_with_fewer_than_3_bytes_left_drops_the_step_count(left: int) -> None:
    value, diagnostics = TreadmillData.decode(CS_WP8[: len(CS_WP8) - 3 + left])
    assert value.step_count is None
    assert (value.instantaneous_speed, value.total_distance, value.elapsed_time) == (300, 47, 58)
    assert codes(diagnostics) == ["short_step_count"]


def test_u8_pace_is_the_default_reading() -> None:
    # flags 0x0020: speed + instantaneous pace (u8 per the v1.0 table).
    value, diagnostics = TreadmillData.decode(bytes.fromhex("2000 2c01 05"))
    assert (value.instantaneous_speed, value.instantaneous_pace) == (300, 5)
    assert value.wide_pace is False
    assert diagnostics == ()


def test_u16_pace_device_is_detected_by_frame_length() -> None:
    # flags 0x0420: speed, instantaneous pace, elapsed time. As u16 pace the frame is 8
    # bytes: 2c01 = 300, 3412 = pace 0x1234, 3a00 = 58 s. Read as u8 pace it would be 7
    # bytes and the elapsed time would come out as 0x3a12.
    value, diagnostics = TreadmillData.decode(bytes.fromhex("2004 2c01 3412 3a00"))
    assert value.instantaneous_speed == 300
    assert value.instantaneous_pace == 0x1234
    assert value.elapsed_time == 58
    assert value.wide_pace is True
    assert codes(diagnostics) == ["u16_pace"]
    assert bytes(value) == bytes.fromhex("2004 2c01 3412 3a00")


def test_u16_pace_with_both_paces_and_step_count() -> None:
    value, diagnostics = TreadmillData.decode(bytes.fromhex("6020 2c01 3412 7856 030000"))
    assert (value.instantaneous_pace, value.average_pace, value.step_count) == (
        0x1234,
        0x5678,
        3,
    )
    assert codes(diagnostics) == ["u16_pace"]


def test_all_zero_idle_frames() -> None:
    value, diagnostics = TreadmillData.decode(bytes(4))  # flags 0: speed only, 0 km/h
    assert value == TreadmillData(instantaneous_speed=0)
    assert codes(diagnostics) == ["idle_all_zero"]
    value, diagnostics = TreadmillData.decode(bytes(20))
    assert value == TreadmillData(instantaneous_speed=0)
    assert sorted(codes(diagnostics)) == ["idle_all_zero", "trailing_bytes"]
    # A real frame with zero speed but "not available" energy is not all zero.
    _value, diagnostics = TreadmillData.decode(bytes.fromhex("842400000000000000ffffff0000000000"))
    assert diagnostics == ()


def test_reserved_flag_bits_are_ignored() -> None:
    value, diagnostics = TreadmillData.decode(bytes.fromhex("00c0 2c01"))
    assert value == TreadmillData(instantaneous_speed=300)
    assert codes(diagnostics) == ["reserved_flags"]


def test_not_available_values_become_none() -> None:
    # flags 0x1088: inclination + ramp, energy, force + power, all "not available".
    value = TreadmillData.from_bytes(bytes.fromhex("8810 0000 ff7f ff7f ffff ffff ff ff7f ff7f"))
    assert value.instantaneous_speed == 0
    for name in (
        "inclination",
        "ramp_angle",
        "total_energy",
        "energy_per_hour",
        "energy_per_minute",
        "force_on_belt",
        "power_output",
    ):
        assert getattr(value, name) is None, name


def test_signed_fields() -> None:
    value = TreadmillData.from_bytes(bytes.fromhex("0810 6400 f1ff 0080 9cff 0100"))
    assert (value.inclination, value.ramp_angle) == (-15, -0x8000)
    assert (value.force_on_belt, value.power_output) == (-100, 1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "2 bytes of flags"),
        (b"\x84", "2 bytes of flags"),
        (CS_WP8[:2], "14 bytes for flags 0x2484"),
        (CS_WP8[:13], "14 bytes for flags 0x2484"),
        (bytes.fromhex("fe1f"), "34 bytes for flags 0x1ffe"),
    ],
)
def test_truncated_treadmill_data_raises_the_typed_error(raw: bytes, expected: str) -> None:
    with pytest.raises(FtmsDecodeError) as caught:
        TreadmillData.decode(raw)
    error = caught.value
    assert isinstance(error, RemoteProtocolError)
    assert isinstance(error, TreadctlError)
    assert error.raw == raw
    assert error.raw_hex == raw.hex(" ")
    assert expected in error.expected
    assert error.what == "treadmill data (0x2acd)"
    assert f"raw [{raw.hex(' ')}]" in str(error)


# ----------------------------------------------------------------- Fitness Machine Status
@pytest.mark.parametrize(
    ("raw", "op", "parameter"),
    [
        ("040000", MachineStatusOp.STARTED_OR_RESUMED_BY_USER, ""),
        ("020100", MachineStatusOp.STOPPED_OR_PAUSED_BY_USER, "01"),
        ("05960000", MachineStatusOp.TARGET_SPEED_CHANGED, "9600"),
        ("0300", MachineStatusOp.STOPPED_BY_SAFETY_KEY, ""),
    ],
)
def test_padded_status_frames(raw: str, op: MachineStatusOp, parameter: str) -> None:
    value, diagnostics = MachineStatus.decode(bytes.fromhex(raw))
    assert value == MachineStatus(op, bytes.fromhex(parameter))
    assert codes(diagnostics) == ["padded_status"]


def test_short_status_keeps_the_event() -> None:
    # A "stopped by the user" without its parameter is still a stop (never lose the event).
    value, diagnostics = MachineStatus.decode(b"\x02")
    assert value.op == MachineStatusOp.STOPPED_OR_PAUSED_BY_USER
    assert value.stop_kind is None
    assert codes(diagnostics) == ["short_status"]
    value, _ = MachineStatus.decode(b"\x05\x96")
    assert value.op == MachineStatusOp.TARGET_SPEED_CHANGED
    assert value.target_speed is None


def test_reserved_status_op_is_kept_with_a_diagnostic() -> None:
    value, diagnostics = MachineStatus.decode(bytes.fromhex("160102"))
    assert (value.op, value.parameter) == (0x16, b"\x01\x02")
    assert codes(diagnostics) == ["unknown_status_op"]


def test_empty_status_raises() -> None:
    with pytest.raises(FtmsDecodeError, match="fitness machine status"):
        MachineStatus.decode(b"")


# ----------------------------------------------------------------- Control Point
def test_bare_result_byte() -> None:
    value, diagnostics = ControlResponse.decode(b"\x01")
    assert value == ControlResponse(UNKNOWN_REQUEST_OP, ResultCode.SUCCESS, b"", bare=True)
    assert value.ok
    assert codes(diagnostics) == ["bare_result"]
    value = ControlResponse.from_bytes(b"\x05", pending_op=OpCode.SET_TARGET_SPEED)
    assert value.request_op == OpCode.SET_TARGET_SPEED
    assert value.result == ResultCode.CONTROL_NOT_PERMITTED
    assert not value.ok


@pytest.mark.parametrize("raw", ["", "00", "07", "0201", "80", "8002"])
def test_broken_responses_raise(raw: str) -> None:
    with pytest.raises(FtmsDecodeError) as caught:
        ControlResponse.decode(bytes.fromhex(raw))
    assert caught.value.raw_hex == bytes.fromhex(raw).hex(" ")
    assert "80 <request op> <result>" in caught.value.expected


def test_response_parameter_and_unknown_result() -> None:
    value, diagnostics = ControlResponse.decode(bytes.fromhex("8014 01 02"))
    assert (value.request_op, value.result, value.parameter) == (0x14, 1, b"\x02")
    value, diagnostics = ControlResponse.decode(bytes.fromhex("800209"))
    assert (value.request_op, value.result, value.ok) == (OpCode.SET_TARGET_SPEED, 9, False)
    assert codes(diagnostics) == ["unknown_result"]


@pytest.mark.parametrize("op", [0x0E, 0x11, 0x14, 0x80, 0xFF])
def test_unknown_request_op_code(op: int) -> None:
    with pytest.raises(UnknownOpCodeError) as caught:
        parse_control_request(bytes((op, 0, 0)))
    assert caught.value.op_code == op
    assert isinstance(caught.value, FtmsDecodeError)


@pytest.mark.parametrize(
    ("raw", "op"),
    [("02", 0x02), ("0296", 0x02), ("02960000", 0x02), ("0803", 0x08), ("0800", 0x08),
     ("0700", 0x07), ("0c0102", 0x0C)],
)  # fmt: skip
def test_invalid_request_parameter(raw: str, op: int) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        parse_control_request(bytes.fromhex(raw))
    assert caught.value.op_code == op


def test_empty_request_raises() -> None:
    with pytest.raises(FtmsDecodeError) as caught:
        parse_control_request(b"")
    assert type(caught.value) is FtmsDecodeError


def test_request_class_from_bytes_checks_the_op_code() -> None:
    assert StopOrPause.from_bytes(b"\x08\x02") == StopOrPause(StopKind.PAUSE)
    with pytest.raises(FtmsDecodeError, match="not SetTargetSpeed"):
        SetTargetSpeed.from_bytes(b"\x08\x02")


# ----------------------------------------------------------------- Training Status
def test_training_status_empty_string_quirk() -> None:
    value, diagnostics = TrainingStatus.decode(bytes.fromhex("010d"))
    assert value == TrainingStatus(TrainingStatusCode.MANUAL_MODE, "")
    assert codes(diagnostics) == ["empty_training_string"]
    assert bytes(value) == bytes.fromhex("010d")


def test_training_status_without_and_with_a_string() -> None:
    assert TrainingStatus.decode(bytes.fromhex("000e")) == (
        TrainingStatus(TrainingStatusCode.PRE_WORKOUT, None),
        (),
    )
    value, diagnostics = TrainingStatus.decode(b"\x03\x0dQuick")
    assert value == TrainingStatus(TrainingStatusCode.MANUAL_MODE, "Quick", extended=True)
    assert diagnostics == ()


def test_training_status_lenient_cases() -> None:
    value, diagnostics = TrainingStatus.decode(bytes.fromhex("000fff"))
    assert value == TrainingStatus(TrainingStatusCode.POST_WORKOUT)
    assert codes(diagnostics) == ["trailing_bytes"]
    value, diagnostics = TrainingStatus.decode(bytes.fromhex("0101ff41"))
    assert value.text == "\ufffdA"
    assert codes(diagnostics) == ["invalid_utf8"]
    value, diagnostics = TrainingStatus.decode(bytes.fromhex("8120"))
    assert value.status == 0x20
    assert value.code is None
    assert codes(diagnostics) == ["reserved_flags", "empty_training_string"]


@pytest.mark.parametrize("raw", ["", "01"])
def test_truncated_training_status_raises(raw: str) -> None:
    with pytest.raises(FtmsDecodeError, match="training status"):
        TrainingStatus.decode(bytes.fromhex(raw))


# ----------------------------------------------------------------- read-only characteristics
def test_short_or_impossible_reads_raise() -> None:
    with pytest.raises(FtmsDecodeError, match="8 bytes"):
        FitnessMachineFeature.decode(bytes(7))
    with pytest.raises(FtmsDecodeError, match="6 bytes"):
        SupportedSpeedRange.decode(bytes.fromhex("6400580232"))
    with pytest.raises(FtmsDecodeError, match="impossible"):
        SupportedSpeedRange.decode(bytes.fromhex("580264003200"))  # min 600 > max 100
    with pytest.raises(FtmsDecodeError, match="impossible"):
        SupportedInclinationRange.decode(bytes.fromhex("0a00f6ff0500"))  # 1.0 % > -1.0 %
    with pytest.raises(FtmsDecodeError, match="3 bytes"):
        FtmsServiceData.decode(b"\x01\x01")


def test_reads_with_trailing_bytes() -> None:
    value, diagnostics = SupportedSpeedRange.decode(bytes.fromhex("64005802320000"))
    assert value == SupportedSpeedRange(100, 600, 50)
    assert codes(diagnostics) == ["trailing_bytes"]
    value2, diagnostics = FtmsServiceData.decode(bytes.fromhex("0301000a"))
    assert value2.available
    assert value2.is_treadmill
    assert codes(diagnostics) == ["reserved_flags", "trailing_bytes"]
