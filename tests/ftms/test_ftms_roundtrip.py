"""Every wire type round-trips over its whole valid range: from_bytes(bytes(x)) == x."""

from __future__ import annotations

from hypothesis import given

import tests.ftms.ftms_strategies as s
from treadctl.ftms import (
    ControlRequest,
    ControlResponse,
    FitnessMachineFeature,
    FtmsServiceData,
    MachineStatus,
    SupportedInclinationRange,
    SupportedSpeedRange,
    TrainingStatus,
    TreadmillData,
    parse_control_request,
)


@given(s.treadmill_data())
def test_treadmill_data(value: TreadmillData) -> None:
    data = bytes(value)
    decoded, diagnostics = TreadmillData.decode(data)
    assert decoded == value
    codes = {d.code for d in diagnostics} - {"idle_all_zero"}
    assert codes == ({"u16_pace"} if value.wide_pace else set())


@given(s.features)
def test_feature(value: FitnessMachineFeature) -> None:
    assert FitnessMachineFeature.decode(bytes(value)) == (value, ())
    assert len(bytes(value)) == 8


@given(s.training_statuses)
def test_training_status(value: TrainingStatus) -> None:
    assert TrainingStatus.from_bytes(bytes(value)) == value


@given(s.speed_ranges)
def test_speed_range(value: SupportedSpeedRange) -> None:
    assert SupportedSpeedRange.decode(bytes(value)) == (value, ())


@given(s.incline_ranges)
def test_incline_range(value: SupportedInclinationRange) -> None:
    assert SupportedInclinationRange.decode(bytes(value)) == (value, ())


@given(s.service_data)
def test_service_data(value: FtmsServiceData) -> None:
    assert FtmsServiceData.decode(bytes(value)) == (value, ())


@given(s.control_requests)
def test_control_request(value: ControlRequest) -> None:
    data = bytes(value)
    assert data[0] == value.op_code
    assert parse_control_request(data) == value
    assert type(value).from_bytes(data) == value


@given(s.control_responses)
def test_control_response(value: ControlResponse) -> None:
    assert ControlResponse.from_bytes(bytes(value)) == value


@given(s.machine_statuses())
def test_machine_status(value: MachineStatus) -> None:
    assert MachineStatus.from_bytes(bytes(value)) == value
