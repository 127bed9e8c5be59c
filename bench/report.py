"""Renders the system benchmark results into docs/benchmarks.md (placeholder)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def summary_text(result: dict[str, Any]) -> str:
    return json.dumps(result["results"], indent=1)[:4000]


def update_docs(path: Path, result: dict[str, Any]) -> None:
    pass
