"""``treadctl decode``: run through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ftms.ftms_captures import CS_WP8, cs_wp8_frames
from treadctl.cli.main import main

REPO = Path(__file__).resolve().parents[2]


def test_decodes_every_frame_of_the_capture(capsys: pytest.CaptureFixture[str]) -> None:
    frames = cs_wp8_frames()
    assert main(["decode", str(CS_WP8)]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line[:3].strip().isdigit()]
    assert len(lines) == len(frames) == 52
    assert all(" error" not in line for line in lines)
    example = next(line for line in lines if "84 24 2c 01 2f 00 00 02" in line)
    for meaning in ("speed 3.00 km/h", "distance 47 m", "energy 2 kcal", "elapsed 58 s"):
        assert meaning in example
    assert "steps 86" in example
    response = next(line for line in lines if line.split()[1:5] == ["2ad9", "80", "02", "01"])
    assert "set target speed -> success" in response
    assert "! padded_status" in out
    assert "! empty_training_string" in out


def test_default_file_is_the_bundled_capture(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    assert main(["decode"]) == 0
    assert "set target speed 1.50 km/h" in capsys.readouterr().out


def test_bad_frames_are_reported_and_fail_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "capture.jsonl"
    lines = [
        {"characteristic": "2acd", "hex": "84242c01"},  # truncated
        {"characteristic": "2ada", "hex": "03"},  # safety key
        {"characteristic": "2a37", "hex": "0048"},  # heart rate: not ours
        {"characteristic": "2ad9", "hex": "01", "direction": "server->client indication"},
    ]
    capture.write_text(
        "\n".join(json.dumps(line) for line in lines) + "\nnot json\n", encoding="utf-8"
    )
    assert main(["decode", str(capture)]) == 1
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    assert "error:" in out[0]
    assert "raw [84 24 2c 01]" in out[0]
    assert "stopped by safety key" in out[1]
    assert "not decoded" in out[2]
    assert "success (bare result byte)" in out[3]
    assert "! bare_result" in out[4]
    assert "not a capture line" in out[5]
    assert "2 frame(s) could not be decoded" in captured.err


def test_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", str(tmp_path / "absent.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
