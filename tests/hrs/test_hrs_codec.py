"""The Heart Rate Service codec: golden frames, round trips, Bumble's decoder as an oracle,
and random bytes that never raise anything but HrsDecodeError."""

from __future__ import annotations

import pytest
from bumble.profiles.heart_rate_service import HeartRateService
from hypothesis import given, settings
from hypothesis import strategies as st

from treadctl.hrs import (
    BatteryLevel,
    BodySensorLocation,
    HeartRateMeasurement,
    HrsDecodeError,
    SensorContact,
)

EXAMPLES = max(settings().max_examples, 2_000)

measurements = st.builds(
    HeartRateMeasurement,
    heart_rate=st.integers(0, 255),
    contact=st.sampled_from(SensorContact),
    energy_expended=st.none() | st.integers(0, 0xFFFF),
    rr_intervals=st.none() | st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=9).map(tuple),
    wide=st.just(False),
) | st.builds(
    HeartRateMeasurement,
    heart_rate=st.integers(0, 0xFFFF),
    contact=st.sampled_from(SensorContact),
    energy_expended=st.none() | st.integers(0, 0xFFFF),
    rr_intervals=st.none() | st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=9).map(tuple),
    wide=st.just(True),
)


@pytest.mark.parametrize(
    ("hex_frame", "expected"),
    [
        # u8 value, no contact support: the simplest strap
        ("0048", HeartRateMeasurement(72)),
        # chest strap with contact detected and one RR interval (812/1024 s)
        ("16482c03", HeartRateMeasurement(72, SensorContact.DETECTED, None, (812,))),
        # contact supported, not detected
        ("0400", HeartRateMeasurement(0, SensorContact.NOT_DETECTED)),
        # u16 value 0x0150 = 336: never read as byte 1 (0x50 = 80)
        ("015001", HeartRateMeasurement(336, wide=True)),
        # u16 format for a small value is legal
        ("015a00", HeartRateMeasurement(90, wide=True)),
        # energy 0x0102 kJ and two RR intervals
        ("1e64020100040004", HeartRateMeasurement(100, SensorContact.DETECTED, 258, (1024, 1024))),
    ],
)
def test_golden(hex_frame: str, expected: HeartRateMeasurement) -> None:
    data = bytes.fromhex(hex_frame)
    assert HeartRateMeasurement.decode(data) == (expected, ())
    assert bytes(expected) == data


def test_contact_bit_without_support_means_not_supported() -> None:
    value, diagnostics = HeartRateMeasurement.decode(bytes.fromhex("0250"))
    assert value.contact is SensorContact.NOT_SUPPORTED
    assert diagnostics == ()


@pytest.mark.parametrize(
    ("hex_frame", "codes"),
    [
        ("e048", {"reserved_flags"}),  # reserved bits 5-7
        ("10482c0301", {"trailing_bytes"}),  # odd byte after the RR intervals
        ("1048", {"empty_rr"}),  # RR flag, no interval
        ("004899", {"trailing_bytes"}),
    ],
)
def test_leniency(hex_frame: str, codes: set[str]) -> None:
    _value, diagnostics = HeartRateMeasurement.decode(bytes.fromhex(hex_frame))
    assert {d.code for d in diagnostics} == codes


@pytest.mark.parametrize("hex_frame", ["", "00", "0150", "0848", "084801"])
def test_truncated_raises_with_raw_hex(hex_frame: str) -> None:
    with pytest.raises(HrsDecodeError) as info:
        HeartRateMeasurement.from_bytes(bytes.fromhex(hex_frame))
    assert info.value.raw == bytes.fromhex(hex_frame)
    assert info.value.raw_hex == bytes.fromhex(hex_frame).hex(" ")
    assert "0x2a37" in str(info.value)


def test_out_of_range_values_are_refused() -> None:
    with pytest.raises(ValueError, match="heart_rate"):
        HeartRateMeasurement(256)  # u8 format
    with pytest.raises(ValueError, match="rr interval"):
        HeartRateMeasurement(60, rr_intervals=(0x10000,))
    with pytest.raises(ValueError, match="heart_rate"):
        HeartRateMeasurement(True)


def test_rr_seconds() -> None:
    assert HeartRateMeasurement(60, rr_intervals=(1024, 512)).rr_seconds == (1.0, 0.5)


@given(measurements)
def test_round_trip(value: HeartRateMeasurement) -> None:
    assert HeartRateMeasurement.decode(bytes(value)) == (value, ())


@given(measurements)
def test_bumble_decoder_agrees(value: HeartRateMeasurement) -> None:
    """Bumble's own Heart Rate profile decodes our frames to the same numbers."""
    theirs = HeartRateService.HeartRateMeasurement.from_bytes(bytes(value))
    assert theirs.heart_rate == value.heart_rate
    expected_contact = {
        SensorContact.NOT_SUPPORTED: None,
        SensorContact.NOT_DETECTED: False,
        SensorContact.DETECTED: True,
    }[value.contact]
    assert theirs.sensor_contact_detected == expected_contact
    assert theirs.energy_expended == value.energy_expended
    if value.rr_intervals is None:
        assert theirs.rr_intervals is None
    else:
        assert tuple(theirs.rr_intervals or ()) == value.rr_seconds


@settings(max_examples=EXAMPLES)
@given(st.binary(max_size=24))
def test_random_bytes_decode_or_raise_typed(data: bytes) -> None:
    for decoder in (HeartRateMeasurement, BodySensorLocation, BatteryLevel):
        try:
            value, _diagnostics = decoder.decode(data)
        except HrsDecodeError:
            continue
        # a decoded value is valid (rebuilding it runs the checks) and a fixed point
        again, _ = type(value).decode(bytes(value))
        assert again == value


@given(st.integers(0, 255))
def test_location_and_battery(code: int) -> None:
    location, diagnostics = BodySensorLocation.decode(bytes([code]))
    assert location.code == code
    assert bool(diagnostics) == (code > 6)
    battery, diagnostics = BatteryLevel.decode(bytes([code]))
    assert battery.valid == (code <= 100)
    assert bool(diagnostics) == (code > 100)
    assert bytes(battery) == bytes(location) == bytes([code])


def test_location_names() -> None:
    assert BodySensorLocation(1).name == "chest"
    assert BodySensorLocation(9).name == "reserved_9"
    with pytest.raises(HrsDecodeError):
        BatteryLevel.from_bytes(b"")
    assert {d.code for d in BatteryLevel.decode(b"\x50\x00")[1]} == {"trailing_bytes"}
