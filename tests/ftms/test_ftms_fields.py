"""The one table of Treadmill Data fields (treadctl.ftms.fields) against FTMS v1.0 §4.4.1
(docs/references.md#ftms-treadmill-data) and against everything that reads it."""

from __future__ import annotations

import dataclasses

from treadctl.ble.observation_map import reading_from
from treadctl.ftms import TreadmillData
from treadctl.ftms.fields import BY_NAME, TREADMILL_DATA_FIELDS, bit_size
from treadctl.observations import Reading

# FTMS v1.0 Table 4.7 (and the vendor step count on bit 13), as docs/references.md lists it.
SPEC_BYTES = {
    0: 2,
    1: 2,
    2: 3,
    3: 4,
    4: 4,
    5: 1,
    6: 1,
    7: 5,
    8: 1,
    9: 1,
    10: 2,
    11: 2,
    12: 4,
    13: 3,
}


def test_bytes_per_flag_bit_are_the_spec_table() -> None:
    assert {bit: bit_size(bit) for bit in SPEC_BYTES} == SPEC_BYTES


def test_units_are_the_spec_units() -> None:
    shown = {f.name: f.show(1) for f in TREADMILL_DATA_FIELDS}
    assert shown["instantaneous_speed"] == "0.01 km/h"
    assert shown["total_distance"] == "1 m"
    assert shown["inclination"] == "0.1 %"
    assert shown["ramp_angle"] == "0.1 deg"
    assert shown["positive_elevation_gain"] == "0.1 m"
    assert shown["instantaneous_pace"] == "0.1 km/min"
    assert shown["metabolic_equivalent"] == "0.1"
    assert shown["energy_per_hour"] == "1 kcal/h"
    assert {f.name for f in TREADMILL_DATA_FIELDS if f.not_available is not None} == {
        "inclination",
        "ramp_angle",
        "total_energy",
        "energy_per_hour",
        "energy_per_minute",
        "force_on_belt",
        "power_output",
    }


def test_the_record_type_has_exactly_the_table_fields_in_wire_order() -> None:
    names = [f.name for f in dataclasses.fields(TreadmillData)]
    assert names[1:-1] == [f.name for f in TREADMILL_DATA_FIELDS]


def test_every_reading_attribute_comes_from_one_table_field() -> None:
    readings = [f.reading for f in TREADMILL_DATA_FIELDS if f.reading]
    attributes = [f.name for f in dataclasses.fields(Reading) if f.name != "at"]
    assert sorted(readings) == sorted(attributes)


def test_a_record_becomes_a_reading_field_by_field() -> None:
    record = TreadmillData(
        instantaneous_speed=123,
        inclination=-5,
        total_distance=70_000,
        elapsed_time=61,
        remaining_time=9,
        total_energy=12,
        heart_rate=95,
        step_count=1_000_000,
    )
    assert reading_from(record, 5.0) == Reading(
        at=5.0,
        speed=123,
        incline=-5,
        distance_m=70_000,
        elapsed_s=61,
        remaining_s=9,
        energy_kcal=12,
        heart_rate_bpm=95,
        steps=1_000_000,
    )
    assert reading_from(TreadmillData(instantaneous_speed=0), 1.0) == Reading(at=1.0, speed=0)
    assert BY_NAME["heart_rate"].reading == "heart_rate_bpm"
