"""The measurements of the system benchmark (bench/run.py runs them in order).

Each function drives real processes (rig.py) and returns plain JSON-ready values. Times are
``time.monotonic()`` in this process, the simulator's trace and tap (the same Linux
CLOCK_MONOTONIC), so a publish here and a control point write in the simulator line up.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from bench import rig
from bench.stats import ratio, summary_ms

T = TypeVar("T")

PAUSE_OPS = {8}
"""Stop or Pause (FTMS §4.16.2.9, op 0x08)."""
RESUME_OPS = {0, 2, 7}
"""A resume's first write: Request Control (0x00) if control was released, else Set Target
Speed (0x02, the start speed), then Start or Resume (0x07)."""


async def enter_all(stack: contextlib.AsyncExitStack, cms: Sequence[Any]) -> list[Any]:
    """Enter several async context managers concurrently (processes start in parallel); every
    one that started is registered for clean-up even if another failed."""
    results = await asyncio.gather(
        *(stack.enter_async_context(cm) for cm in cms), return_exceptions=True
    )
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


# --------------------------------------------------------------------------- helpers


def running(state: dict[str, Any]) -> bool:
    return state.get("session") == "running" and (state.get("speed_kmh") or 0) > 0


def paused_still(state: dict[str, Any]) -> bool:
    return state.get("session") == "paused" and state.get("speed_kmh") == 0


def ended_still(state: dict[str, Any]) -> bool:
    return state.get("session") in ("aborted", "finished", "idle") and state.get("speed_kmh") == 0


async def must(reply: Awaitable[rig.Reply], what: str) -> rig.Reply:
    r = await reply
    if not r.ok:
        raise rig.RigError(f"{what}: {r.body}")
    return r


async def start_profile(mqtt: rig.Mqtt, device: str, profile: str) -> None:
    await must(mqtt.request(device, "arm", {"duration_s": 3600}), "arm")
    await must(mqtt.request(device, "start_profile", {"profile": profile}), "start_profile")
    await mqtt.wait_state(device, running, within=30)


async def stop_session(mqtt: rig.Mqtt, device: str) -> None:
    await must(mqtt.request(device, "stop"), "stop")
    await mqtt.wait_state(device, ended_still, within=30)


def match_writes(
    commands: Sequence[tuple[str, float, float]], writes: Sequence[dict[str, Any]]
) -> list[float | None]:
    """For each (kind, published, replied), the trace time of the first write of the expected
    op code at or after its publication and before the next command's (None if none)."""
    out: list[float | None] = []
    for i, (kind, sent, _) in enumerate(commands):
        end = commands[i + 1][1] if i + 1 < len(commands) else float("inf")
        ops = PAUSE_OPS if kind in ("pause", "emergency_stop") else RESUME_OPS
        hit = next((w["t"] for w in writes if sent <= w["t"] < end and w.get("op") in ops), None)
        out.append(hit)
    return out


def state_before_reply(
    commands: Sequence[tuple[str, float, float]], arrivals: Sequence[float]
) -> dict[str, Any]:
    """Replies split by whether a state message of the device arrived between the command's
    publication and its reply (the bridge sends replies ahead of retained state; a state message
    in between was published before the reply was queued, docs/benchmarks.md)."""
    behind: list[float] = []
    alone: list[float] = []
    for _, sent, replied in commands:
        late = any(sent <= t <= replied for t in arrivals)
        (behind if late else alone).append(replied - sent)
    return {
        "state_message_first": summary_ms(behind),
        "reply_first": summary_ms(alone),
    }


def latency_report(
    commands: Sequence[tuple[str, float, float]],
    writes: Sequence[dict[str, Any]],
    state_arrivals: Sequence[float] = (),
) -> dict[str, Any]:
    hits = match_writes(commands, writes)
    to_write = [w - c[1] for c, w in zip(commands, hits, strict=True) if w is not None]
    to_reply = [c[2] - c[1] for c in commands]
    both = [max(w, c[2]) - c[1] for c, w in zip(commands, hits, strict=True) if w is not None]
    by_kind: dict[str, Any] = {}
    for kind in sorted({c[0] for c in commands}):
        idx = [i for i, c in enumerate(commands) if c[0] == kind]
        by_kind[kind] = {
            "publish_to_write": summary_ms(
                [hits[i] - commands[i][1] for i in idx if hits[i] is not None]  # type: ignore[operator]
            ),
            "publish_to_reply": summary_ms([commands[i][2] - commands[i][1] for i in idx]),
        }
    return {
        "commands": len(commands),
        "without_write": sum(1 for h in hits if h is None),
        "publish_to_write": summary_ms(to_write),
        "publish_to_reply": summary_ms(to_reply),
        "end_to_end": summary_ms(both),
        "by_command": by_kind,
        "publish_to_reply_by_order": state_before_reply(commands, state_arrivals),
    }


