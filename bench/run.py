"""The system benchmark harness: one command, every process started and stopped here.

    scripts/bench            # full run (< 10 min): bench/results/system.json + docs/benchmarks.md
    scripts/bench --quick    # smoke run (< 1 min): results in a temp dir, docs untouched

Measures (docs/benchmarks.md, "System benchmarks", explains each): MQTT command latency to the
simulator's control point, telemetry latency and loss at 5 and 50 Hz (A B A B), emergency stop
latency during a ramp with 50 Hz telemetry, the codec ratio (bench_decode), the daemon's
footprint and start-up to READY=1, and fleets of N treadmills with one daemon and with N.
Daemon, simulators and Mosquitto are separate processes on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import parts, report, rig  # noqa: E402
from bench.stats import machine, now_iso  # noqa: E402
from harness.mosquitto import Mosquitto  # noqa: E402

DEFAULT_OUT = REPO / "bench" / "results" / "system.json"
DOCS = REPO / "docs" / "benchmarks.md"


@dataclass(frozen=True)
class Plan:
    commands: int
    estops: int
    telemetry_window_s: float
    telemetry_blocks: int
    footprint_window_s: float
    footprint_blocks: int
    startup_runs: int
    importtime: bool
    fleet_sizes: tuple[int, ...]
    fleet_window_s: float
    decode_rounds: int
    decode_seconds: float


FULL = Plan(
    commands=1000,
    estops=40,
    telemetry_window_s=30.0,
    telemetry_blocks=2,
    footprint_window_s=15.0,
    footprint_blocks=2,
    startup_runs=3,
    importtime=True,
    fleet_sizes=(1, 5, 20),
    fleet_window_s=15.0,
    decode_rounds=5,
    decode_seconds=0.3,
)
QUICK = Plan(
    commands=20,
    estops=2,
    telemetry_window_s=1.5,
    telemetry_blocks=1,
    footprint_window_s=1.5,
    footprint_blocks=1,
    startup_runs=1,
    importtime=False,
    fleet_sizes=(2,),
    fleet_window_s=1.5,
    decode_rounds=1,
    decode_seconds=0.05,
)

TARGETS = {
    "command_p50_ms": 5.0,
    "command_p99_ms": 15.0,
    "telemetry_p99_ms": 5.0,
    "telemetry_lost": 0,
    "emergency_stop_p99_ms": 10.0,
    "decode_ratio": 3.0,
    "rss_mib": 60.0,
    "cpu_percent_5hz": 1.0,
    "ready_s": 1.5,
}


def decode(plan: Plan, workdir: Path) -> dict[str, Any]:
    out = workdir / "decode.json"
    subprocess.run(
        [sys.executable, "-m", "bench.bench_decode", "--rounds", str(plan.decode_rounds),
         "--seconds", str(plan.decode_seconds), "--out", str(out)],
        cwd=REPO, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    result = json.loads(out.read_text())
    return {
        "rounds": plan.decode_rounds,
        "seconds_per_round": plan.decode_seconds,
        "ratio_vs_decode_measurement": result["ratio_vs_decode_measurement"],
        "ratio_vs_decode_measurement_raw": result["ratio_vs_decode_measurement_raw"],
        "frames_per_second": {
            k: v["frames_per_second_median"] for k, v in result["results"].items()
        },
    }


def step(name: str, began: float) -> None:
    print(f"[bench {time.monotonic() - began:6.1f} s] {name}", file=sys.stderr, flush=True)


async def measure(plan: Plan, workdir: Path, began: float) -> dict[str, Any]:
    results: dict[str, Any] = {}
    step("codec", began)
    results["codec"] = decode(plan, workdir)
    with Mosquitto(workdir / "mosquitto") as broker:
        assert broker._proc is not None
        broker_pid = broker._proc.pid
        async with contextlib.AsyncExitStack() as stack:
            mqtt = await stack.enter_async_context(rig.mqtt_client(broker.port))
            step("simulators and daemons for 5 Hz and 50 Hz", began)
            sim5, sim50 = await parts.enter_all(
                stack,
                [
                    rig.simulator(workdir / "sims", "hz5", data_interval=0.2),
                    rig.simulator(workdir / "sims", "hz50", data_interval=0.02),
                ],
            )
            dev5 = rig.DeviceSpec("tm5", sim5.transport)
            dev50 = rig.DeviceSpec("tm50", sim50.transport)
            inner = contextlib.AsyncExitStack()
            await stack.enter_async_context(inner)
            d5, _d50 = await parts.enter_all(
                inner,
                [
                    rig.daemon(workdir, "d5", [dev5], broker.port),
                    rig.daemon(workdir, "d50", [dev50], broker.port),
                ],
            )
            await mqtt.wait_online(["tm5", "tm50"])

            step("telemetry 5 Hz / 50 Hz, A B A B", began)
            results["telemetry"] = await parts.telemetry_ab(
                mqtt,
                {"5hz": (sim5, "tm5"), "50hz": (sim50, "tm50")},
                window_s=plan.telemetry_window_s,
                blocks=plan.telemetry_blocks,
            )
            step(f"command latency, {plan.commands} commands", began)
            results["command"] = await parts.command_latency(mqtt, sim50, "tm50", plan.commands)
            step(f"emergency stop, {plan.estops} stops", began)
            results["emergency_stop"] = await parts.emergency_stop(mqtt, sim50, "tm50", plan.estops)
            step("footprint", began)
            fp = await parts.footprint(
                mqtt,
                d5,
                "tm5",
                window_s=plan.footprint_window_s,
                blocks=plan.footprint_blocks,
            )
            await inner.aclose()  # the start-up runs need the simulators' HCI ports free
            step("start-up to READY=1", began)
            fp["startup"] = await parts.startup(
                workdir, [dev5], broker.port, plan.startup_runs, importtime=plan.importtime
            )
            results["footprint"] = fp
        async with rig.mqtt_client(broker.port) as mqtt:
            step(f"fleet {plan.fleet_sizes}", began)
            results["fleet"] = await parts.fleet(
                mqtt,
                broker_pid,
                workdir,
                broker.port,
                plan.fleet_sizes,
                window_s=plan.fleet_window_s,
                data_interval=0.2,
            )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run, < 1 min")
    parser.add_argument("--out", type=Path, help=f"results JSON (full run default: {DEFAULT_OUT})")
    parser.add_argument("--docs", type=Path, default=DOCS, help="the Markdown file to update")
    parser.add_argument("--no-docs", action="store_true", help="do not update the docs")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="treadctl-bench-") as tmp:
        workdir = Path(tmp)
        out = args.out or (workdir / "system.json" if args.quick else DEFAULT_OUT)
        result: dict[str, Any] = {
            "benchmark": "treadctl system benchmarks",
            "mode": "quick" if args.quick else "full",
            "date": now_iso(),
            "machine": machine(),
            "plan": asdict(plan),
            "targets": TARGETS,
        }
        result["results"] = asyncio.run(measure(plan, workdir, began))
        result["machine"]["load_average_after"] = machine()["load_average"]
        result["seconds"] = round(time.monotonic() - began, 1)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        if args.out is not None or not args.quick:
            print(f"results: {out}", file=sys.stderr)
        if not args.no_docs and not args.quick:
            report.update_docs(args.docs, result)
            print(f"updated {args.docs}", file=sys.stderr)
        print(report.summary_text(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
