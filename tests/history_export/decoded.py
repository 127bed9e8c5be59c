"""Independent readers for the exported files: fitdecode for FIT, xmlschema + Garmin's XSD for TCX.

The TCX v2 schema is Garmin's TrainingCenterDatabasev2.xsd as shipped by the Debian package
``pytrainer`` (/usr/share/pytrainer/schemas/GarminTrainingCenterDatabase_v2.xsd);
``scripts/bootstrap --with-test-tools`` extracts that one file into .venv/share/tcx/ when the
package is not installed. Without it the schema test is skipped, except under CI where it fails.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import fitdecode
import pytest
import xmlschema

REPO = Path(__file__).resolve().parents[2]
XSD_NAME = "GarminTrainingCenterDatabase_v2.xsd"
XSD_PLACES = (
    Path(os.environ.get("TREADCTL_TCX_XSD", "/nonexistent")),
    REPO / ".venv" / "share" / "tcx" / XSD_NAME,
    Path("/usr/share/pytrainer/schemas") / XSD_NAME,
)


@dataclass
class Message:
    name: str
    values: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


def decode_fit(data: bytes) -> list[Message]:
    """Every data message, in file order (fitdecode checks the header and file CRCs)."""
    out: list[Message] = []
    with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage):
                msg = Message(frame.name)
                for f in frame.fields:
                    msg.values[f.name] = f.value
                    msg.raw[f.name] = f.raw_value
                out.append(msg)
    return out


def named(messages: list[Message], name: str) -> list[Message]:
    return [m for m in messages if m.name == name]


@cache
def _schema(path: str) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(path)


def tcx_schema() -> xmlschema.XMLSchema:
    for place in XSD_PLACES:
        if place.is_file():
            return _schema(str(place))
    message = f"{XSD_NAME} not found (scripts/bootstrap --with-test-tools installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
