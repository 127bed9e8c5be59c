"""``treadctl demo``: the simulator, the daemon and a backward-walking session, in one command.

1. Start the simulator as a child process (preset ``generic``, someone on the belt, time
   compressed by ``--speedup``, 20 by default).
2. MQTT: the broker given with ``--mqtt HOST:PORT``; otherwise a private Mosquitto on a free
   local port when its binary is installed; otherwise no MQTT (said on the terminal). A broker
   merely found running on this machine is not used: the demo must not announce a simulated
   treadmill to someone's Home Assistant.
3. Speech (docs/speech.md): on when this machine has a sound device (the cues are spoken) or
   ``--audio-dir`` is given (the rendered cues and their journal are kept there); ``--no-speech``
   turns it off.
4. Run the daemon (the same code as ``treadctl run``) against the simulator over the Bumble
   backend for bleak (``--backend bluez``: through the BlueZ twin, docs/bluez-twin.md), start
   ``retro-beginner`` and show live progress. The demo plays the person: after each standing
   rest it presses resume.
5. Print the session summary; stop everything.
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
from treadctl.daemon.app import Daemon
from treadctl.daemon.children import (
    TwinInfo,
    bluez_twin_process,
    mosquitto_binary,
    private_mosquitto,
    simulator_process,
)
from treadctl.daemon.session_view import run_profile
from treadctl.speech.engine import sound_device
from treadctl.workout.summary import SessionSummary

DEMO_DEVICE = "demo"


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
    """Where the simulator's trace and control socket and the broker's config go (kept);
    None: a temporary directory (removed)."""
    audio_dir: Path | None = None
    """Keep the rendered cues here (and speak them if there is a sound device)."""
    no_speech: bool = False
    backend: str = "bumble"
    """``bumble``: the daemon reaches the simulator over a Bumble transport. ``bluez``: through
    the BlueZ twin on a private bus, with bleak's BlueZ backend (the path of a Raspberry Pi)."""


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
) -> Config:
    """``speech_dir``: speech on (played when a sound device exists), cues rendered there."""
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


async def run_demo(options: DemoOptions, view: Any) -> SessionSummary:
    with contextlib.ExitStack() as files:
        workdir = options.workdir or Path(files.enter_context(tempfile.TemporaryDirectory()))
        async with contextlib.AsyncExitStack() as stack:
            view.message(
                f"Starting the treadmill simulator (preset {options.preset}, "
                f"time x{options.speedup:g}) ..."
            )
            sim = await stack.enter_async_context(
                simulator_process(preset=options.preset, speedup=options.speedup, workdir=workdir)
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
            host: str | None = None
            port: int | None = None
            if options.no_mqtt:
                view.message("MQTT: off (--no-mqtt).")
            elif options.mqtt:
                host, _, port_text = options.mqtt.rpartition(":")
                port = int(port_text)
                view.message(f"MQTT: using the broker at {options.mqtt}.")
            elif (binary := mosquitto_binary()) is not None:
                host = "127.0.0.1"
                port = await stack.enter_async_context(private_mosquitto(binary, workdir))
                view.message(
                    f"MQTT: started a private Mosquitto on 127.0.0.1:{port} "
                    f"(try: mosquitto_sub -p {port} -t 'treadctl/#' -v)."
                )
            else:
                view.message(
                    "MQTT: no broker configured and Mosquitto is not installed; "
                    "running without MQTT."
                )
            profile, profiles_dir = profile_argument(options.profile)
            speech_dir, speech_line = demo_speech(options, workdir)
            view.message(speech_line)
            config = demo_config(
                sim.transport,
                host,
                port,
                workdir,
                speedup=options.speedup,
                profiles_dir=profiles_dir,
                speech_dir=speech_dir,
                backend=options.backend,
            )
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
                finally:
                    daemon.request_stop("demo finished")
                await running
            return summary
    raise AssertionError("unreachable")  # pragma: no cover
