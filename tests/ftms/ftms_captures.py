"""Loads the real-device captures (kept in tests/data, docs/references.md#captures, so the
golden tests always run: a skipped golden test would hide a broken decoder)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CAPTURES_DIR = Path(__file__).resolve().parents[1] / "data"
CS_WP8 = CAPTURES_DIR / "citysports-cs-wp8.jsonl"


@dataclass(frozen=True)
class Frame:
    index: int
    characteristic: str
    raw: bytes
    direction: str
    expected: dict[str, Any]


def load_frames(path: Path = CS_WP8) -> list[Frame]:
    """The frames of a JSON-lines capture, in file order."""
    frames = []
    with path.open(encoding="utf-8") as handle:
        for index, line in enumerate(handle):
            record = json.loads(line)
            frames.append(
                Frame(
                    index=index,
                    characteristic=record["characteristic"],
                    raw=bytes.fromhex(record["hex"]),
                    direction=record["direction"],
                    expected=record.get("expected") or {},
                )
            )
    return frames


def cs_wp8_frames() -> list[Frame]:
    """The CS-WP8 capture (tests/data/citysports-cs-wp8.jsonl)."""
    return load_frames(CS_WP8)