# --------------------------------------------------------------------------- 1. commands


async def pause_resume_cycle(
    mqtt: rig.Mqtt, device: str, log: list[tuple[str, float, float]]
) -> None:
    """One pause of the moving belt and one resume once it stands (both logged)."""
    r = await must(mqtt.request(device, "pause"), "pause")
    log.append(("pause", r.sent, r.received))
    await mqtt.wait_state(device, paused_still)
    # Our own Pause's status echo (02 02) disarms remote control (issue noted in the docs), so
    # arm again; arm causes no write and is not counted.
    await must(mqtt.request(device, "arm", {"duration_s": 3600}), "arm")
    r = await must(mqtt.request(device, "resume"), "resume")
    log.append(("resume", r.sent, r.received))
    await mqtt.wait_state(device, running)


async def command_latency(mqtt: rig.Mqtt, sim: rig.Sim, device: str, n: int) -> dict[str, Any]:
    await start_profile(mqtt, device, "bench-steady")
    log: list[tuple[str, float, float]] = []
    started = time.monotonic()
    while len(log) < n:
        await pause_resume_cycle(mqtt, device, log)
    seconds = time.monotonic() - started
    await stop_session(mqtt, device)
    report = latency_report(log, sim.writes(), mqtt.state_arrivals.get(device, []))
    report["seconds"] = round(seconds, 1)
    return report


# --------------------------------------------------------------------------- 3. e-stop


async def emergency_stop(mqtt: rig.Mqtt, sim: rig.Sim, device: str, n: int) -> dict[str, Any]:
    """Start the ramping profile, wait a random 0.3-3 s into the 10 s ramp, emergency stop."""
    rng = random.Random(8)
    log: list[tuple[str, float, float]] = []
    speeds: list[float] = []
    started = time.monotonic()
    for _ in range(n):
        await start_profile(mqtt, device, "bench-ramp")
        await asyncio.sleep(rng.uniform(0.3, 3.0))  # a random point in the ramp
        speeds.append(mqtt.state[device].get("speed_kmh") or 0.0)
        r = await must(mqtt.request(device, "emergency_stop"), "emergency_stop")
        log.append(("emergency_stop", r.sent, r.received))
        await mqtt.wait_state(device, ended_still, within=30)
    report = latency_report(log, sim.writes(), mqtt.state_arrivals.get(device, []))
    report["seconds"] = round(time.monotonic() - started, 1)
    report["belt_kmh_at_stop"] = {"min": min(speeds), "max": max(speeds)}
    return report


# --------------------------------------------------------------------------- 2. telemetry


def telemetry_window(
    mqtt: rig.Mqtt, sim: rig.Sim, device: str, start: float, end: float
) -> dict[str, Any]:
    sends = [(seq, t) for seq, t in sim.sends() if start <= t <= end]
    arrivals: dict[int, float] = {}
    for seq, t in mqtt.telemetry.get(device, []):
        if t >= start:
            arrivals.setdefault(seq, t)
    lat = [arrivals[seq] - t for seq, t in sends if seq in arrivals]
    return {"sent": len(sends), "lost": len(sends) - len(lat), "latencies": lat}


async def telemetry_ab(
    mqtt: rig.Mqtt,
    rigs: dict[str, tuple[rig.Sim, str]],
    *,
    window_s: float,
    blocks: int,
) -> dict[str, Any]:
    """Windows alternate A B A B: only the active simulator sends Treadmill Data."""
    for sim, _ in rigs.values():
        await sim.command("stop_notifying")
    collected: dict[str, dict[str, Any]] = {k: {"sent": 0, "lost": 0, "lat": []} for k in rigs}
    for _ in range(blocks):
        for key, (sim, device) in rigs.items():
            await sim.command("resume_notifying")
            start = time.monotonic()
            await asyncio.sleep(window_s)  # the measurement window itself
            await sim.command("stop_notifying")
            end = time.monotonic()
            await asyncio.sleep(0.5)  # let the last messages arrive before counting
            w = telemetry_window(mqtt, sim, device, start, end)
            collected[key]["sent"] += w["sent"]
            collected[key]["lost"] += w["lost"]
            collected[key]["lat"] += w["latencies"]
    for sim, _ in rigs.values():
        await sim.command("resume_notifying")
    out: dict[str, Any] = {
        "window_s": window_s,
        "blocks": blocks,
        "seconds_per_rate": window_s * blocks,
    }
    for key, c in collected.items():
        out[key] = {"sent": c["sent"], "lost": c["lost"], **summary_ms(c["lat"])}
    keys = list(rigs)
    if len(keys) == 2:
        a, b = out[keys[1]], out[keys[0]]
        out["ratio_p99"] = ratio(a.get("p99_ms"), b.get("p99_ms"))
        out["ratio_median"] = ratio(a.get("median_ms"), b.get("median_ms"))
    return out


