"""Writing exported bytes to files: the whole file or nothing, under a file-name-safe name.

Shared by ``treadctl history export`` / ``chart`` (treadctl/cli/history_export.py) and the
demo's files (treadctl/daemon/demo_files.py); the encoders themselves
(``treadctl.history.export``, ``treadctl.history.charts``) stay pure.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_output(path: Path, data: bytes) -> None:
    """Write the whole file or nothing: a temporary file next to it, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def safe_name(text: str) -> str:
    """A file-name-safe version of an id (letters, digits, dot, dash, underscore)."""
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in text)
    return cleaned.strip(".") or "session"
