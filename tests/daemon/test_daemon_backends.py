"""The scenarios that matter, across processes, on both BLE backends: ``bumble`` (a Bumble host
over HCI) and ``bluez`` (bleak's BlueZ backend over D-Bus, the production path on a Pi, here
against the BlueZ twin on a private bus). The daemon's code is the same for both; outcomes are
read from the simulator's trace and MQTT only."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from harness.daemon import REPO_ROOT, DeviceSpec
from harness.sim_trace import wait_trace
from harness.simulator import simulator_process
from harness.twin import twin_process
from tests.faults.helpers import (
    OP_SET_SPEED,
    OP_START,
    OP_STOP,
    assert_no_restart,
    assert_no_start_while_moving,
    let_time_pass,
    rig,
    start_session,
    trace_time,
    wait_belt_stopped,
    wait_event,
    wait_stop_write,
    writes,
)

pytestmark = pytest.mark.crossprocess

BACKENDS = pytest.mark.parametrize("backend", ["bumble", "bluez"])
QUIET_S = 20.0
FAST_RECONNECT = {"ble": {"control_point_deadline_s": 1.0, "reconnect_max_backoff_s": 0.5}}
SHORT = """\
name: short
description: One minute backward at the start speed (tests).
audience: tests
level: beginner
needs_handrails: true
cap_kmh: 1.5
segments:
  - kind: backward
    duration: 1 min
    speed_kmh: 1.0
    cue: Small steps.
"""


@BACKENDS
async def test_scan_hears_the_long_name(tmp_path: Path, backend: str) -> None:
    async with simulator_process(tmp_path, preset="citysports-wp8", speedup=20) as sim:
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
        args = ["--timeout", "3", "--json"]
        async with contextlib_twin(tmp_path, sim.hci_client_spec, backend) as twin_env:
            if backend == "bumble":
                args += ["--backend", "bumble", "--transport", sim.hci_client_spec]
            env.update(twin_env)
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "treadctl.cli.main",
                "scan",
                *args,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            async with asyncio.timeout(30):
                out, err = await process.communicate()
    rows = [json.loads(line) for line in out.decode().splitlines()]
    assert process.returncode == 0, err.decode()
    assert [(r["address"], r["name"], r["treadmill"]) for r in rows] == [
        ("F0:F1:F2:F3:F4:F5", "CITYSPORTS-Linker", True)
    ]


def contextlib_twin(tmp_path: Path, spec: str, backend: str) -> _TwinEnv:
    return _TwinEnv(tmp_path, spec, backend)


class _TwinEnv:
    """The twin's environment for ``bluez``, nothing for ``bumble``."""

    def __init__(self, tmp_path: Path, spec: str, backend: str) -> None:
        self._cm = twin_process(tmp_path / "twin", spec) if backend == "bluez" else None

    async def __aenter__(self) -> dict[str, str]:
        if self._cm is None:
            return {}
        twin = await self._cm.__aenter__()
        return twin.environ()

    async def __aexit__(self, *exc: object) -> None:
        if self._cm is not None:
            await self._cm.__aexit__(None, None, None)


@BACKENDS
async def test_found_by_long_name_and_a_session_runs_to_its_end(
    tmp_path: Path, backend: str
) -> None:
    devices = [DeviceSpec("tm1", preset="citysports-wp8", name="CITYSPORTS-Linker")]
    r = rig(tmp_path, devices=devices, backend=backend)
    r.profiles = {**(r.profiles or {}), "short": SHORT}
    async with r:
        config = r.config()
        del config["devices"][0]["address"]  # found by its (scan response) name only
        r.extra_config = {**(r.extra_config or {}), "devices": config["devices"]}
        r.write_config()
        await r.start_daemon()
        sim = r.sims["tm1"]
        state = await r.mqtt.latest_state("tm1", lambda s: s["device"] is not None)
        assert state["device"]["name"] == "CITYSPORTS-Linker"
        assert state["device"]["speed_range"] is not None
        since = r.mqtt.mark()
        await start_session(r, "short")
        finished = await wait_event(r, "session_finished", since)
        assert finished["data"]["profile"] == "short"
        await wait_belt_stopped(sim)
        assert writes(sim, OP_STOP)
        assert_no_start_while_moving(sim)


@BACKENDS
async def test_emergency_stop(tmp_path: Path, backend: str) -> None:
    async with rig(tmp_path, backend=backend) as r:
        await r.start_daemon()
        sim = r.sims["tm1"]
        await start_session(r)
        at = trace_time(sim)
        assert (await r.mqtt.request("tm1", "emergency_stop"))["status"] == "ok"
        await wait_stop_write(sim, at)
        await wait_belt_stopped(sim)
        state = await r.mqtt.latest_state("tm1", lambda s: s["session"] != "running")
        assert state["armed"] is False
        await let_time_pass(sim, QUIET_S)
        assert_no_restart(sim, at)


