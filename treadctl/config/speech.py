"""``[speech]``: spoken cues."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from treadctl.config.section import Section
from treadctl.numbers import Number, WholeNumber

_VOICE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]{0,63}\Z")


def _voice(value: str) -> str:
    if not _VOICE.match(value):
        raise ValueError("must be an espeak-ng voice name such as 'en', 'en-gb', 'de' or 'en+f3'")
    return value


class SpeechConfig(Section):
    """``[speech]``: spoken cues on this machine (docs/speech.md). Off by default: a headless
    server has no loudspeaker; Home Assistant can speak the cues instead (``mqtt_events``)."""

    enabled: bool = False
    """Speak the cues here (render with the engine, play when a sound device exists)."""
    voice: Annotated[str, AfterValidator(_voice)] = "en"
    """espeak-ng voice (``espeak-ng --voices`` lists them): a language, optionally ``+variant``."""
    rate_wpm: Annotated[WholeNumber, Field(ge=80, le=300)] = 150
    """Speaking rate in words per minute (espeak-ng's own default is 175)."""
    volume: Annotated[WholeNumber, Field(ge=0, le=200)] = 100
    """espeak-ng amplitude, 0-200 (100: espeak-ng's default)."""
    player: Literal["auto", "aplay", "pw-play", "none"] = "auto"
    """``auto``: pw-play with a PipeWire socket, else aplay with an ALSA playback device, else
    none (cues are rendered to ``audio_dir`` only, and that is reported once)."""
    engine: Annotated[str, Field(min_length=1)] = "espeak-ng"
    """The engine program (a name on ``PATH`` or a path); it is given espeak-ng's options."""
    audio_dir: Path | None = None
    """Rendered cues (cached) and the journal ``spoken.jsonl``; ``<state_dir>/speech`` if unset."""
    render_timeout_s: Annotated[Number, Field(gt=0, le=60)] = 5.0
    """An engine that has not finished a phrase in this time is killed (the cue is skipped)."""
    queue_size: Annotated[WholeNumber, Field(ge=1, le=64)] = 8
    """Cues waiting at most; beyond it the oldest least urgent one is dropped."""
    mqtt_events: bool = True
    """Publish every cue as a ``cue`` event with a ``speak`` text (with MQTT enabled), whether
    or not it is spoken here."""
