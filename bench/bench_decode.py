"""Treadmill Data decode throughput: treadctl against deancochran-ftms, side by side.

Both decoders get the same frames, the Treadmill Data (0x2ACD) notifications of the real
CS-WP8 capture, in rounds that alternate A B A B in one process, so that machine noise hits
both alike. The figure is the ratio of the median frames per second.

Run from the repository root::

    .venv/bin/python -m bench.bench_decode            # prints a table, writes JSON
    .venv/bin/python -m bench.bench_decode --rounds 9 --seconds 1

The comparison calls deancochran-ftms's public typed decode for a characteristic UUID,
``deancochran_ftms.decode_measurement("2acd", data)``, which returns named values much like
``TreadmillData.decode``. Its lower-level ``decode_measurement_raw(data, 0)`` (flag masks and
a tuple of raw ints, no names, no units) is timed too and reported as a second ratio.
Results go to bench/results/decode.json; docs/benchmarks.md records them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CAPTURE = REPO / "tests" / "data" / "citysports-cs-wp8.jsonl"
DEFAULT_OUT = REPO / "bench" / "results" / "decode.json"
TARGET_RATIO = 3.0


def load_treadmill_frames(path: Path) -> list[bytes]:
    frames = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record["characteristic"] == "2acd":
                frames.append(bytes.fromhex(record["hex"]))
    return frames


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            info = {
                key.strip(): value.strip()
                for key, _, value in (line.partition(":") for line in handle)
            }
    except OSError:
        info = {}
    # x86: "model name"; Raspberry Pi: "Model" (the board) besides "model name" (the core).
    cpu = " / ".join(info[key] for key in ("model name", "Model") if key in info) or cpu
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
    }


def time_round(decode: Callable[[bytes], object], frames: list[bytes], loops: int) -> float:
    """Frames per second of ``loops`` passes over ``frames``."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(loops):
            for frame in frames:
                decode(frame)
        elapsed = time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()
    return loops * len(frames) / elapsed


def calibrate(decode: Callable[[bytes], object], frames: list[bytes], seconds: float) -> int:
    """Loops that take about ``seconds`` for this decoder."""
    loops = 1
    while True:
        start = time.perf_counter()
        time_round(decode, frames, loops)
        if time.perf_counter() - start > seconds / 5:
            return max(1, int(loops * seconds / (time.perf_counter() - start)))
        loops *= 2


def check_agreement(frames: list[bytes]) -> None:
    """Both decoders must read the same speed, distance and elapsed time from every frame."""
    from deancochran_ftms import decode_measurement_raw  # noqa: PLC0415

    from treadctl.ftms import TreadmillData  # noqa: PLC0415

    for frame in frames:
        ours = TreadmillData.from_bytes(frame)
        theirs = decode_measurement_raw(frame, 0).values
        # deancochran-ftms value indexes: 0 speed, 2 distance, 14 elapsed time.
        assert (theirs[0], theirs[2], theirs[14]) == (
            ours.instantaneous_speed,
            ours.total_distance,
            ours.elapsed_time,
        ), frame.hex(" ")


def run(capture: Path, rounds: int, seconds: float) -> dict[str, Any]:
    from deancochran_ftms import decode_measurement, decode_measurement_raw  # noqa: PLC0415

    from treadctl.ftms import TreadmillData  # noqa: PLC0415

    frames = load_treadmill_frames(capture)
    check_agreement(frames)
    contenders: dict[str, Callable[[bytes], object]] = {
        "treadctl TreadmillData.decode": TreadmillData.decode,
        "deancochran-ftms decode_measurement": lambda data: decode_measurement("2acd", data),
        "deancochran-ftms decode_measurement_raw": lambda data: decode_measurement_raw(data, 0),
    }
    loops = {name: calibrate(fn, frames, seconds) for name, fn in contenders.items()}
    per_round: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):  # A B A B ...: every round times every contender once
        for name, fn in contenders.items():
            per_round[name].append(time_round(fn, frames, loops[name]))
    medians = {name: statistics.median(values) for name, values in per_round.items()}
    ours = medians["treadctl TreadmillData.decode"]
    typed = medians["deancochran-ftms decode_measurement"]
    raw = medians["deancochran-ftms decode_measurement_raw"]
    return {
        "benchmark": "FTMS Treadmill Data (0x2acd) decode throughput",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "capture": capture.name,
        "frames": len(frames),
        "rounds": rounds,
        "seconds_per_round": seconds,
        "results": {
            name: {
                "frames_per_second_median": round(medians[name]),
                "microseconds_per_frame": round(1e6 / medians[name], 3),
                "frames_per_second_rounds": [round(v) for v in per_round[name]],
            }
            for name in contenders
        },
        "ratio_vs_decode_measurement": round(ours / typed, 2),
        "ratio_vs_decode_measurement_raw": round(ours / raw, 2),
        "target_ratio": TARGET_RATIO,
        "target_met": ours / typed >= TARGET_RATIO and ours / raw >= TARGET_RATIO,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--capture", type=Path, default=DEFAULT_CAPTURE)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.5, help="per contender per round")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))  # run straight from a checkout
    if not args.capture.is_file():
        print(f"capture not found: {args.capture}", file=sys.stderr)
        return 2
    result = run(args.capture, args.rounds, args.seconds)
    width = max(len(name) for name in result["results"])
    print(f"{result['benchmark']}: {result['frames']} frames, {result['rounds']} rounds A B A B")
    for name, figures in result["results"].items():
        print(
            f"  {name:<{width}}  {figures['frames_per_second_median']:>10,} frames/s  "
            f"{figures['microseconds_per_frame']:>7.2f} us/frame"
        )
    print(
        f"  ratio: {result['ratio_vs_decode_measurement']}x vs decode_measurement, "
        f"{result['ratio_vs_decode_measurement_raw']}x vs decode_measurement_raw "
        f"(target {TARGET_RATIO}x: {'met' if result['target_met'] else 'NOT met'})"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"  written to {args.out}")
    return 0 if result["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