# --------------------------------------------------------------------------- 5. footprint


async def cpu_window(pids: Sequence[int], seconds: float) -> float:
    """Percent of one core used by ``pids`` together over a window of ``seconds``."""
    cpu0, wall0 = sum(rig.cpu_seconds(p) for p in pids), time.monotonic()
    await asyncio.sleep(seconds)  # the measurement window itself
    cpu1, wall1 = sum(rig.cpu_seconds(p) for p in pids), time.monotonic()
    return (cpu1 - cpu0) / (wall1 - wall0) * 100


async def footprint(
    mqtt: rig.Mqtt, daemon: rig.Daemon, device: str, *, window_s: float, blocks: int
) -> dict[str, Any]:
    """Idle (connected, belt stopped, data still at 5 Hz) and a profile at 5 Hz, A B A B."""
    idle: list[float] = []
    profile: list[float] = []
    rss: list[int] = []
    for _ in range(blocks):
        idle.append(await cpu_window([daemon.pid], window_s))
        rss.append(rig.memory_kib(daemon.pid)["VmRSS"])
        await start_profile(mqtt, device, "bench-steady")
        profile.append(await cpu_window([daemon.pid], window_s))
        rss.append(rig.memory_kib(daemon.pid)["VmRSS"])
        await stop_session(mqtt, device)
    mem = rig.memory_kib(daemon.pid)
    idle_pct = sum(idle) / len(idle)
    profile_pct = sum(profile) / len(profile)
    return {
        "window_s": window_s,
        "blocks": blocks,
        "cpu_percent_of_one_core": {
            "idle": round(idle_pct, 3),
            "profile_5hz": round(profile_pct, 3),
            "idle_blocks": [round(x, 3) for x in idle],
            "profile_blocks": [round(x, 3) for x in profile],
        },
        "ratio_profile_to_idle_cpu": ratio(profile_pct, idle_pct),
        "rss_mib": {
            "max_sampled": round(max(rss) / 1024, 1),
            "peak_vmhwm": round(mem["VmHWM"] / 1024, 1),
        },
    }


IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def heavy_imports(stderr_lines: Sequence[str], top: int = 12) -> dict[str, Any]:
    """Parse ``python -X importtime``: top-level imports by cumulative time, and the total."""
    rows = []
    for line in stderr_lines:
        m = IMPORT_LINE.match(line)
        if m is not None:
            rows.append((m.group(4), int(m.group(2)), len(m.group(3))))
    depth0 = min((d for _, _, d in rows), default=1)
    roots = [(name, cum) for name, cum, d in rows if d == depth0]
    total = sum(cum for _, cum in roots)
    packages: dict[str, int] = {}
    for name, cum, _ in rows:
        # The cost of each third-party package as first imported (its top module's cumulative).
        if "." not in name and name not in packages:
            packages[name] = cum
    heaviest = sorted(packages.items(), key=lambda kv: -kv[1])[:top]
    return {
        "total_import_ms": round(total / 1000, 1),
        "heaviest_top_level_modules_ms": {k: round(v / 1000, 1) for k, v in heaviest},
        "heaviest_imports_from_root_ms": {
            k: round(v / 1000, 1) for k, v in sorted(roots, key=lambda kv: -kv[1])[:top]
        },
    }


async def startup(
    workdir: Path,
    devices: Sequence[rig.DeviceSpec],
    broker_port: int,
    runs: int,
    *,
    importtime: bool,
) -> dict[str, Any]:
    """Spawn ``treadctl run`` to READY=1 (link up and broker connected), ``runs`` times, then
    once more under ``python -X importtime``."""
    ready: list[float] = []
    for i in range(runs):
        async with rig.daemon(workdir, f"startup{i}", devices, broker_port) as d:
            assert d.ready_s is not None
            ready.append(d.ready_s)
    out: dict[str, Any] = {"runs": runs, "spawn_to_ready": summary_ms(ready)}
    if importtime:
        async with rig.daemon(workdir, "importtime", devices, broker_port, importtime=True) as d:
            pass
        out["imports"] = heavy_imports(d.stderr_lines)
    return out


# --------------------------------------------------------------------------- 6. fleet


