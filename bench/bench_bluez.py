"""The production BLE path measured: the daemon on bleak's BlueZ backend against the BlueZ twin.

    scripts/bench bluez            # full: bench/results/bluez.json (docs/benchmarks.md cites it)
    scripts/bench bluez --quick    # smoke run, results in a temp dir

Processes: a simulator (bench.sim_tap, Treadmill Data at 5 Hz), the BlueZ twin on its own
private bus (docs/bluez-twin.md), Mosquitto, and ``treadctl run`` with ``backend = "bluez"``.

1. Footprint: spawn -> READY=1 (link up and broker connected) over N runs; then one daemon
   idle (connected, 5 Hz data) and running ``bench-ramp``: RSS (VmRSS samples, VmHWM) and CPU.
2. Raspberry-Pi budget: the same daemon in a cgroup allowed 10 % of one core (cgroup v1
   ``cpu.cfs_quota_us`` = 10 ms per 100 ms period, or v2 ``cpu.max`` = ``10000 100000``), with
   5 Hz telemetry: emergency stops during the ramp (MQTT publish -> Stop written at the
   treadmill), telemetry sent / lost over the ramp, and how late each ramp step (Set Target
   Speed, one per second at the governor's 0.1 km/h per second) was against its schedule.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import parts, rig  # noqa: E402
from bench.stats import machine, now_iso, summary_ms  # noqa: E402
from harness.mosquitto import Mosquitto  # noqa: E402
from harness.twin import twin_process  # noqa: E402

DEFAULT_OUT = REPO / "bench" / "results" / "bluez.json"
BUDGET_QUOTA_US = 10_000
BUDGET_PERIOD_US = 100_000
"""10 % of one core (the issue's Raspberry-Pi budget)."""
OP_SET_SPEED = 0x02
RAMP_STEP_S = 1.0
"""The governor ramps 0.1 km/h per second in 0.1 km/h steps (docs/safety.md): one Set Target
Speed per second while the belt speeds up."""
TARGETS = {"rss_mib": 45.0, "ready_s": 1.0, "estop_p99_ms": 50.0, "late_step_ms": 200.0}
NO_HISTORY = "\n[history]\nenabled = false\n"
"""Appended to the configuration for the footprint without the session history."""


@contextlib.contextmanager
def cpu_cgroup(name: str) -> Any:
    """A cgroup limited to the budget; yields the file a process writes its pid into."""
    v1 = Path("/sys/fs/cgroup/cpu")
    if (v1 / "cpu.cfs_quota_us").exists():
        group = v1 / name
        group.mkdir(exist_ok=True)
        (group / "cpu.cfs_period_us").write_text(str(BUDGET_PERIOD_US))
        (group / "cpu.cfs_quota_us").write_text(str(BUDGET_QUOTA_US))
        kind = "v1 cpu.cfs_quota_us"
    else:
        root = Path("/sys/fs/cgroup")
        group = root / name
        group.mkdir(exist_ok=True)
        (group / "cpu.max").write_text(f"{BUDGET_QUOTA_US} {BUDGET_PERIOD_US}")
        kind = "v2 cpu.max"
    try:
        yield group / "cgroup.procs", kind
    finally:
        with contextlib.suppress(OSError):
            group.rmdir()


def in_cgroup(procs: Path) -> list[str]:
    """A wrapper that moves itself into the cgroup, then execs the daemon (so every thread and
    the whole start-up run inside it)."""
    return ["/bin/sh", "-c", f'echo $$ > "{procs}" && exec "$@"', "sh"]


async def footprint(mqtt: rig.Mqtt, d: rig.Daemon, window_s: float) -> dict[str, Any]:
    rss: list[int] = []
    idle = await parts.cpu_window([d.pid], window_s)
    rss.append(rig.memory_kib(d.pid)["VmRSS"])
    await parts.start_profile(mqtt, "tm", "bench-ramp")
    running = await parts.cpu_window([d.pid], window_s)
    rss.append(rig.memory_kib(d.pid)["VmRSS"])
    await parts.stop_session(mqtt, "tm")
    mem = rig.memory_kib(d.pid)
    return {
        "cpu_percent_of_one_core": {"idle": round(idle, 2), "ramp": round(running, 2)},
        "rss_mib": {
            "max_sampled": round(max(rss) / 1024, 1),
            "peak_vmhwm": round(mem["VmHWM"] / 1024, 1),
        },
    }


def ramp_lateness(writes: list[dict[str, Any]], start: float, end: float) -> dict[str, Any]:
    """Gaps between consecutive speed-up writes of one ramp, minus the 1 s step."""
    times = [float(w["t"]) for w in writes if w["op"] == OP_SET_SPEED and start <= w["t"] <= end]
    late = [max(0.0, (b - a) - RAMP_STEP_S) for a, b in itertools.pairwise(times)]
    return {"steps": len(times), **summary_ms(late)}


async def budget_run(mqtt: rig.Mqtt, sim: rig.Sim, estops: int, ramp_s: float) -> dict[str, Any]:
    """Under the budget: one ramp measured for steps and telemetry, then emergency stops."""
    await parts.start_profile(mqtt, "tm", "bench-ramp")
    start = time.monotonic()
    await asyncio.sleep(ramp_s)  # the measurement window: the ramp itself
    end = time.monotonic()
    await asyncio.sleep(0.5)  # the last telemetry in flight arrives before counting
    window = parts.telemetry_window(mqtt, sim, "tm", start, end)
    steps = ramp_lateness(sim.writes(), start, end)
    await parts.stop_session(mqtt, "tm")
    await mqtt.wait_state("tm", parts.ended_still, within=60)
    stops = await parts.emergency_stop(mqtt, sim, "tm", estops)
    return {
        "ramp_window_s": ramp_s,
        "telemetry": {
            "sent": window["sent"],
            "lost": window["lost"],
            **summary_ms(window["latencies"]),
        },
        "ramp_step_lateness": steps,
        "emergency_stop": {
            "stops": estops,
            "publish_to_write": stops["publish_to_write"],
            "without_write": stops["without_write"],
        },
    }


@contextlib.asynccontextmanager
async def twin_rig(workdir: Path) -> AsyncIterator[tuple[rig.Sim, dict[str, str]]]:
    async with (
        rig.simulator(workdir / "sims", "bz", data_interval=0.2) as sim,
        twin_process(workdir / "twin", sim.transport) as twin,
    ):
        yield sim, twin.environ()


async def measure(workdir: Path, quick: bool) -> dict[str, Any]:
    runs, window_s, estops, ramp_s = (1, 2.0, 2, 4.0) if quick else (5, 15.0, 20, 9.0)
    device = [rig.DeviceSpec("tm", "", backend="bluez")]
    out: dict[str, Any] = {}
    with Mosquitto(workdir / "mosquitto") as broker:
        async with twin_rig(workdir) as (_sim, env):
            ready = []
            for i in range(runs):
                async with rig.daemon(workdir, f"start{i}", device, broker.port, env=env) as d:
                    if d.ready_s is not None:
                        ready.append(d.ready_s)
            out["startup"] = {"runs": runs, "spawn_to_ready": summary_ms(ready)}
        async with (
            twin_rig(workdir / "fp") as (_sim, env),
            rig.mqtt_client(broker.port) as mqtt,
            rig.daemon(workdir, "fp", device, broker.port, env=env) as d,
        ):
            await mqtt.wait_online(["tm"])
            out["footprint"] = await footprint(mqtt, d, window_s)
        # The same without the session history (SQLAlchemy never imported): what it costs.
        async with (
            twin_rig(workdir / "fp-nohist") as (_sim, env),
            rig.mqtt_client(broker.port) as mqtt,
            rig.daemon(workdir, "fpnh", device, broker.port, env=env, extra_toml=NO_HISTORY) as d,
        ):
            await mqtt.wait_online(["tm"])
            out["footprint_history_off"] = await footprint(mqtt, d, window_s)
            out["footprint_history_off"]["spawn_to_ready_s"] = d.ready_s
        with cpu_cgroup(f"treadctl-bench-{os.getpid()}") as (procs, kind):
            async with (
                twin_rig(workdir / "pi") as (sim, env),
                rig.mqtt_client(broker.port) as mqtt,
                rig.daemon(
                    workdir, "pi", device, broker.port, env=env, wrapper=in_cgroup(procs)
                ) as d,
            ):
                await mqtt.wait_online(["tm"])
                budget = await budget_run(mqtt, sim, estops, ramp_s)
                budget["cgroup"] = kind
                budget["quota"] = f"{BUDGET_QUOTA_US} us per {BUDGET_PERIOD_US} us"
                budget["spawn_to_ready_s"] = d.ready_s
                out["pi_budget"] = budget
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run, < 1 min")
    parser.add_argument("--out", type=Path, help=f"results JSON (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="treadctl-bench-bluez-") as tmp:
        workdir = Path(tmp)
        out = args.out or (workdir / "bluez.json" if args.quick else DEFAULT_OUT)
        result = {
            "when": now_iso(),
            "machine": machine(),
            "targets": TARGETS,
            "results": asyncio.run(measure(workdir, args.quick)),
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(json.dumps(result["results"], indent=2))
        print(f"results: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
