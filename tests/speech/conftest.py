"""Speech tests need espeak-ng and sox (scripts/bootstrap --with-test-tools installs them)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.fail(f"{program} is not installed (scripts/bootstrap --with-test-tools)")
    return path


def sox_seconds(path: Path) -> float:
    out = subprocess.run(
        [need("soxi"), "-D", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return float(out)


def sox_rms(path: Path) -> float:
    """RMS amplitude (0..1) as ``sox FILE -n stat`` reports it."""
    err = subprocess.run(
        [need("sox"), str(path), "-n", "stat"], capture_output=True, text=True, check=True
    ).stderr
    for line in err.splitlines():
        if line.startswith("RMS     amplitude:"):
            return float(line.split(":")[1])
    raise AssertionError(f"no RMS amplitude in sox output: {err}")


def hanging_engine(tmp: Path) -> Path:
    """An engine command that never finishes (it starts a child that sleeps, so killing only
    the shell would leave the child holding the pipes). Writes its pid to ``<tmp>/engine.pid``."""
    script = tmp / "hanging-engine"
    script.write_text(f'#!/bin/sh\necho $$ > "{tmp}/engine.pid"\nsleep 100000\nsleep 1\n')
    script.chmod(0o755)
    return script
