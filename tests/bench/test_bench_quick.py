"""The system benchmark harness runs end to end in --quick mode and writes valid results.

Checks that it runs and what the results file must contain (every part present, every command
matched to a control point write in the simulator's trace, telemetry received), never the
timings: those are benchmarks (bench/, docs/benchmarks.md), not assertions.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.crossprocess
def test_quick_run_writes_valid_results(tmp_path: Path) -> None:
    out = tmp_path / "system.json"
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--out", str(out), "--docs", str(docs)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["mode"] == "quick"
    assert {"nproc", "cpu", "memory_mib", "python", "os"} <= result["machine"].keys()
    parts = result["results"]
    assert set(parts) == {"codec", "telemetry", "command", "emergency_stop", "footprint", "fleet"}

    command = parts["command"]
    assert command["commands"] == result["plan"]["commands"]
    assert command["without_write"] == 0  # every pause/resume reached the control point
    assert command["publish_to_write"]["count"] == command["commands"]

    estop = parts["emergency_stop"]
    assert estop["commands"] == result["plan"]["estops"]
    assert estop["without_write"] == 0  # every emergency stop became a Stop write

    for rate in ("5hz", "50hz"):
        telemetry = parts["telemetry"][rate]
        assert telemetry["sent"] > 0
        assert telemetry["count"] + telemetry["lost"] == telemetry["sent"]

    footprint = parts["footprint"]
    assert footprint["rss_mib"]["peak_vmhwm"] > 0
    assert footprint["startup"]["spawn_to_ready"]["count"] == result["plan"]["startup_runs"]

    for size, fleet in parts["fleet"]["sizes"].items():
        assert fleet["one_daemon"]["daemons"] == 1
        assert fleet["daemon_per_treadmill"]["daemons"] == int(size)
        assert fleet["one_daemon"]["telemetry"]["sent"] > 0

    assert parts["codec"]["ratio_vs_decode_measurement"] > 0
    # --quick leaves the docs alone.
    assert docs.read_text(encoding="utf-8") == "# Benchmarks\n"
