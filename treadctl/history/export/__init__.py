"""Exports of a recorded session: FIT, TCX and CSV, each a pure function to bytes.

``export_session(record, samples, fmt)`` cuts the samples into segments (one lap each) and calls
the format's encoder; writing the bytes to a file is the caller's (the CLI's) business.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from treadctl.history.export.csvfile import encode_csv
from treadctl.history.export.fit import encode_fit
from treadctl.history.export.segments import Segment, laps
from treadctl.history.export.tcx import encode_tcx
from treadctl.history.records import Sample, SessionRecord

Encoder = Callable[[SessionRecord, Sequence[Sample], Sequence[Segment]], bytes]


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    suffix: str
    encode: Encoder


FORMATS: dict[str, Format] = {
    "fit": Format("fit", ".fit", encode_fit),
    "tcx": Format("tcx", ".tcx", encode_tcx),
    "csv": Format("csv", ".csv", encode_csv),
}


class UnknownFormatError(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown export format {name!r} (known: {', '.join(FORMATS)})")
        self.name = name


def export_session(record: SessionRecord, samples: Sequence[Sample], fmt: str) -> bytes:
    """The session in format ``fmt`` ("fit", "tcx" or "csv")."""
    try:
        spec = FORMATS[fmt]
    except KeyError:
        raise UnknownFormatError(fmt) from None
    return spec.encode(record, samples, laps(record, samples))


__all__ = ["FORMATS", "Format", "UnknownFormatError", "export_session"]
