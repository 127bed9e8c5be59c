"""treadsim simulator process: start-up to advertising, and idle CPU.

1. Start-up: from spawning ``python -m simulators.treadsim --hci tcp-server:127.0.0.1:0`` to
   its ``ready`` line, which it prints once the Bumble device advertises (targets: < 1 s).
   Also the time until a Bumble client host, attached to that port after the ready line,
   receives the first advertising report (an upper bound: it includes the client's own
   power-on). Median over ``--runs`` spawns.
2. Idle CPU of the simulator process (user + system time from /proc/PID/stat over wall time,
   target < 1 % of one core), over ``--idle-seconds``:
   a. advertising, no client attached;
   b. a client connected and subscribed to every characteristic, belt stopped (Treadmill
      Data at the preset's 1 s interval).

Run from the repository root (writes bench/results/sim.json)::

    .venv/bin/python -m bench.bench_sim
    .venv/bin/python -m bench.bench_sim --runs 10 --idle-seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "bench" / "results" / "sim.json"
sys.path.insert(0, str(REPO))

from harness.simulator import central, stop_process  # noqa: E402


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def spawn(preset: str) -> tuple[asyncio.subprocess.Process, dict[str, Any], float]:
    """Start the simulator; returns (process, ready line, seconds from spawn to ready)."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulators.treadsim",
        "--no-prompt",
        "--hci",
        "tcp-server:127.0.0.1:0",
        "--preset",
        preset,
        cwd=REPO,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    async with asyncio.timeout(30):
        line = await process.stdout.readline()
    elapsed = time.perf_counter() - started
    return process, json.loads(line), elapsed


def client_spec(ready: dict[str, Any]) -> str:
    port = int(ready["hci"][0].rsplit(":", 1)[1])
    return f"tcp-client:127.0.0.1:{port}"


async def startup(runs: int, preset: str) -> dict[str, Any]:
    to_ready: list[float] = []
    to_advert: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        process, ready, elapsed = await spawn(preset)
        try:
            to_ready.append(elapsed)
            async with central(hci_spec=client_spec(ready)) as c:
                await c.scan()
                to_advert.append(time.perf_counter() - started)
        finally:
            await stop_process(process)
    return {
        "runs": runs,
        "spawn_to_ready_s": {"median": statistics.median(to_ready), "max": max(to_ready)},
        "spawn_to_first_advert_seen_s": {
            "median": statistics.median(to_advert),
            "max": max(to_advert),
        },
    }


async def idle_cpu(seconds: float, preset: str, *, with_client: bool) -> dict[str, Any]:
    process, ready, _ = await spawn(preset)
    try:
        if with_client:
            async with central(hci_spec=client_spec(ready)) as c, c.connect_ftms() as ftms:
                await ftms.next_value(0x2ACD)  # data flowing
                return await _measure(process.pid, seconds)
        return await _measure(process.pid, seconds)
    finally:
        await stop_process(process)


async def _measure(pid: int, seconds: float) -> dict[str, Any]:
    cpu0, wall0 = cpu_seconds(pid), time.perf_counter()
    await asyncio.sleep(seconds)  # the measurement window itself
    cpu1, wall1 = cpu_seconds(pid), time.perf_counter()
    percent = (cpu1 - cpu0) / (wall1 - wall0) * 100
    return {"seconds": round(wall1 - wall0, 3), "cpu_percent_of_one_core": round(percent, 3)}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "preset": args.preset,
        "startup": await startup(args.runs, args.preset),
        "idle_no_client": await idle_cpu(args.idle_seconds, args.preset, with_client=False),
        "idle_client_connected": await idle_cpu(args.idle_seconds, args.preset, with_client=True),
        "targets": {"spawn_to_ready_s": 1.0, "idle_cpu_percent": 1.0},
    }
    result["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--preset", default="generic")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    arguments = parser.parse_args()
    outcome = asyncio.run(main(arguments))
    arguments.out.write_text(json.dumps(outcome, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(outcome, indent=2))