@BACKENDS
async def test_disconnect_mid_ramp_then_reconnect_applies_nothing(
    tmp_path: Path, backend: str
) -> None:
    async with rig(tmp_path, extra_config=FAST_RECONNECT, backend=backend) as r:
        await r.start_daemon()
        sim = r.sims["tm1"]
        await start_session(r, "ramp")
        await wait_trace(
            sim,
            lambda x: (
                x["kind"] == "write"
                and x["op"] == OP_SET_SPEED
                and int.from_bytes(bytes.fromhex(x["hex"])[1:3], "little") > 100
            ),
        )
        since = r.mqtt.mark()
        await sim.command("disconnect_now")
        cut = await wait_trace(
            sim, lambda x: x["kind"] == "connection" and x["event"] == "disconnected"
        )
        await wait_event(r, "disconnected", since)
        await r.wait_online("tm1", since=since)
        await wait_belt_stopped(sim)
        await r.mqtt.latest_state("tm1", lambda s: s["session"] == "paused")
        await let_time_pass(sim, QUIET_S)
        assert_no_restart(sim, cut["t"])
        assert_no_start_while_moving(sim)


@BACKENDS
async def test_sigterm_stops_the_belt(tmp_path: Path, backend: str) -> None:
    async with rig(tmp_path, backend=backend) as r:
        daemon = await r.start_daemon()
        sim = r.sims["tm1"]
        await start_session(r)
        at = trace_time(sim)
        assert await daemon.terminate() == 0
        await wait_stop_write(sim, at, within=1)  # already there: the daemon waited
        assert (await sim.state())["machine"]["belt_speed"] == 0


@BACKENDS
async def test_restart_under_a_moving_belt(tmp_path: Path, backend: str) -> None:
    async with rig(tmp_path, backend=backend) as r:
        await r.start_daemon()
        sim = r.sims["tm1"]
        await start_session(r)
        kill_at = trace_time(sim)
        assert await r.daemons[-1].kill() == -signal.SIGKILL
        if backend == "bumble":
            await sim.wait({"connected": False}, within=30)  # the host process is gone
        else:
            # bluetoothd keeps the link of a program that died (so does the twin): the new
            # daemon must take the connected treadmill without a scan.
            assert (await sim.state())["connected"] is True
        assert (await sim.state())["machine"]["belt_speed"] > 0
        await r.start_daemon()
        await wait_stop_write(sim, kill_at)
        await wait_belt_stopped(sim)
        await let_time_pass(sim, QUIET_S)
        assert_no_restart(sim, kill_at)
        assert not [w for w in writes(sim, OP_START) if w["t"] > kill_at]


@BACKENDS
async def test_the_bluez_daemon_never_imports_bumble(tmp_path: Path, backend: str) -> None:
    """Footprint: bleak's BlueZ backend needs no Bumble. Python's own import log
    (``PYTHONPROFILEIMPORTTIME``) of the running daemon, connected and streaming, shows it."""
    async with rig(tmp_path, backend=backend) as r:
        daemon = await r.start_daemon(env={"PYTHONPROFILEIMPORTTIME": "1"})
        assert await daemon.terminate() == 0
    imported = {
        line.rsplit("|", 1)[1].strip()
        for line in daemon.stderr().splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "bleak" in imported
    if backend == "bluez":
        assert not {m for m in imported if m.split(".")[0] == "bumble"}
        assert "bleak.backends.bluezdbus.client" in imported
    else:
        assert "bumble.device" in imported


async def test_scan_lists_the_treadmill_a_running_daemon_holds(tmp_path: Path) -> None:
    """With BlueZ a connected treadmill does not advertise: ``treadctl scan`` next to a running
    daemon still lists it, marked connected (asked of BlueZ, not heard)."""
    async with rig(tmp_path, backend="bluez") as r:
        await r.start_daemon()
        assert r.twin is not None
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), **r.twin.environ())
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "treadctl.cli.main", "scan", "--timeout", "1", "--json",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        async with asyncio.timeout(30):
            out, err = await process.communicate()
    rows = [json.loads(line) for line in out.decode().splitlines()]
    assert process.returncode == 0, err.decode()
    assert [(row["address"], row["connected"]) for row in rows] == [("F0:F1:F2:F3:F4:10", True)]
