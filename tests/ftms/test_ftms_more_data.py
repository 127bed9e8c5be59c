"""More Data (FTMS v1.0 §4.19): splitting records for an ATT MTU and merging them back."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tests.ftms.ftms_strategies as s
from treadctl.ftms import MoreDataAssembler, TreadmillData, split_treadmill_data

# One value per field, none of them a "not available" value, with distinct bytes.
FULL_VALUES: dict[str, int] = {
    "average_speed": 0x0102,
    "total_distance": 0x030405,
    "inclination": -0x0607,
    "ramp_angle": 0x0809,
    "positive_elevation_gain": 0x0A0B,
    "negative_elevation_gain": 0x0C0D,
    "instantaneous_pace": 0x0E,
    "average_pace": 0x0F,
    "total_energy": 0x1011,
    "energy_per_hour": 0x1213,
    "energy_per_minute": 0x14,
    "heart_rate": 0x15,
    "metabolic_equivalent": 0x16,
    "elapsed_time": 0x1718,
    "remaining_time": 0x191A,
    "force_on_belt": -0x1B1C,
    "power_output": 0x1D1E,
}
# The fields of flag bits 1..12 (Table 4.7) and of the vendor bit 13.
GROUPS: dict[int, tuple[str, ...]] = {
    1: ("average_speed",),
    2: ("total_distance",),
    3: ("inclination", "ramp_angle"),
    4: ("positive_elevation_gain", "negative_elevation_gain"),
    5: ("instantaneous_pace",),
    6: ("average_pace",),
    7: ("total_energy", "energy_per_hour", "energy_per_minute"),
    8: ("heart_rate",),
    9: ("metabolic_equivalent",),
    10: ("elapsed_time",),
    11: ("remaining_time",),
    12: ("force_on_belt", "power_output"),
}


def record_for(flags: int) -> TreadmillData:
    """A complete record (speed 3.00 km/h) with the fields of ``flags`` bits 1..13 set."""
    values: dict[str, Any] = {}
    for bit, names in GROUPS.items():
        if flags >> bit & 1:
            values.update({name: FULL_VALUES[name] for name in names})
    step_count = 0x1F2021 if flags >> 13 & 1 else None
    return TreadmillData(instantaneous_speed=300, step_count=step_count, **values)


def flags_of(fragment: bytes) -> int:
    return fragment[0] | fragment[1] << 8


def check_split(record: TreadmillData, mtu: int) -> list[bytes]:
    fragments: list[bytes] = split_treadmill_data(record, mtu)
    whole = bytes(record)
    if len(whole) <= mtu - 3:
        assert fragments == [whole]
    assert all(len(f) <= mtu - 3 for f in fragments)
    # Every fragment but the last has More Data = 1 (no speed); the last has the speed.
    assert [flags_of(f) & 1 for f in fragments] == [1] * (len(fragments) - 1) + [
        0 if record.instantaneous_speed is not None else 1
    ]
    # Each field group appears in exactly one fragment.
    seen = 0
    for fragment in fragments:
        bits = flags_of(fragment) & ~1
        assert bits & seen == 0
        seen |= bits
    assert seen == flags_of(whole) & ~1
    assembler = MoreDataAssembler()
    results = [assembler.feed(TreadmillData.from_bytes(f)) for f in fragments]
    if record.instantaneous_speed is not None:
        assert results[:-1] == [None] * (len(fragments) - 1)
        assert results[-1] == record
        assert not assembler.pending
    return fragments


def test_full_record_is_34_bytes_and_splits_in_two_at_mtu_23() -> None:
    record = record_for(0x1FFE)  # all 13 standard flags (bit 0 clear: speed present)
    assert len(bytes(record)) == 34
    fragments = check_split(record, 23)
    # Payload 20 bytes. Bits 1-6 fill the first fragment (15 bytes of fields); bits 7-12 and
    # the speed (2 bytes) go in the last one.
    assert [f.hex(" ") for f in fragments] == [
        # flags 0x007f | avg 0x0102 | dist 0x030405 | incl -0x0607, ramp 0x0809 |
        # elevation +0x0a0b -0x0c0d | pace 0x0e | avg pace 0x0f
        "7f 00 02 01 05 04 03 f9 f9 09 08 0b 0a 0d 0c 0e 0f",
        # flags 0x1f80 | speed 300 | energy 0x1011 0x1213 0x14 | hr 0x15 | MET 0x16 |
        # elapsed 0x1718 | remaining 0x191a | force -0x1b1c | power 0x1d1e
        "80 1f 2c 01 11 10 13 12 14 15 16 18 17 1a 19 e4 e4 1e 1d",
    ]


@pytest.mark.parametrize("step", [0, 1 << 13], ids=["standard", "with-steps"])
def test_every_flag_combination_splits_and_reassembles_at_mtu_23(step: int) -> None:
    for groups in range(1 << 12):
        check_split(record_for(groups << 1 | step), 23)


@given(record=s.treadmill_data(complete=True), mtu=st.integers(23, 64))
def test_any_record_any_mtu(record: TreadmillData, mtu: int) -> None:
    check_split(record, mtu)


def test_split_refuses_an_mtu_below_the_le_minimum() -> None:
    with pytest.raises(ValueError, match="at least 23"):
        split_treadmill_data(record_for(0x1FFE), 22)


def test_single_frame_passes_through_the_assembler_unchanged() -> None:
    assembler = MoreDataAssembler()
    frame = TreadmillData.from_bytes(bytes.fromhex("84242c012f000002000000003a00560000"))
    assert assembler.feed(frame) is frame
    assert not assembler.pending


def test_reset_drops_a_partial_record() -> None:
    fragments = split_treadmill_data(record_for(0x1FFE), 23)
    assembler = MoreDataAssembler()
    assert assembler.feed(TreadmillData.from_bytes(fragments[0])) is None
    pending_after_first_fragment = assembler.pending
    assembler.reset()  # e.g. the link dropped (§4.18)
    assert pending_after_first_fragment
    assert not assembler.pending
    last = TreadmillData.from_bytes(fragments[-1])
    merged = assembler.feed(last)
    assert merged == last  # nothing of the first fragment leaked into the next record
    assert merged is not None
    assert merged.average_speed is None


def test_later_fragment_value_wins_and_fragments_merge_across_groups() -> None:
    assembler = MoreDataAssembler()
    assert assembler.feed(TreadmillData(more_data=True, elapsed_time=10)) is None
    assert assembler.feed(TreadmillData(more_data=True, elapsed_time=11, heart_rate=90)) is None
    merged = assembler.feed(TreadmillData(instantaneous_speed=250, total_distance=7))
    assert merged == TreadmillData(
        instantaneous_speed=250, total_distance=7, elapsed_time=11, heart_rate=90
    )


def test_wide_pace_survives_fragmentation() -> None:
    record = TreadmillData(
        instantaneous_speed=120,
        instantaneous_pace=0x1234,
        average_pace=0x0456,
        total_energy=5,
        energy_per_hour=6,
        energy_per_minute=7,
        force_on_belt=1,
        power_output=2,
        elapsed_time=3,
        remaining_time=4,
        wide_pace=True,
    )
    assert len(bytes(record)) > 20
    check_split(record, 23)
