"""``treadctl demo`` end to end, and the time-compression refusals, as real processes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from harness.daemon import REPO_ROOT, DaemonRig
from harness.sim_trace import OP_SET_SPEED, OP_START, OP_STOP, writes
from tests.daemon.daemon_profiles import QUICK_BACK, TEST_PROFILES
from tests.history_export.decoded import decode_fit, named
from tests.speech.conftest import sox_rms
from treadctl.history.store import HistoryStore, sqlite_url

pytestmark = pytest.mark.crossprocess

DEMO_DEADLINE_S = 60.0
"""A bound against hangs; the run below takes about 8 s."""
HR_SUMMARY = re.compile(
    r"heart rate   average ([0-9.]+) bpm, max ([0-9]+) bpm, ([0-9.]+) s at or above 105 bpm"
)
"""The summary's heart-rate line for the demo walker (aged 70: soft limit 0.7 x 150)."""


async def _treadctl(*args: str, within: float = 30.0) -> tuple[int, str, str]:
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "treadctl.cli.main",
        *args,
        cwd=REPO_ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(within):
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
        raise AssertionError(f"treadctl {args} did not finish: {err.decode()[-2000:]}") from None
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _trace(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_demo_runs_a_profile_file_to_its_summary(tmp_path: Path) -> None:
    profile = tmp_path / "profiles" / "quick-back.yaml"
    profile.parent.mkdir()
    profile.write_text(QUICK_BACK)
    workdir = tmp_path / "demo"
    workdir.mkdir()
    audio = tmp_path / "audio"
    args = ["demo", "--profile", str(profile), "--speedup", "20", "--workdir", str(workdir)]
    args += ["--audio-dir", str(audio)]

    code, out, err = await _treadctl(*args, within=DEMO_DEADLINE_S)

    assert code == 0, err
    assert "MQTT: started a private Mosquitto" in out
    assert "Session finished: quick-back" in out
    # The cues were spoken (or, without a sound device, rendered) and kept in --audio-dir,
    # the summary included: the demo waits for it before stopping.
    assert f"rendered to {audio}" in out
    spoken = _trace(audio / "spoken.jsonl")
    assert [(e["kind"], e["text"]) for e in spoken][:2] == [
        ("countdown", "Starting in 3, 2, 1."),
        ("segment", "Small steps."),
    ]
    assert str(spoken[-1]["text"]).startswith("Session complete: 1 minute, ")
    for entry in spoken:
        assert entry["outcome"] in ("played", "rendered"), entry
        assert sox_rms(audio / str(entry["file"])) > 0.005
    trace = _trace(workdir / "treadsim-trace.jsonl")
    writes = [r for r in trace if r["kind"] == "write"]
    ops = [r["op"] for r in writes]
    assert ops.count(OP_START) == 1
    assert all(r["result"] == 1 for r in writes)
    # The belt followed the profile (1.0 km/h, never more) and was stopped at its end.
    speeds = [int(str(r["speed"])) for r in trace if r["kind"] == "belt"]
    assert max(speeds) == 100
    assert speeds[-1] == 0
    last_stop = max(i for i, r in enumerate(writes) if r["op"] == OP_STOP)
    assert writes[last_stop]["hex"] == "0801"
    assert OP_SET_SPEED not in ops[last_stop:]
    _assert_heart_rate_and_files(out, workdir)


def _assert_heart_rate_and_files(out: str, workdir: Path) -> None:
    """The strap's heart rate in the live line and the summary; the session in the history
    file, with its heart rate; a FIT export that decodes (CRCs checked) and carries it."""
    assert "guard: hr_max 150 bpm (estimated from age as 220 - age); soft 105 bpm" in out
    assert re.search(r"\| HR [0-9]{2,3} bpm \(guard: soft limit 105\)", out), out
    found = HR_SUMMARY.search(out)
    assert found is not None, out
    # The simulated heart at 1.0 km/h settles near 84 bpm: above rest, below the soft limit.
    average, top, above = float(found[1]), int(found[2]), float(found[3])
    assert 70 <= average <= top < 105
    assert above == 0
    for line in (
        "journey: scripts/demo --sessions 3",
        "BlueZ path: scripts/demo --backend bluez",
        "spoken cues kept: scripts/demo --audio-dir DIR",
    ):
        assert line in out
    history = workdir / "history.sqlite3"
    assert f"History: {history}" in out
    store = HistoryStore.open(sqlite_url(history))
    try:
        (session,) = store.sessions(person_id="demo-walker")
        samples = store.samples(session.id)
    finally:
        store.close()
    assert session.end_reason == "finished"
    rates = [s.heart_rate_bpm for s in samples if s.heart_rate_bpm is not None]
    assert rates
    # The 1 Hz samples carry the last plausible value: the summary's maximum or a little less.
    assert 70 <= max(rates) <= top
    for suffix in (".fit", ".tcx", ".csv", ".svg"):
        path = workdir / f"{session.id}{suffix}"
        assert path.stat().st_size > 0, path
        assert f"wrote {path}" in out
    messages = decode_fit((workdir / f"{session.id}.fit").read_bytes())
    (fit_session,) = named(messages, "session")
    assert fit_session.values["max_heart_rate"] == max(rates)
    fit_rates = [m.values.get("heart_rate") for m in named(messages, "record")]
    assert [r for r in fit_rates if r is not None] == rates


def _config(tmp_path: Path, device: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"state_dir = {json.dumps(str(tmp_path))}\n\n[[devices]]\n{device}\n", encoding="utf-8"
    )
    return path


REAL_TREADMILL = 'id = "home"\naddress = "AA:BB:CC:DD:EE:01"\nhas_handrails = true'


async def test_session_speedup_is_refused_for_a_real_treadmill(tmp_path: Path) -> None:
    config = _config(tmp_path, REAL_TREADMILL)
    code, _out, err = await _treadctl(
        "session", "start", "retro-beginner", "--speedup", "5", "--config", str(config)
    )
    assert code == 2
    assert "--speedup is refused" in err


async def test_config_speedup_is_refused_for_a_real_treadmill(tmp_path: Path) -> None:
    config = _config(tmp_path, REAL_TREADMILL + "\nspeedup = 5.0")
    code, _out, err = await _treadctl("run", "--config", str(config))
    assert code == 2
    assert "devices.0" in err
    assert "simulator = true" in err


async def test_session_start_on_the_simulator_and_ctrl_c_stops_the_belt(tmp_path: Path) -> None:
    async with DaemonRig(tmp_path, with_mqtt=False, profiles=TEST_PROFILES) as rig:
        sim = rig.sims["tm1"]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
        # The device's speedup (20, simulator = true) applies without --speedup.
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "treadctl.cli.main",
            "session",
            "start",
            "long-back",
            "--config",
            str(rig.config_path),
            cwd=REPO_ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await sim.wait({"machine.belt_speed": {"min": 100}}, within=30)
            before = len(writes(sim))
            proc.send_signal(signal.SIGINT)  # Ctrl-C
            async with asyncio.timeout(30):
                out, err = await proc.communicate()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.communicate()
        assert proc.returncode == 0, err.decode()
        assert "Session finished: long-back" in out.decode()
        after = writes(sim)[before:]
        assert [r["hex"] for r in after if r["op"] == OP_STOP] == ["0801"]
        assert not [r for r in after if r["op"] in (OP_START, OP_SET_SPEED)]
        await sim.wait({"machine.belt_speed": {"max": 0}}, within=20)


async def test_demo_on_the_bluez_backend(tmp_path: Path) -> None:
    """``treadctl demo --backend bluez``: the daemon's bleak BlueZ backend, through the BlueZ
    twin on a private bus, runs the session to its summary."""
    profile = tmp_path / "quick-back.yaml"
    profile.write_text(QUICK_BACK)
    workdir = tmp_path / "demo"
    workdir.mkdir()
    args = ["demo", "--backend", "bluez", "--profile", str(profile), "--no-mqtt", "--no-speech"]
    code, out, err = await _treadctl(*args, "--workdir", str(workdir), within=DEMO_DEADLINE_S)
    assert code == 0, err
    assert "BlueZ: started the BlueZ twin on a private D-Bus" in out
    assert "Session finished: quick-back" in out
    assert "BlueZ was lost" not in err
    # The strap too: one adapter, two connections through the twin.
    assert HR_SUMMARY.search(out) is not None, out
    writes = [r for r in _trace(workdir / "treadsim-trace.jsonl") if r["kind"] == "write"]
    assert [r["op"] for r in writes].count(OP_START) == 1
    assert writes[-1]["hex"] == "0801"
