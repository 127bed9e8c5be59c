"""Spoken cues in the daemon, in-process against the simulator: speech on with the audio going
to files (no sound device), every segment cue and every safety reaction rendered (checked with
sox), in the order the scheduler promises."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import structlog.testing

from harness.polling import poll
from tests.daemon.inprocess import SimHandle, config_for, simulators, until_ready
from tests.speech.conftest import need, sox_rms, sox_seconds
from treadctl.commands import EmergencyStop, Resume, StartProfile, Stop
from treadctl.config.model import Config
from treadctl.control.session import REST_OVER
from treadctl.control.session_states import TERMINAL, SessionState
from treadctl.daemon.app import Daemon
from treadctl.daemon.device import DeviceRuntime
from treadctl.daemon.speech import Cues
from treadctl.speech import phrases
from treadctl.speech.engine import Renderer, Voice
from treadctl.speech.speaker import Speaker

SPOKEN = """\
name: spoken
description: Every kind of cue (speech tests).
audience: tests
level: beginner
needs_handrails: true
cap_kmh: 1.2
segments:
  - kind: warmup
    duration: 1 min
    speed_kmh: 1.2
    cue: Walk forward, safety key clipped on.
  - kind: rest
    duration: 1 min
    cue: Belt stopped. Turn to face the back. Press resume when ready.
    say: Belt stopped. Turn around.
  - kind: backward
    duration: 1 min
    speed_kmh: 1.0
    cue: Look straight ahead, small steps, hands on the rails.
    say: Look ahead, small steps.
  - kind: backward
    duration: 1 min
    speed_kmh: 0.8
    cue: Slower now.
