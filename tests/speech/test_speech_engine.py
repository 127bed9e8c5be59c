"""espeak-ng rendering (checked with sox: duration, not silent), the cache, the failures, and
the speech task's pre-emption, journal and diagnostics."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.polling import poll
from tests.speech.conftest import hanging_engine, need, sox_rms, sox_seconds
from treadctl.speech import phrases
from treadctl.speech import speaker as speaker_module
from treadctl.speech.engine import Interrupted, Player, Renderer, SpeechError, Voice
from treadctl.speech.schedule import Kind, Utterance
from treadctl.speech.speaker import JOURNAL, Speaker

SILENCE_RMS = 0.005
"""Below this RMS amplitude a WAV counts as silent (espeak-ng speech measures ~0.09)."""


def espeak(tmp_path: Path, **voice: object) -> Renderer:
    need("espeak-ng")
    return Renderer(tmp_path / "cache", Voice(**voice))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        phrases.COUNTDOWN,
        phrases.SAFETY_PHRASES["safety_key"],
        "Look straight ahead, small steps, hands on the rails.",
        "Session complete: 20 minutes, 350 metres. Well done.",
    ],
)
async def test_cues_render_to_speech_as_long_as_estimated(tmp_path: Path, text: str) -> None:
    renderer = espeak(tmp_path)
    path = await renderer.render(text)
    seconds = sox_seconds(path)
    estimate = phrases.estimate_seconds(text, renderer.voice.rate_wpm)
    assert 0.7 * seconds <= estimate <= 1.3 * seconds, (seconds, estimate)
    assert sox_rms(path) > SILENCE_RMS


async def test_rendered_once_then_cached_by_text_voice_rate_and_volume(tmp_path: Path) -> None:
    renderer = espeak(tmp_path)
    first = await renderer.render("Keep the steps small and even.")
    audio = first.read_bytes()
    renderer.command = ["false"]  # the engine would fail now: a second render must not run it
    assert await renderer.render("Keep the steps small and even.") == first
    assert first.read_bytes() == audio
    with pytest.raises(SpeechError):
        await renderer.render("Something not said before.")
    slow = Renderer(renderer.cache_dir, Voice(rate_wpm=100))
    quiet = Renderer(renderer.cache_dir, Voice(volume=30))
    slow_path = await slow.render("Keep the steps small and even.")
    quiet_path = await quiet.render("Keep the steps small and even.")
    assert len({first, slow_path, quiet_path}) == 3
    assert sox_seconds(slow_path) > 1.3 * sox_seconds(first)
    assert sox_rms(quiet_path) < 0.5 * sox_rms(first)
    assert not list(renderer.cache_dir.glob("*.tmp"))


async def test_engine_failures_are_typed_errors(tmp_path: Path) -> None:
    missing = Renderer(tmp_path, Voice(), command=[str(tmp_path / "no-such-engine")])
    with pytest.raises(SpeechError, match="cannot run"):
        await missing.render("Hello.")
    failing = Renderer(tmp_path, Voice(), command=["false"])
    with pytest.raises(SpeechError, match="exited 1"):
        await failing.render("Hello.")
    unknown_voice = espeak(tmp_path, voice="xx-no-such-voice")
    with pytest.raises(SpeechError):
        await unknown_voice.render("Hello.")


async def test_a_hanging_engine_is_killed_with_its_children_at_the_deadline(
    tmp_path: Path,
) -> None:
    hung = Renderer(tmp_path, Voice(), command=[str(hanging_engine(tmp_path))], timeout_s=0.5)
    began = time.monotonic()
    with pytest.raises(SpeechError, match="no result"):
        await hung.render("Hello.")
    assert time.monotonic() - began < 3.0
    pid = int((tmp_path / "engine.pid").read_text())
    await until(lambda: _group_gone(pid), within=5)  # the shell and its sleep (once reaped)

    interrupt = asyncio.Event()
    hung.timeout_s = 60.0
    (tmp_path / "engine.pid").unlink()

    async def press() -> None:
        await _file(tmp_path / "engine.pid")
        interrupt.set()

    got, _ = await asyncio.wait_for(
        asyncio.gather(hung.render("Hello again.", interrupt), press(), return_exceptions=True),
        10,
    )
    assert isinstance(got, Interrupted)


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


async def _file(path: Path) -> None:
    await poll(path.exists, what=str(path))


# --------------------------------------------------------------------- the speech task


def fake_player(tmp_path: Path, seconds: float) -> Player:
    """A player (our own command, as aplay would be) that logs each file and "plays" for
    ``seconds`` in a child process."""
    script = tmp_path / "player"
    script.write_text(f'#!/bin/sh\necho "$1" >> "{tmp_path}/played"\nsleep {seconds}\n')
    script.chmod(0o755)
    return Player([str(script)])


def journal(tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / JOURNAL
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


async def until(condition: Callable[[], object], within: float = 20.0) -> None:
    await poll(condition, within=within)


async def test_a_safety_cue_interrupts_a_long_cue_and_is_played_next(tmp_path: Path) -> None:
    speaker = Speaker(espeak(tmp_path), fake_player(tmp_path, 30), journal_dir=tmp_path)
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(speaker.run())
        long_cue = Utterance("Look straight ahead.", Kind.SEGMENT, time.monotonic())
        speaker.say(long_cue)
        await until((tmp_path / "played").exists)
        speaker.say(Utterance("Keep going.", Kind.SPEED, time.monotonic()))
        pushed = speaker.say(Utterance("Stopped: safety key.", Kind.SAFETY, time.monotonic()))
        assert pushed.preempt
        await until(lambda: len((tmp_path / "played").read_text().splitlines()) == 2)
        await until(lambda: len(journal(tmp_path)) >= 2)
        task.cancel()
    outcomes = [(e["text"], e["outcome"]) for e in journal(tmp_path)]
    assert outcomes[:2] == [
        ("Look straight ahead.", "interrupted"),
        ("Keep going.", "dropped_after_safety"),
    ]
    played = (tmp_path / "played").read_text().splitlines()
    assert Path(played[1]).name == speaker.renderer.cache_path("Stopped: safety key.").name


async def test_without_a_sound_device_cues_are_rendered_and_reported_once(
    tmp_path: Path,
) -> None:
    speaker = Speaker(espeak(tmp_path), None, journal_dir=tmp_path, warm=[phrases.COUNTDOWN])
    diagnostics = speaker.diagnostics()
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(speaker.run())
        for text in ("One.", "Two."):
            kind = Kind.SEGMENT if text == "One." else Kind.REST_OVER
            speaker.say(Utterance(text, kind, time.monotonic()))
        first = await anext(diagnostics)
        await until(lambda: len(journal(tmp_path)) == 2)
        await until(lambda: speaker.renderer.cached(phrases.COUNTDOWN) is not None)
        task.cancel()
    assert first.code == "no_sound_device"
    assert [(e["text"], e["outcome"]) for e in journal(tmp_path)] == [
        ("One.", "rendered"),
        ("Two.", "rendered"),
    ]
    for entry in journal(tmp_path):
        wav = speaker.renderer.cache_dir / str(entry["file"])
        assert sox_rms(wav) > SILENCE_RMS
        assert entry["seconds"] == pytest.approx(sox_seconds(wav), abs=0.01)


async def test_a_hanging_engine_is_reported_once_and_later_cues_still_tried(
    tmp_path: Path,
) -> None:
    renderer = Renderer(
        tmp_path / "cache", Voice(), command=[str(hanging_engine(tmp_path))], timeout_s=0.3
    )
    speaker = Speaker(renderer, fake_player(tmp_path, 0), journal_dir=tmp_path)
    diagnostics = speaker.diagnostics()
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(speaker.run())
        speaker.say(Utterance("One.", Kind.SEGMENT, time.monotonic()))
        speaker.say(Utterance("Two.", Kind.REST_OVER, time.monotonic()))
        report = await anext(diagnostics)
        await until(lambda: len(journal(tmp_path)) == 2)
        task.cancel()
    assert report.code == "render_failed"
    assert [e["outcome"] for e in journal(tmp_path)] == ["render_failed", "render_failed"]
    assert speaker._diagnostics.empty()  # reported once
    assert not (tmp_path / "played").exists()


def test_the_cache_keeps_the_most_recently_used_phrases(tmp_path: Path) -> None:
    renderer = Renderer(tmp_path, Voice())
    texts = [f"Phrase {n}." for n in range(5)]
    for age, text in enumerate(reversed(texts)):
        path = renderer.cache_path(text)
        path.write_bytes(b"RIFF" + bytes(100))
        os.utime(path, (1000.0 - age, 1000.0 - age))  # texts[0] is the oldest
    assert renderer.cached(texts[0]) is not None  # used now: the newest
    removed = renderer.prune(keep=3)
    assert sorted(removed) == sorted(renderer.cache_path(t) for t in texts[1:3])
    assert [renderer.cached(t) is not None for t in texts] == [True, False, False, True, True]


def test_the_journal_is_rotated_at_its_size_limit(tmp_path: Path) -> None:
    journal_path = tmp_path / JOURNAL
    journal_path.write_text("x" * speaker_module.JOURNAL_MAX_BYTES)
    speaker_module._append(journal_path, {"text": "Small steps."}, None)
    assert (tmp_path / (JOURNAL + ".1")).stat().st_size == speaker_module.JOURNAL_MAX_BYTES
    assert json.loads(journal_path.read_text()) == {"text": "Small steps."}
