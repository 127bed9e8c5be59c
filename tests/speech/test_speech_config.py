"""``[speech]``: off by default, values checked (a voice can never become an engine option)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from treadctl.config.speech import SpeechConfig
from treadctl.daemon.speech import build_speaker


def test_speech_is_off_by_default_and_cue_events_on() -> None:
    config = SpeechConfig()
    assert config.enabled is False
    assert config.mqtt_events is True
    assert (config.voice, config.rate_wpm, config.volume, config.player) == ("en", 150, 100, "auto")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("voice", "--stdout"),
        ("voice", "en gb"),
        ("voice", ""),
        ("rate_wpm", 20),
        ("rate_wpm", 1000),
        ("volume", 201),
        ("player", "mpv"),
        ("queue_size", 0),
        ("render_timeout_s", 0),
    ],
)
def test_bad_speech_settings_are_refused(key: str, value: object) -> None:
    with pytest.raises(ValidationError):
        SpeechConfig.model_validate({key: value})


def test_the_speaker_follows_the_settings(tmp_path: Path) -> None:
    speaker = build_speaker(
        SpeechConfig(enabled=True, voice="en-gb", rate_wpm=120, volume=80, player="none"),
        tmp_path,
    )
    assert speaker.player is None
    assert speaker.renderer.cache_dir == tmp_path / "speech"
    assert (speaker.renderer.voice.voice, speaker.renderer.voice.rate_wpm) == ("en-gb", 120)
    assert speaker.renderer.voice.volume == 80
    aplay = build_speaker(SpeechConfig(player="aplay", audio_dir=tmp_path / "a"), tmp_path)
    assert aplay.player is not None
    assert aplay.player.command == ["aplay", "-q"]
    assert aplay.journal == tmp_path / "a" / "spoken.jsonl"
