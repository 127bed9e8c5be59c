"""History export and chart times: FIT, TCX, CSV, the session SVG and its PNG, by session length.

Sessions are the test sessions' kind (harness/sessions.py): alternating forward
and backward blocks of 5 min, samples at 1 Hz with a heart rate. Each output is made
``--rounds`` times per length; the median is reported with the output size.

Run from the repository root::

    .venv/bin/python -m bench.bench_export            # prints a table
    .venv/bin/python -m bench.bench_export --rounds 5 --minutes 10 30 60
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import time
from collections.abc import Callable
from functools import partial

from harness.sessions import make_record, make_samples
from treadctl.history.charts import PngUnavailableError, session_chart, to_png
from treadctl.history.export import export_session
from treadctl.history.records import Sample, SessionRecord


def _median_ms(make: Callable[[], bytes], rounds: int) -> tuple[float, int]:
    times: list[float] = []
    size = 0
    for _ in range(rounds):
        gc.collect()
        gc.disable()
        start = time.perf_counter()
        size = len(make())
        times.append(time.perf_counter() - start)
        gc.enable()
    return statistics.median(times) * 1000, size


def _svg_bytes(record: SessionRecord, samples: list[Sample]) -> bytes:
    return session_chart(record, samples).encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--minutes", type=int, nargs="+", default=[10, 30, 60])
    args = parser.parse_args()
    print(f"# {platform.python_implementation()} {platform.python_version()}, {platform.machine()}")
    print("| session | output | median ms | bytes |")
    print("|---|---|---:|---:|")
    for minutes in args.minutes:
        plan = tuple(
            (f"block {i}", "backward" if i % 2 else "forward", 300, 1.0 + (i % 3) * 0.2, 1.0)
            for i in range(minutes // 5)
        )
        samples = make_samples(plan=plan)
        record = make_record(samples)
        svg = session_chart(record, samples)
        makers: dict[str, Callable[[], bytes]] = {
            fmt: partial(export_session, record, samples, fmt) for fmt in ("fit", "tcx", "csv")
        }
        makers["svg chart"] = partial(_svg_bytes, record, samples)
        makers["png chart"] = partial(to_png, svg)
        for name, make in makers.items():
            try:
                ms, size = _median_ms(make, args.rounds)
            except PngUnavailableError:
                continue
            print(f"| {minutes} min ({len(samples)} samples) | {name} | {ms:.0f} | {size} |")


if __name__ == "__main__":
    main()
