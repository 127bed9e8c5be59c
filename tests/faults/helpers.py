"""Helpers of the fault and abuse suite, on top of ``support.daemon`` (the shared harness).

Everything here reads outcomes from OUTSIDE the daemon: the simulator's trace (control point
writes and belt speed changes) and MQTT. Waits are conditions with deadlines; "nothing happens
later" is shown by letting *simulated* time pass (the simulator's clock, a condition on
``machine.now``), never by a wall-clock pause.

``LONG_RUN``: skip marker for the long runs (decoder fuzz, soak), which run only with
``TREADCTL_LONG_RUNS=1`` (``scripts/fuzz`` and ``scripts/soak`` set it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from harness.daemon import DaemonRig, DeviceSpec
from harness.sim_trace import (
    OP_REQUEST_CONTROL,
    OP_SET_SPEED,
    OP_START,
    OP_STOP,
    belt,
    wait_trace,
    writes,
)
from harness.simulator import SimProcess

LONG_RUN: pytest.MarkDecorator = pytest.mark.skipif(
    os.environ.get("TREADCTL_LONG_RUNS") != "1",
    reason="long run: use scripts/fuzz or scripts/soak (sets TREADCTL_LONG_RUNS=1)",
)

SPEEDUP = 20.0
"""Simulated seconds per real second, for both the simulator and the daemon's clock."""

RAMP = """\
name: ramp
description: A forward warm-up that ramps from the 1.0 km/h start speed to 2.5 km/h (tests).
audience: tests
level: beginner
needs_handrails: true
cap_kmh: 2.5
segments:
  - kind: warmup
    duration: 5 min
    speed_kmh: 2.5
    cue: Walk forward.
  - kind: rest
    duration: 1 min
    cue: Belt stopped. Turn around.
  - kind: backward
    duration: 5 min
    speed_kmh: 1.0
    cue: Small steps.
"""

STEADY = """\
name: steady
description: One long backward block at the 1.0 km/h start speed (tests).
audience: tests
level: beginner
needs_handrails: true
cap_kmh: 1.5
segments:
  - kind: backward
    duration: 20 min
    speed_kmh: 1.0
    cue: Small steps.
"""

PROFILES = {"ramp": RAMP, "steady": STEADY}

EXTRA_CONFIG: dict[str, Any] = {
    "mqtt": {"arming_expiry_s": 3600.0},
    # The control point deadline in real seconds (FTMS §4.16.3 gives none; short for tests).
    "ble": {"control_point_deadline_s": 1.0},
}


def rig(
    tmp_path: Path,
    *,
    preset: str = "generic",
    quirks: Sequence[str] = (),
    user_cap_kmh: float | None = None,
    devices: Sequence[DeviceSpec] | None = None,
    extra_config: dict[str, Any] | None = None,
    with_mqtt: bool = True,
    speedup: float = SPEEDUP,
    backend: str = "bumble",
) -> DaemonRig:
    """A rig with one simulator ``tm1`` (``preset``, ``--quirk`` each of ``quirks``)."""
    sim_args: list[str] = []
    for quirk in quirks:
        sim_args += ["--quirk", quirk]
    spec = DeviceSpec("tm1", preset=preset, user_cap_kmh=user_cap_kmh, sim_args=tuple(sim_args))
    config = dict(EXTRA_CONFIG)
    if extra_config:
        config.update(extra_config)
    return DaemonRig(
        tmp_path,
        devices or [spec],
        speedup=speedup,
        with_mqtt=with_mqtt,
        profiles=PROFILES,
        extra_config=config,
        backend=backend,
    )


async def start_session(r: DaemonRig, profile: str = "steady", device: str = "tm1") -> None:
    """Arm, start ``profile`` and wait until the simulator's belt moves."""
    armed = await r.mqtt.request(device, "arm")
    assert armed["status"] == "ok", armed
    started = await r.mqtt.request(device, "start_profile", profile=profile)
    assert started["status"] == "ok", started
    await r.sims[device].wait({"machine.belt_speed": {"min": 1}}, within=20)