"""


def speech_config(tmp_path: Path, transport: str) -> Config:
    need("espeak-ng")
    base = config_for(tmp_path, [("tm1", transport)])
    (tmp_path / "profiles" / "spoken.yaml").write_text(SPOKEN, encoding="utf-8")
    data = base.model_dump()
    data["speech"] = {"enabled": True, "player": "none", "audio_dir": str(tmp_path / "audio")}
    return Config.model_validate(data)


def journal(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "audio" / "spoken.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


async def spoken(tmp_path: Path, text: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        return next((e for e in journal(tmp_path) if e["text"] == text), None)

    return await poll(find, within=20, what=f"cue {text!r} rendered")


async def with_daemon(
    tmp_path: Path, body: Callable[[DeviceRuntime, SimHandle], Awaitable[None]]
) -> None:
    async with simulators(1) as (sim,):
        daemon = Daemon(speech_config(tmp_path, sim.transport))
        async with asyncio.TaskGroup() as tg:
            running = tg.create_task(daemon.run(handle_signals=False))
            await until_ready(daemon)
            try:
                await body(daemon.devices["tm1"], sim)
            finally:
                daemon.request_stop("test over")
            await running


async def test_every_segment_cue_is_spoken_in_order(tmp_path: Path) -> None:
    async def body(runtime: DeviceRuntime, sim: SimHandle) -> None:
        assert runtime.handle_local(StartProfile("spoken")).ok
        async for snap in runtime.runner.snapshots():
            if snap.state == SessionState.PAUSED and snap.reason == REST_OVER:
                # The walker hears "rest over" and presses resume.
                await spoken(tmp_path, "Rest over. Press resume when you are ready.")
                assert runtime.handle_local(Resume()).ok
        summary = runtime.runner.summary
        assert summary is not None
        assert summary.ended == "finished"
        await spoken(tmp_path, phrases.summary_text(summary))

    await with_daemon(tmp_path, body)
    entries = journal(tmp_path)
    assert [(e["kind"], e["text"]) for e in entries] == [
        ("countdown", "Starting in 3, 2, 1."),
        ("segment", "Walk forward, safety key clipped on."),
        ("segment", "Belt stopped. Turn around."),
        ("rest_over", "Rest over. Press resume when you are ready."),
        ("countdown", "Starting in 3, 2, 1."),
        ("segment", "Look ahead, small steps."),
        ("segment", "Slower now."),
        ("speed", "Slowing down to 0.8."),
        ("summary", entries[-1]["text"]),
    ]
    assert entries[-1]["text"].startswith("Session complete: 4 minutes, ")
    assert {e["outcome"] for e in entries} == {"rendered"}
    for entry in entries:
        wav = tmp_path / "audio" / entry["file"]
        assert sox_seconds(wav) > 0.5
        assert sox_rms(wav) > 0.005


async def _session_on(runtime: DeviceRuntime, sim: SimHandle) -> None:
    await poll(lambda: runtime.runner.state in (*TERMINAL, SessionState.IDLE), within=20)
    await poll(runtime.reading.is_set, within=20, what="fresh telemetry")
    await poll(lambda: runtime.governed.state().belt_speed == 0, within=20, what="belt seen still")
    result = runtime.handle_local(StartProfile("long-back"))
    assert result.ok, result
    await sim.belt(at_least=100)


async def _session_off(runtime: DeviceRuntime, sim: SimHandle) -> None:
    if runtime.runner.state not in TERMINAL:
        assert runtime.handle_local(Stop()).ok
    await sim.belt(at_most=0)
    await poll(lambda: runtime.runner.state in TERMINAL, within=20, what="session over")


async def test_every_safety_reaction_is_spoken(tmp_path: Path) -> None:
    async def emergency(runtime: DeviceRuntime) -> None:
        assert runtime.handle_local(EmergencyStop()).ok

    async def nothing() -> None:
        return

    async def body(runtime: DeviceRuntime, handle: SimHandle) -> None:
        sim = handle.sim
        faults: list[tuple[str, Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]]]] = [
            ("safety_key", sim.pull_safety_key, sim.insert_safety_key),
            ("console_stop", sim.press_stop, nothing),
            ("console_pause", sim.press_pause, nothing),
            ("control_lost", sim.take_control, nothing),
            ("stale_telemetry", sim.stop_notifying, sim.resume_notifying),
            ("emergency_stop", lambda: emergency(runtime), nothing),
        ]
        for kind, fault, after in faults:
            await _session_on(runtime, handle)
            await fault()
            entry = await spoken(tmp_path, phrases.SAFETY_PHRASES[kind])
            assert entry["kind"] == "safety"
            assert entry["detail"] == kind
            await after()
            await _session_off(runtime, handle)

    await with_daemon(tmp_path, body)
    safety = [e for e in journal(tmp_path) if e["kind"] == "safety"]
    # Each reaction said once (the governor's notice and the session's reason are one stop).
    assert [e["detail"] for e in safety] == [
        "safety_key",
        "console_stop",
        "console_pause",
        "control_lost",
        "stale_telemetry",
        "emergency_stop",
    ]
    for entry in safety:
        assert entry["outcome"] == "rendered"
        assert sox_rms(tmp_path / "audio" / entry["file"]) > 0.005


async def test_a_missing_engine_is_reported_once_and_changes_nothing_else(
    tmp_path: Path,
) -> None:
    async with simulators(1) as (sim,):
        config = speech_config(tmp_path, sim.transport)
        data = config.model_dump()
        data["speech"]["engine"] = str(tmp_path / "no-such-engine")
        daemon = Daemon(Config.model_validate(data))
        with structlog.testing.capture_logs() as logs:
            async with asyncio.TaskGroup() as tg:
                running = tg.create_task(daemon.run(handle_signals=False))
                await until_ready(daemon)
                runtime = daemon.devices["tm1"]
                assert runtime.handle_local(StartProfile("long-back")).ok
                await sim.belt(at_least=100)
                await poll(lambda: len(journal(tmp_path)) >= 2, within=20, what="cues tried")
                assert runtime.handle_local(Stop()).ok
                await sim.belt(at_most=0)
                daemon.request_stop("test over")
                await running
    reports = [e for e in logs if e["event"] == "speech_unavailable"]
    assert sorted(e["code"] for e in reports) == ["no_sound_device", "render_failed"]
    assert {e["outcome"] for e in journal(tmp_path)} == {"render_failed"}
    cues = [e["text"] for e in logs if e["event"] == "cue"]
    assert cues[:2] == ["Starting in 3, 2, 1.", "Small steps."]
    assert not [e for e in logs if e["event"] == "speech_failed"]


class _BrokenSpeaker(Speaker):
    async def run(self) -> None:
        raise RuntimeError("a bug in the speech task")


async def test_a_failing_speech_task_ends_speech_only(tmp_path: Path) -> None:
    """A bug in the speech task is logged; the cue tasks go on and nothing is raised into the
    daemon's TaskGroup (which would stop the belts and the daemon)."""
    speaker = _BrokenSpeaker(Renderer(tmp_path, Voice()), None)
    cues = Cues({}, speaker, structlog.get_logger("test"), publish=False)
    with structlog.testing.capture_logs() as logs:
        async with asyncio.TaskGroup() as tg:
            task = tg.create_task(cues.run(None))
            await poll(lambda: any(e["event"] == "speech_failed" for e in logs), within=10)
            await poll(lambda: any(e["event"] == "speech_unavailable" for e in logs), within=10)
            assert not task.done()  # the diagnostics task still runs
            task.cancel()
    assert task.cancelled()
    failed = next(e for e in logs if e["event"] == "speech_failed")
    assert failed["error"] == "a bug in the speech task"
