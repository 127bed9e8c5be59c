"""``treadctl speech say [TEXT]``: say one phrase with the configured ``[speech]`` settings.

For setting up a loudspeaker (docs/speech.md): it renders the phrase with the engine, voice, rate
and volume of the configuration, plays it through the player the daemon would use, and says
what it did or why it could not. Exit 0 when played (or, with ``--render-only`` or no sound
device, rendered); 1 when the engine or the player failed; 2 on a configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from treadctl.cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from treadctl.cli.refusals import fail

DEFAULT_TEXT = "Starting in 3, 2, 1."


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "speech",
        help="try the spoken cues",
        description="Try the spoken cues with the [speech] settings (docs/speech.md).",
    )
    actions = parser.add_subparsers(dest="speech_action", metavar="ACTION", required=True)
    say = actions.add_parser(
        "say",
        help="render and play one phrase",
        description="Render one phrase with the configured engine and voice, and play it.",
        epilog="Exit codes: 0 played (or rendered), 1 engine or player failed, 2 bad config.",
    )
    say.add_argument("text", nargs="?", default=DEFAULT_TEXT, help=f"(default {DEFAULT_TEXT!r})")
    say.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="configuration file (default: /etc/treadctl/config.toml if it exists, else the "
        "[speech] defaults)",
    )
    say.add_argument("--audio-dir", type=Path, metavar="DIR", help="where the WAV file goes")
    say.add_argument("--render-only", action="store_true", help="do not play it")
    say.set_defaults(handler=_say)


def _say(args: argparse.Namespace) -> int:
    from treadctl.config import DEFAULT_CONFIG_PATH, ConfigError, load_config  # noqa: PLC0415
    from treadctl.config.speech import SpeechConfig  # noqa: PLC0415
    from treadctl.daemon.speech import build_speaker  # noqa: PLC0415
    from treadctl.speech.engine import SpeechError, wav_seconds  # noqa: PLC0415

    state_dir = Path(".")
    if args.config is not None or DEFAULT_CONFIG_PATH.exists():
        try:
            config = load_config(args.config)
        except ConfigError as exc:
            fail(str(exc))
            return EXIT_USAGE
        speech, state_dir = config.speech, config.state_dir
    else:
        speech = SpeechConfig()
    changes: dict[str, object] = {}
    if args.audio_dir is not None:
        changes["audio_dir"] = args.audio_dir
    if args.render_only:
        changes["player"] = "none"
    speaker = build_speaker(speech.model_copy(update=changes), state_dir)
    voice = speaker.renderer.voice
    print(
        f"engine {speech.engine}: voice {voice.voice}, {voice.rate_wpm} wpm, volume {voice.volume}"
    )

    async def run() -> Path:
        path = await speaker.renderer.render(args.text)
        print(f"rendered {path} ({wav_seconds(path):.1f} s)")
        if speaker.player is not None:
            await speaker.player.play(path)
            print(f"played with {speaker.player.command[0]}")
        return path

    try:
        asyncio.run(run())
    except SpeechError as exc:
        fail(str(exc))
        return EXIT_FAILED
    if speaker.player is None:
        reason = "--render-only" if args.render_only else _no_player(speech.player)
        print(f"not played: {reason}")
    return EXIT_OK


def _no_player(choice: str) -> str:
    if choice == "none":
        return "player = none"
    return "no sound device (no PipeWire socket, no ALSA playback device)"
