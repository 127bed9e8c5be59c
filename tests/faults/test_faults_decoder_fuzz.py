"""Decoder fuzz along the path a notification really takes inside the link.

``tests/ftms/test_ftms_fuzz.py`` already feeds random bytes to each decoder alone (20,700 per
CI run). This module does not repeat that: it fuzzes *sequences* of notifications through the
same chain as ``treadctl.ble.link`` (FTMS v1.0 §4.4 Treadmill Data -> §4.19 More Data assembly
-> ``reading_from``; §4.17 Machine Status; §4.10 Training Status; §4.16.2 control point
indications decoded against a pending op code), plus every strict ``from_bytes`` constructor
and ``describe`` of whatever decodes. Frames are half random bytes and half *structured*
(a real flags field followed by a body of about the right length, cut or padded), so the
lenient paths are reached too.

The only exception allowed to escape is ``FtmsDecodeError`` (a typed protocol error carrying
the raw bytes). CI runs a small share (``CI_EXAMPLES`` sequences); the dedicated run
(``scripts/fuzz``) runs ``DEDICATED_EXAMPLES`` sequences and asserts at least 100,000 frames.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.faults.helpers import LONG_RUN
from treadctl.ble.observation_map import reading_from
from treadctl.ftms import (
    ControlResponse,
    FitnessMachineFeature,
    FtmsDecodeError,
    FtmsServiceData,
    MachineStatus,
    MoreDataAssembler,
    OpCode,
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
    StopOrPause,
    SupportedInclinationRange,
    SupportedSpeedRange,
    TrainingStatus,
    TreadmillData,
    parse_control_request,
)
from treadctl.ftms.describe import describe
from treadctl.ftms.fields import STANDARD_BITS, bit_size

pytestmark = pytest.mark.faults

CI_EXAMPLES = 300
"""Sequences per CI run (a small share: tests/ftms carries the CI fuzz load)."""
DEDICATED_EXAMPLES = 40_000
"""Sequences in the dedicated run; each holds 1-8 frames (>= 100,000 frames asserted)."""
DEDICATED_MIN_FRAMES = 100_000
"""Issue 9: at least 100,000 inputs in the dedicated run."""

CHANNELS = ("2acd", "2ada", "2ad3", "2ad9", "strict")
"""Where a frame goes: Treadmill Data, Machine Status, Training Status, control point
indication, or every strict ``from_bytes`` (the feature / range / service data reads and the
control point requests the simulator parses)."""

STRICT: tuple[Callable[[bytes], Any], ...] = (
    FitnessMachineFeature.from_bytes,
    SupportedSpeedRange.from_bytes,
    SupportedInclinationRange.from_bytes,
    FtmsServiceData.from_bytes,
    TreadmillData.from_bytes,
    MachineStatus.from_bytes,
    TrainingStatus.from_bytes,
    ControlResponse.from_bytes,
    parse_control_request,
    RequestControl.from_bytes,
    Reset.from_bytes,
    SetTargetSpeed.from_bytes,
    SetTargetInclination.from_bytes,
    SetTargetResistance.from_bytes,
    SetTargetPower.from_bytes,
    SetTargetHeartRate.from_bytes,
    StartOrResume.from_bytes,
    StopOrPause.from_bytes,
    SetTargetedExpendedEnergy.from_bytes,
    SetTargetedSteps.from_bytes,
    SetTargetedStrides.from_bytes,
    SetTargetedDistance.from_bytes,
    SetTargetedTrainingTime.from_bytes,
)

# Treadmill Data body length per flag bit (FTMS v1.0 §4.4.1, Table 4.7), from the one field
# table: bit -> bytes. Bit 0 is inverted (More Data: 0 means Instantaneous Speed present).
_FIELD_BYTES = {bit: bit_size(bit) for bit in range(1, STANDARD_BITS)}


def _body_length(flags: int) -> int:
    length = 0 if flags & 1 else 2
    return length + sum(n for bit, n in _FIELD_BYTES.items() if flags & (1 << bit))


@st.composite
def structured_treadmill_frame(draw: st.DrawFn) -> bytes:
    """Real flags, a body of the right length give or take a few bytes (truncated/padded)."""
    flags = draw(st.integers(0, 0xFFFF))
    length = max(0, _body_length(flags) + draw(st.integers(-4, 4)))
    return flags.to_bytes(2, "little") + draw(st.binary(min_size=length, max_size=length))


@st.composite
def structured_status_frame(draw: st.DrawFn) -> bytes:
    """A known Machine Status op (FTMS v1.0 §4.17, Table 4.26) with 0-5 parameter bytes."""
    op = draw(st.sampled_from([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0D, 0x0E, 0xFF, 0x00]))
    return bytes([op]) + draw(st.binary(max_size=5))


@st.composite
def structured_indication(draw: st.DrawFn) -> bytes:
    """``80 op result [param]`` with plausible and implausible ops/results, or a bare byte."""
    if draw(st.booleans()):
        return bytes([draw(st.integers(0, 7))])
    op = draw(st.sampled_from([int(o) for o in OpCode] + [0x00, 0x7F, 0x80, 0xFF]))
    return bytes([0x80, op, draw(st.integers(0, 7))]) + draw(st.binary(max_size=3))


_FRAME = {
    "2acd": st.binary(max_size=40) | structured_treadmill_frame(),
    "2ada": st.binary(max_size=8) | structured_status_frame(),
    "2ad3": st.binary(max_size=24),
    "2ad9": st.binary(max_size=8) | structured_indication(),
    "strict": st.binary(max_size=24),
}

notification = st.sampled_from(CHANNELS).flatmap(
    lambda channel: st.tuples(st.just(channel), _FRAME[channel])
)
sequences = st.lists(notification, min_size=1, max_size=8)
pending_ops = st.none() | st.sampled_from([int(o) for o in OpCode])


def _allowed(decode: Callable[[bytes], Any], data: bytes) -> Any:
    """Run one decode; an FtmsDecodeError (with its raw bytes) is the only allowed failure."""
    failure: FtmsDecodeError | None = None
    try:
        value = decode(data)
    except FtmsDecodeError as error:
        failure = error
    if failure is not None:
        assert failure.expected, "a typed decode error names what was expected"
        return None
    return value


def run_sequence(frames: list[tuple[str, bytes]], pending_op: int | None) -> None:
    """The link's notification handling, minus the radio."""
    assembler = MoreDataAssembler()

    def indication(data: bytes) -> Any:
        return ControlResponse.decode(data, pending_op=pending_op)

    for i, (channel, data) in enumerate(frames):
        if channel == "2acd":
            decoded = _allowed(TreadmillData.decode, data)
            if decoded is None:
                continue
            fragment = decoded[0]
            describe(fragment)
            record = assembler.feed(fragment)
            if record is not None:
                reading = reading_from(record, float(i))
                assert reading.speed is None or reading.speed >= 0
                describe(record)
            continue
        decoders: tuple[Callable[[bytes], Any], ...] = {
            "2ada": (MachineStatus.decode,),
            "2ad3": (TrainingStatus.decode,),
            "2ad9": (indication,),
        }.get(channel, STRICT)
        for decode in decoders:
            value = _allowed(decode, data)
            if isinstance(value, tuple):
                value = value[0]  # decode() returns (value, diagnostics)
            if value is not None:
                describe(value)