def trace_time(sim: SimProcess) -> float:
    """The ``t`` of the newest trace record (a cut-off for "after the fault")."""
    records = sim.trace_records()
    return float(records[-1]["t"]) if records else 0.0


def writes_after(sim: SimProcess, t: float, op: int | None = None) -> list[dict[str, Any]]:
    return [r for r in writes(sim, op) if r["t"] > t]


async def let_time_pass(sim: SimProcess, simulated_s: float, speedup: float = SPEEDUP) -> None:
    """Wait until the simulator's clock has advanced ``simulated_s`` seconds (a condition on
    simulated time, so "nothing happened in the next minute" costs 3 s at speedup 20). Waits in
    steps of at most 5 s of wall time (the control socket client's own deadline is 15 s)."""
    now = float((await sim.state())["machine"]["now"])
    end = now + simulated_s
    step = 5.0 * speedup
    while now < end:
        now = min(end, now + step)
        await sim.wait({"machine.now": {"min": now}}, within=step / speedup + 5)


async def wait_belt_stopped(sim: SimProcess, within: float = 20.0) -> None:
    await sim.wait({"machine.belt_speed": {"max": 0}}, within=within)


def assert_no_restart(sim: SimProcess, after: float) -> None:
    """The safety rule: after the fault at trace time ``after``, no Start and no Set Target
    Speed reached the treadmill (only Request Control and Stop/Pause may follow)."""
    late = [r for r in writes_after(sim, after) if r["op"] not in (OP_REQUEST_CONTROL, OP_STOP)]
    assert late == [], f"written after the fault without a new command: {late}"


def assert_no_start_while_moving(sim: SimProcess) -> None:
    """No Start (0x07) was written while the belt was moving (docs/references.md#ftms-devices: Start
    may toggle)."""
    belt_records = belt(sim)
    for start in writes(sim, OP_START):
        before = [b for b in belt_records if b["t"] <= start["t"]]
        speed = before[-1]["speed"] if before else 0
        assert speed == 0, f"Start written with the belt at {speed / 100} km/h: {start}"


async def wait_stop_write(sim: SimProcess, after: float, within: float = 20.0) -> dict[str, Any]:
    """The first Stop (``08 01``) written after trace time ``after``."""
    return await wait_trace(
        sim,
        lambda r: r["kind"] == "write" and r["t"] > after and r.get("hex") == "0801",
        within=within,
    )


async def wait_event(r: DaemonRig, kind: str, since: int, device: str = "tm1") -> Any:
    """The first event of ``kind`` published on MQTT after probe index ``since``."""
    return await r.mqtt.wait_json(
        f"treadctl/{device}/event", lambda e: e.get("kind") == kind, since=since, within=20
    )


__all__ = [
    "LONG_RUN",
    "OP_REQUEST_CONTROL",
    "OP_SET_SPEED",
    "OP_START",
    "OP_STOP",
    "PROFILES",
    "SPEEDUP",
    "assert_no_restart",
    "assert_no_start_while_moving",
    "belt",
    "let_time_pass",
    "process_stats",
    "record",
    "rig",
    "start_session",
    "trace_time",
    "wait_belt_stopped",
    "wait_event",
    "wait_stop_write",
    "writes",
    "writes_after",
]


def record(run: str, data: dict[str, Any]) -> None:
    """Append one JSON line of measurements to ``$TREADCTL_FAULT_REPORT`` (when set; the long
    runs set it) so that docs/fault-runs.md can be written from it."""
    report = os.environ.get("TREADCTL_FAULT_REPORT")
    if report:
        with Path(report).open("a", encoding="utf-8") as out:
            out.write(json.dumps({"run": run, **data}) + "\n")


def process_stats(pid: int) -> dict[str, int]:
    """From /proc (the kernel's view, not the daemon's): resident memory (kB), threads, open
    file descriptors."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = {line.split(":")[0]: line.split(":", 1)[1].split() for line in status}
    return {
        "rss_kb": int(fields["VmRSS"][0]),
        "threads": int(fields["Threads"][0]),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
    }
