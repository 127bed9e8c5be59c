"""The speech engine adapter: espeak-ng renders text to WAV files (cached), ``aplay`` or
``pw-play`` plays them.

Both run as child processes in their own process group, so a hung engine or player (and any
child it started) is killed as a whole when its deadline passes or when a safety cue pre-empts
it. Nothing here is awaited by anything but the speech task (docs/speech.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import hashlib
import json
import os
import shutil
import signal
import wave
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from treadctl.errors import TreadctlError

WAV_HEADER_BYTES = 44
CACHE_MAX_FILES = 300
"""Rendered phrases kept at most (about 100 kB each: 30 MB); beyond it the least recently used
go. The fixed phrases are used every session; summaries (a new text each time) age out."""
PLAY_MARGIN_S = 5.0
"""A player is given the WAV's duration plus this long before it counts as hung."""


@dataclass(frozen=True, slots=True)
class Voice:
    """espeak-ng's ``-v`` voice (a language such as ``en`` or ``de``, or ``en+f3``), ``-s`` rate
    in words per minute and ``-a`` amplitude (0-200, espeak-ng's default 100;
    docs/references.md#speech)."""

    voice: str = "en"
    rate_wpm: int = 150
    volume: int = 100


class SpeechError(TreadctlError):
    """Speech could not be rendered or played. ``stage`` is ``render`` or ``play``."""

    def __init__(self, stage: str, detail: str) -> None:
        self.stage = stage
        self.detail = detail
        super().__init__(f"speech {stage} failed: {detail}")


class Interrupted(TreadctlError):
    """Rendering or playing was stopped early (a safety cue pre-empted it)."""


def wav_seconds(path: Path) -> float:
    """Duration of a PCM WAV file."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())


async def _run(
    argv: Sequence[str],
    *,
    stdin: bytes | None,
    deadline_s: float,
    interrupt: asyncio.Event | None,
) -> tuple[int, bytes]:
    """Run ``argv`` in a new process group; kill the group at the deadline, on ``interrupt``
    or on cancellation. Returns (exit status, stderr). Raises :class:`Interrupted` or
    ``TimeoutError``; ``OSError`` when the program cannot be started."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    work = asyncio.ensure_future(proc.communicate(stdin))
    stop = asyncio.ensure_future(interrupt.wait()) if interrupt is not None else None
    try:
        waiting = {work} if stop is None else {work, stop}
        done, _ = await asyncio.wait(waiting, timeout=deadline_s, return_when="FIRST_COMPLETED")
        if work in done:
            _, err = work.result()
            return proc.returncode if proc.returncode is not None else -1, err or b""
        if stop is not None and stop in done:
            raise Interrupted(f"{argv[0]} interrupted")
        raise TimeoutError(f"{argv[0]} gave no result in {deadline_s:g} s")
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        if stop is not None:
            stop.cancel()
        # The group is dead: the pipes close and communicate() ends promptly.
        await asyncio.gather(work, return_exceptions=True)
        if stop is not None:
            await asyncio.gather(stop, return_exceptions=True)


