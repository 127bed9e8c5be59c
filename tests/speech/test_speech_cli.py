"""``treadctl speech say``: one phrase with the configured settings, or the reason it failed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.speech.conftest import need, sox_rms, sox_seconds
from treadctl.cli.main import main


def test_say_renders_with_the_settings_and_says_why_it_did_not_play(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    need("espeak-ng")
    code = main(["speech", "say", "Small steps.", "--audio-dir", str(tmp_path), "--render-only"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "espeak-ng: voice en, 150 wpm, volume 100" in out
    assert "not played: --render-only" in out
    (wav,) = tmp_path.glob("cue-*.wav")
    assert f"rendered {wav}" in out
    assert sox_seconds(wav) > 0.5
    assert sox_rms(wav) > 0.005


def test_say_fails_with_the_engines_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "treadctl.toml"
    config.write_text(
        f'state_dir = "{tmp_path}"\n\n[[devices]]\nid = "tm1"\naddress = "AA:BB:CC:DD:EE:01"\n'
        f'has_handrails = true\n\n[speech]\nengine = "{tmp_path / "no-engine"}"\n'
        'voice = "de"\nrate_wpm = 120\n',
        encoding="utf-8",
    )
    code = main(["speech", "say", "--config", str(config), "--render-only"])
    captured = capsys.readouterr()
    assert code == 1
    assert "voice de, 120 wpm" in captured.out
    assert "cannot run" in captured.err
    assert not list((tmp_path / "speech").glob("*.wav"))