async def fleet_mode(
    mqtt: rig.Mqtt,
    broker_pid: int,
    sims: Sequence[rig.Sim],
    workdir: Path,
    broker_port: int,
    *,
    separate: bool,
    window_s: float,
    tag: str,
) -> dict[str, Any]:
    ids = [f"{tag}-{i}" for i in range(len(sims))]
    specs = [rig.DeviceSpec(d, s.transport) for d, s in zip(ids, sims, strict=True)]
    async with contextlib.AsyncExitStack() as stack:
        started = time.monotonic()
        if separate:
            daemons = await enter_all(
                stack,
                [rig.daemon(workdir, f"{tag}-d{i}", [s], broker_port) for i, s in enumerate(specs)],
            )
        else:
            daemons = [
                await stack.enter_async_context(
                    rig.daemon(workdir, f"{tag}-one", specs, broker_port)
                )
            ]
        await mqtt.wait_online(ids, within=90)
        ready_s = time.monotonic() - started
        await asyncio.gather(*(start_profile(mqtt, d, "bench-steady") for d in ids))
        pids = [d.pid for d in daemons]
        logs: dict[str, list[tuple[str, float, float]]] = {d: [] for d in ids}
        cpu0 = sum(rig.cpu_seconds(p) for p in pids)
        broker0 = rig.cpu_seconds(broker_pid)
        start = time.monotonic()
        i = 0
        while time.monotonic() - start < window_s:
            device = ids[i % len(ids)]
            await pause_resume_cycle(mqtt, device, logs[device])
            i += 1
        end = time.monotonic()
        cpu = (sum(rig.cpu_seconds(p) for p in pids) - cpu0) / (end - start) * 100
        broker_cpu = (rig.cpu_seconds(broker_pid) - broker0) / (end - start) * 100
        rss = sum(rig.memory_kib(p)["VmRSS"] for p in pids)
        await asyncio.gather(*(stop_session(mqtt, d) for d in ids))
    sent = lost = 0
    lat: list[float] = []
    commands: list[tuple[str, float, float]] = []
    write_hits: list[float] = []
    for device, sim in zip(ids, sims, strict=True):
        w = telemetry_window(mqtt, sim, device, start, end)
        sent += w["sent"]
        lost += w["lost"]
        lat += w["latencies"]
        hits = match_writes(logs[device], sim.writes())
        commands += logs[device]
        write_hits += [h - c[1] for c, h in zip(logs[device], hits, strict=True) if h is not None]
    n = len(sims)
    return {
        "treadmills": n,
        "daemons": len(daemons),
        "start_to_all_online_s": round(ready_s, 2),
        "window_s": round(end - start, 1),
        "commands": len(commands),
        "publish_to_write": summary_ms(write_hits),
        "publish_to_reply": summary_ms([c[2] - c[1] for c in commands]),
        "telemetry": {"sent": sent, "lost": lost, **summary_ms(lat)},
        "daemon_cpu_percent_of_one_core": round(cpu, 2),
        "cpu_percent_per_treadmill": round(cpu / n, 3),
        "broker_cpu_percent_of_one_core": round(broker_cpu, 2),
        "daemon_rss_mib_total": round(rss / 1024, 1),
        "rss_mib_per_treadmill": round(rss / 1024 / n, 1),
    }


async def fleet(
    mqtt: rig.Mqtt,
    broker_pid: int,
    workdir: Path,
    broker_port: int,
    sizes: Sequence[int],
    *,
    window_s: float,
    data_interval: float,
) -> dict[str, Any]:
    out: dict[str, Any] = {"data_interval_s": data_interval, "window_s": window_s, "sizes": {}}
    for n in sizes:
        async with contextlib.AsyncExitStack() as stack:
            sims = await enter_all(
                stack,
                [
                    rig.simulator(workdir / f"fleet{n}", f"s{i}", data_interval=data_interval)
                    for i in range(n)
                ],
            )
            one = await fleet_mode(
                mqtt,
                broker_pid,
                sims,
                workdir,
                broker_port,
                separate=False,
                window_s=window_s,
                tag=f"n{n}a",
            )
            many = await fleet_mode(
                mqtt,
                broker_pid,
                sims,
                workdir,
                broker_port,
                separate=True,
                window_s=window_s,
                tag=f"n{n}b",
            )
        out["sizes"][str(n)] = {
            "one_daemon": one,
            "daemon_per_treadmill": many,
            "ratio_cpu_per_treadmill_many_to_one": ratio(
                many["cpu_percent_per_treadmill"], one["cpu_percent_per_treadmill"]
            ),
            "ratio_command_p99_many_to_one": ratio(
                many["publish_to_write"].get("p99_ms"), one["publish_to_write"].get("p99_ms")
            ),
        }
    return out
