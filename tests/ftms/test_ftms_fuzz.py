"""Random bytes into every decoder: a value or FtmsDecodeError, never another exception.

CI runs ``EXAMPLES`` examples per decoder (9 decoders, >= 20,000 in all); the ``fuzz``
hypothesis profile (TREADCTL_HYPOTHESIS=fuzz) raises that to 100,000 per decoder. Every value
that decodes must also satisfy its own invariants (rebuilding it through ``__init__`` runs the
range checks) and be a fixed point of encode then decode.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tests.ftms.ftms_strategies as s
from treadctl.ftms import (
    ControlResponse,
    FitnessMachineFeature,
    FtmsDecodeError,
    FtmsServiceData,
    MachineStatus,
    SupportedInclinationRange,
    SupportedSpeedRange,
    TrainingStatus,
    TreadmillData,
    parse_control_request,
)

EXAMPLES = max(settings().max_examples, 2_300)
"""Per decoder: 9 x 2,300 = 20,700 in CI; the fuzz profile's 100,000 when it is loaded."""


def _request(data: bytes) -> tuple[Any, tuple[()]]:
    return parse_control_request(data), ()


DECODERS: dict[str, Callable[[bytes], tuple[Any, Any]]] = {
    "treadmill_data": TreadmillData.decode,
    "feature": FitnessMachineFeature.decode,
    "training_status": TrainingStatus.decode,
    "speed_range": SupportedSpeedRange.decode,
    "incline_range": SupportedInclinationRange.decode,
    "control_request": _request,
    "control_response": ControlResponse.decode,
    "machine_status": MachineStatus.decode,
    "service_data": FtmsServiceData.decode,
}


def check_decoder(name: str, data: bytes) -> bool:
    """Decode ``data``; True if it decoded. Fails the test on any non-FtmsDecodeError."""
    decoder = DECODERS[name]
    failure: FtmsDecodeError | None = None
    try:
        value, _diagnostics = decoder(data)
    except FtmsDecodeError as error:
        failure = error
    if failure is not None:
        assert failure.raw == data
        assert failure.raw_hex == data.hex(" ")
        assert failure.expected
        return False
    assert dataclasses.replace(value) == value  # invariants hold (__post_init__ runs)
    again, _ = decoder(bytes(value))
    assert again == value
    return True


@pytest.mark.parametrize("name", sorted(DECODERS))
@settings(max_examples=EXAMPLES)
@given(data=st.binary(max_size=64))
def test_random_bytes(name: str, data: bytes) -> None:
    check_decoder(name, data)


@settings(max_examples=max(settings().max_examples, 400))
@given(record=s.treadmill_data(), cut=st.integers(0, 40), tail=st.binary(max_size=6))
def test_damaged_treadmill_frames(record: TreadmillData, cut: int, tail: bytes) -> None:
    """Valid frames cut short or lengthened: the lenient paths get exercised, not just errors."""
    data = bytes(record)
    check_decoder("treadmill_data", data[: len(data) - cut] + tail)


def test_seeded_random_sweep() -> None:
    """A fixed, reproducible sweep: 5,000 random frames per decoder, 0-64 bytes long."""
    rng = random.Random(20261121)
    decoded = dict.fromkeys(DECODERS, 0)
    for _ in range(5_000):
        data = rng.randbytes(rng.randint(0, 64))
        for name in DECODERS:
            decoded[name] += check_decoder(name, data)
    # Sanity: the sweep reaches the success path of the permissive decoders.
    assert decoded["machine_status"] > 4_000
    assert decoded["feature"] > 4_000
