"""``treadctl demo``: the simulator, the daemon and a backward-walking session, in one command.

1. Start the simulator as a child process (preset ``generic``, someone on the belt, time
   compressed by ``--speedup``, 20 by default) with its heart-rate chest strap (``--strap``).
2. MQTT: the broker given with ``--mqtt HOST:PORT``; otherwise a private Mosquitto on a free
   local port when its binary is installed; otherwise no MQTT (said on the terminal). A broker
   merely found running on this machine is not used: the demo must not announce a simulated
   treadmill to someone's Home Assistant.
3. Speech (docs/speech.md): on when this machine has a sound device (the cues are spoken) or
   ``--audio-dir`` is given (the rendered cues and their journal are kept there); ``--no-speech``
   turns it off.
4. The walker is a person, ``demo-walker``, aged 70 (``DEMO_AGE``): the heart-rate guard's limits
   come from the age (docs/heart-rate.md) and the strap is the treadmill's heart-rate source, so
   the live line shows the heart rate and whether the guard holds.
5. Run the daemon (the same code as ``treadctl run``) against the simulator over the Bumble
   backend for bleak (``--backend bluez``: through the BlueZ twin, docs/bluez-twin.md), start
   ``retro-beginner`` and show live progress. The demo plays the person: after each standing
   rest it presses resume.
6. The session is recorded in ``history.sqlite3`` in the work directory (kept: ``--workdir``, or
   a new ``treadctl-demo-*`` directory under the temporary directory); once the daemon has
   stopped, the session is exported there as FIT, TCX and CSV and drawn as an SVG chart.
7. Print the session summary (with the heart rate) and where the files are; stop everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from treadctl.config.model import Config
from treadctl.config.people import PersonConfig
from treadctl.daemon.app import Daemon
from treadctl.daemon.children import (
    TwinInfo,
    bluez_twin_process,
    mosquitto_binary,
    private_mosquitto,
    simulator_process,
)
from treadctl.daemon.demo_files import DemoFiles, write_session_files
from treadctl.daemon.session_view import run_profile
from treadctl.history.store import HistoryError
from treadctl.speech.engine import sound_device
from treadctl.workout.summary import SessionSummary

DEMO_DEVICE = "demo"
DEMO_PERSON = "demo-walker"
DEMO_AGE = 70
"""The demo walker's age: the guard estimates the maximum as 220 - 70 = 150 bpm, soft limit
105, hard limit 120 (docs/heart-rate.md). The simulated heart (docs/simulator.md, 70 bpm at rest
+ 14 bpm per km/h) settles near 91 bpm at retro-beginner's 1.5 km/h: shown, never held."""
HISTORY_FILE = "history.sqlite3"
"""The daemon's SQLite history in its state directory (docs/history.md)."""
RECORDED_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class DemoOptions:
    profile: str = "retro-beginner"
    """A profile name, or the path of a profile file."""
    speedup: float = 20.0
    preset: str = "generic"
    mqtt: str | None = None
    """``HOST:PORT`` of a broker to use; None: a private Mosquitto if installed."""
    no_mqtt: bool = False
    workdir: Path | None = None
    """Where the history, its exports, the simulator's trace and control socket and the
    broker's config go (kept); None: a new ``treadctl-demo-*`` temporary directory (kept)."""
    audio_dir: Path | None = None
    """Keep the rendered cues here (and speak them if there is a sound device)."""
    no_speech: bool = False
    backend: str = "bumble"
    """``bumble``: the daemon reaches the simulator over a Bumble transport. ``bluez``: through
    the BlueZ twin on a private bus, with bleak's BlueZ backend (the path of a Raspberry Pi)."""


@dataclass
class DemoReport:
    summary: SessionSummary
    heart_rate: dict[str, Any] | None
    """The heart-rate feed's summary of the session (average, maximum, time above the soft
    limit; treadctl.daemon.heart_rate)."""
    workdir: Path
    history: Path | None
    """The SQLite history, when the session was recorded."""
    session_id: str | None
    files: DemoFiles


PROFILE_SUFFIXES = (".yaml", ".yml", ".toml")


def profile_argument(text: str) -> tuple[str, Path | None]:
    """A profile name, or a profile file: ``(name, directory to add to the catalog)``.

    A file is found by its path; its name is the file's stem (the loader requires the
    profile's ``name`` to match it), and its directory joins the catalog."""
    path = Path(text)
    if path.suffix in PROFILE_SUFFIXES and path.is_file():
        return path.stem, path.resolve().parent
    return text, None


def demo_config(
    transport: str,
    mqtt_host: str | None,
    mqtt_port: int | None,
    state: Path,
    *,
    speedup: float = 1.0,
    profiles_dir: Path | None = None,
    speech_dir: Path | None = None,
    backend: str = "bumble",
    strap: bool = False,
) -> Config:
    """``speech_dir``: speech on (played when a sound device exists), cues rendered there.
    ``strap``: the heart-rate source is the first Heart Rate Service advertiser (the
    simulator's strap)."""
    mqtt: dict[str, Any] = {"enabled": False}
    if mqtt_host is not None and mqtt_port is not None:
        mqtt = {
            "enabled": True,
            "host": mqtt_host,
            "port": mqtt_port,
            "client_id": "treadctl-demo",
            "discovery": False,
        }
    return Config.model_validate(
        {
            "devices": [
                {
                    "id": DEMO_DEVICE,
                    "name": "treadsim",
                    "has_handrails": True,
                    "simulator": True,
                    "speedup": speedup,
                    "backend": backend,
                    **({"transport": transport} if backend == "bumble" else {}),
                    **({"heart_rate": {"source": "strap"}} if strap else {}),
                }
            ],
            "ble": {"connect_timeout_s": 20.0, "scan_timeout_s": 10.0},
            "mqtt": mqtt,
            "state_dir": str(state),
            "profiles_dir": str(profiles_dir) if profiles_dir is not None else None,
            "speech": {
                "enabled": speech_dir is not None,
                "audio_dir": str(speech_dir) if speech_dir is not None else None,
            },
        }
    )