def _fuzz(examples: int) -> int:
    """Run ``examples`` sequences; return how many frames went through."""
    frames_seen = 0

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(frames=sequences, pending_op=pending_ops)
    def check(frames: list[tuple[str, bytes]], pending_op: int | None) -> None:
        nonlocal frames_seen
        frames_seen += len(frames)
        run_sequence(frames, pending_op)

    check()
    return frames_seen


def test_notification_sequences_fuzz_ci() -> None:
    """CI share: only FtmsDecodeError escapes the notification path."""
    assert _fuzz(CI_EXAMPLES) >= CI_EXAMPLES


@pytest.mark.slow
@LONG_RUN
def test_notification_sequences_fuzz_dedicated() -> None:
    """The dedicated run (scripts/fuzz): >= 100,000 frames, only FtmsDecodeError escapes."""
    frames = _fuzz(DEDICATED_EXAMPLES)
    assert frames >= DEDICATED_MIN_FRAMES
    report = os.environ.get("TREADCTL_FAULT_REPORT")
    if report:
        with Path(report).open("a", encoding="utf-8") as out:
            out.write(json.dumps({"run": "decoder_fuzz", "sequences": DEDICATED_EXAMPLES,
                                  "frames": frames, "escaped": 0}) + "\n")  # fmt: skip