class Renderer:
    """Renders text to a WAV file with espeak-ng, once per (text, voice, rate, volume)."""

    def __init__(
        self,
        cache_dir: Path,
        voice: Voice,
        *,
        command: Sequence[str] = ("espeak-ng",),
        timeout_s: float = 5.0,
    ) -> None:
        self.cache_dir = cache_dir
        self.voice = voice
        self.command = list(command)
        self.timeout_s = timeout_s

    def cache_path(self, text: str) -> Path:
        key = json.dumps([text, self.voice.voice, self.voice.rate_wpm, self.voice.volume])
        digest = hashlib.sha256(key.encode()).hexdigest()[:20]
        return self.cache_dir / f"cue-{digest}.wav"

    def cached(self, text: str) -> Path | None:
        """The rendered file if it exists, marked as just used (blocking file system calls:
        call it off the event loop)."""
        path = self.cache_path(text)
        if not path.is_file() or path.stat().st_size <= WAV_HEADER_BYTES:
            return None
        with contextlib.suppress(OSError):
            os.utime(path)
        return path

    def prune(self, keep: int = CACHE_MAX_FILES) -> list[Path]:
        """Remove the least recently used rendered files beyond ``keep`` (blocking)."""
        files = sorted(self.cache_dir.glob("cue-*.wav"), key=_mtime, reverse=True)
        removed = []
        for old in files[keep:]:
            with contextlib.suppress(OSError):
                old.unlink()
                removed.append(old)
        return removed

    async def render(self, text: str, interrupt: asyncio.Event | None = None) -> Path:
        """The WAV file for ``text``, rendered now unless already cached."""
        found = await asyncio.to_thread(self.cached, text)
        if found is not None:
            return found
        path = self.cache_path(text)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp")
        await asyncio.to_thread(self.cache_dir.mkdir, parents=True, exist_ok=True)
        v = self.voice
        argv = [*self.command, "-v", v.voice, "-s", str(v.rate_wpm), "-a", str(v.volume)]
        argv += ["-w", str(tmp), "--stdin"]
        try:
            status, err = await _run(
                argv, stdin=text.encode(), deadline_s=self.timeout_s, interrupt=interrupt
            )
        except TimeoutError as exc:  # before OSError: TimeoutError is one
            raise SpeechError("render", str(exc)) from exc
        except OSError as exc:
            raise SpeechError("render", f"cannot run {self.command[0]}: {exc.strerror}") from exc
        try:
            if status != 0:
                message = err.decode(errors="replace").strip()[:200]
                raise SpeechError("render", f"{self.command[0]} exited {status}: {message}")
            size = await asyncio.to_thread(lambda: tmp.stat().st_size if tmp.exists() else 0)
            if size <= WAV_HEADER_BYTES:
                raise SpeechError("render", f"{self.command[0]} wrote no audio")
            await asyncio.to_thread(os.replace, tmp, path)
        finally:
            await asyncio.to_thread(tmp.unlink, missing_ok=True)
        await asyncio.to_thread(self.prune)
        return path


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


PLAYERS: dict[str, list[str]] = {"pw-play": ["pw-play"], "aplay": ["aplay", "-q"]}


def sound_device(environ: Mapping[str, str] | None = None) -> str | None:
    """Which player can reach a sound device here: ``pw-play`` when a PipeWire socket and the
    program exist, ``aplay`` when an ALSA playback device (``/dev/snd/pcmC*D*p``) and the
    program exist, else None (docs/references.md#speech)."""
    env = os.environ if environ is None else environ
    runtime = env.get("XDG_RUNTIME_DIR")
    remote = env.get("PIPEWIRE_REMOTE", "pipewire-0")
    socket = Path(remote) if os.path.isabs(remote) else Path(runtime or "/nonexistent") / remote
    if shutil.which("pw-play") and socket.exists():
        return "pw-play"
    if shutil.which("aplay") and glob.glob("/dev/snd/pcmC*D*p"):
        return "aplay"
    return None


class Player:
    """Plays WAV files with one of :data:`PLAYERS` (or any command taking the file last)."""

    def __init__(self, command: Sequence[str]) -> None:
        self.command = list(command)

    async def play(self, path: Path, interrupt: asyncio.Event | None = None) -> None:
        """Play ``path`` to its end; :class:`Interrupted` when ``interrupt`` is set first."""
        seconds = await asyncio.to_thread(wav_seconds, path)
        try:
            status, err = await _run(
                [*self.command, str(path)],
                stdin=None,
                deadline_s=seconds + PLAY_MARGIN_S,
                interrupt=interrupt,
            )
        except TimeoutError as exc:  # before OSError: TimeoutError is one
            raise SpeechError("play", str(exc)) from exc
        except OSError as exc:
            raise SpeechError("play", f"cannot run {self.command[0]}: {exc.strerror}") from exc
        if status != 0:
            message = err.decode(errors="replace").strip()[:200]
            raise SpeechError("play", f"{self.command[0]} exited {status}: {message}")