def demo_speech(options: DemoOptions, workdir: Path) -> tuple[Path | None, str]:
    """Where the demo renders its cues (None: speech off), and a line saying so."""
    device = sound_device()
    if options.no_speech:
        return None, "Speech: off (--no-speech)."
    if device is None and options.audio_dir is None:
        return None, "Speech: off (no sound device; --audio-dir DIR keeps the rendered cues)."
    audio = options.audio_dir or workdir / "speech"
    played = f"spoken through {device}" if device else "not played (no sound device)"
    return audio, f"Speech: cues {played}, rendered to {audio}."


@contextlib.contextmanager
def twin_environment(twin: TwinInfo) -> Iterator[None]:
    """This process takes the twin's private bus for the system bus while the block runs."""
    saved = {key: os.environ.get(key) for key in ("DBUS_SYSTEM_BUS_ADDRESS", "PATH")}
    os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = twin.bus
    os.environ["PATH"] = os.pathsep.join([twin.bin_dir, saved["PATH"] or ""])
    try:
        yield
    finally:
        # The twin (and its bus) stops next: bleak's manager would warn that "BlueZ" was lost.
        logging.getLogger("bleak.backends.bluezdbus.manager").setLevel(logging.ERROR)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def demo_person() -> PersonConfig:
    return PersonConfig(id=DEMO_PERSON, name="Demo walker", age=DEMO_AGE)


async def run_demo(options: DemoOptions, view: Any) -> DemoReport:
    if options.workdir is not None:
        workdir = options.workdir
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        workdir = Path(tempfile.mkdtemp(prefix="treadctl-demo-"))
    async with contextlib.AsyncExitStack() as stack:
        view.message(
            f"Starting the treadmill simulator (preset {options.preset}, "
            f"time x{options.speedup:g}) with its heart-rate chest strap ..."
        )
        sim = await stack.enter_async_context(
            simulator_process(
                preset=options.preset,
                speedup=options.speedup,
                workdir=workdir,
                extra_args=("--strap",),
            )
        )
        if options.backend == "bluez":
            view.message(
                "BlueZ: started the BlueZ twin on a private D-Bus (docs/bluez-twin.md); "
                "the daemon uses bleak's BlueZ backend, as on a Raspberry Pi."
            )
            twin = await stack.enter_async_context(
                bluez_twin_process(sim.transport, workdir=workdir)
            )
            stack.enter_context(twin_environment(twin))
        host, port = await _mqtt(options, stack, workdir, view)
        profile, profiles_dir = profile_argument(options.profile)
        speech_dir, speech_line = demo_speech(options, workdir)
        view.message(speech_line)
        person = demo_person()
        limits = person.heart_rate_limits()
        if limits is not None:
            view.message(
                f"Walker: {DEMO_PERSON}, aged {DEMO_AGE}, heart rate from the strap; "
                f"guard: {limits.describe()}. At the soft limit speed increases are held, "
                "above the hard limit the belt ramps down and stops."
            )
        config = demo_config(
            sim.transport,
            host,
            port,
            workdir,
            speedup=options.speedup,
            profiles_dir=profiles_dir,
            speech_dir=speech_dir,
            backend=options.backend,
            strap=True,
        ).model_copy(update={"people": [person]})
        daemon = Daemon(config)
        async with asyncio.TaskGroup() as tg:
            running = tg.create_task(daemon.run(handle_signals=False))
            try:
                summary = await run_profile(
                    daemon,
                    DEMO_DEVICE,
                    profile,
                    view,
                    connect_timeout_s=30.0,
                    auto_resume_rests=True,
                )
                runtime = daemon.devices[DEMO_DEVICE]
                feed = runtime.heart_rate
                heart_rate = feed.summary() if feed is not None else None
                session_id = runtime.session_id
                if session_id is not None and daemon.history is not None:
                    try:
                        await daemon.history.wait_recorded(session_id, timeout_s=RECORDED_TIMEOUT_S)
                    except HistoryError as exc:
                        view.message(f"History: the session's end was not recorded: {exc}")
            finally:
                daemon.request_stop("demo finished")
            await running
    history = workdir / HISTORY_FILE
    files = DemoFiles()
    if session_id is not None and history.exists():
        files = write_session_files(history, session_id, workdir)
    return DemoReport(
        summary=summary,
        heart_rate=dict(heart_rate) if heart_rate is not None else None,
        workdir=workdir,
        history=history if history.exists() else None,
        session_id=session_id,
        files=files,
    )


async def _mqtt(
    options: DemoOptions, stack: contextlib.AsyncExitStack, workdir: Path, view: Any
) -> tuple[str | None, int | None]:
    """The broker the daemon uses (None, None: no MQTT), said on the terminal."""
    if options.no_mqtt:
        view.message("MQTT: off (--no-mqtt).")
        return None, None
    if options.mqtt:
        host, _, port_text = options.mqtt.rpartition(":")
        view.message(f"MQTT: using the broker at {options.mqtt}.")
        return host, int(port_text)
    if (binary := mosquitto_binary()) is not None:
        port = await stack.enter_async_context(private_mosquitto(binary, workdir))
        view.message(
            f"MQTT: started a private Mosquitto on 127.0.0.1:{port} "
            f"(try: mosquitto_sub -p {port} -t 'treadctl/#' -v)."
        )
        return "127.0.0.1", port
    view.message("MQTT: no broker configured and Mosquitto is not installed; running without MQTT.")
    return None, None
