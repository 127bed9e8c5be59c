"""The terminal live view: pure rendering of snapshots and summaries, and what LiveView writes."""

from __future__ import annotations

import io
from dataclasses import replace

from treadctl.control.session_states import SessionSnapshot, SessionState
from treadctl.daemon.live_view import (
    BAR_WIDTH,
    LiveView,
    progress_bar,
    render_heart_rate,
    render_line,
    render_summary,
)
from treadctl.workout.summary import SessionSummary

RUNNING = SessionSnapshot(
    at=0.0,
    state=SessionState.RUNNING,
    reason=None,
    profile="retro-beginner",
    segment_index=2,
    segment_count=9,
    segment_name="block 1",
    segment_kind="backward",
    facing="backward",
    cue="Look straight ahead, small steps, hands on the rails.",
    target_speed=100,
    reported_speed=95,
    target_incline=None,
    reported_incline=None,
    elapsed_s=300.0,
    segment_remaining_s=120.0,
    remaining_s=900.0,
    speed_cap=150,
    incline_cap=0,
    latch=None,
    belt_phase="running",
)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar() -> None:
    assert progress_bar(0, 100) == "[" + "-" * BAR_WIDTH + "]"
    assert progress_bar(50, 100, width=10) == "[#####-----]"
    assert progress_bar(100, 100, width=4) == "[####]"
    assert progress_bar(150, 100, width=4) == "[####]"  # never overflows
    assert progress_bar(-5, 100, width=4) == "[----]"
    assert progress_bar(10, None, width=4) == "[----]"  # unknown total
    assert progress_bar(10, 0, width=4) == "[----]"


def test_running_line_shows_segment_speeds_times_and_bar() -> None:
    line = render_line(RUNNING)
    assert line.startswith("running ")
    assert "3/9 block 1 (backward)" in line
    assert "target 1.00 belt 0.95 km/h (cap 1.5)" in line
    assert "05:00 elapsed, 15:00 left" in line
    assert line.endswith("[#####---------------]")  # 300 of 1200 s


def test_paused_line_says_why_and_unknown_values_are_dashes() -> None:
    paused = replace(
        RUNNING,
        state=SessionState.PAUSED,
        reason="rest_over",
        reported_speed=None,
        target_speed=None,
    )
    line = render_line(paused)
    assert line.startswith("paused: rest_over")
    assert "target   -   belt   -   km/h" in line


def test_finished_line_has_a_full_bar_and_idle_has_no_segment() -> None:
    finished = replace(RUNNING, state=SessionState.FINISHED, segment_index=None, remaining_s=None)
    assert render_line(finished).endswith("[" + "#" * BAR_WIDTH + "]")
    stopped_early = replace(RUNNING, state=SessionState.FINISHED, reason="stopped_by_user")
    assert render_line(stopped_early).endswith("[#####---------------]")
    idle = replace(RUNNING, state=SessionState.IDLE, segment_index=None, remaining_s=None)
    line = render_line(idle)
    assert "| -  " in line
    assert "--:-- left" in line


def test_summary_text() -> None:
    summary = SessionSummary(
        profile="retro-beginner",
        ended="aborted",
        reason="safety_key",
        duration_s=754.2,
        active_s=700.0,
        distance_m=250,
        average_speed=112,
        max_speed=150,
        steps=None,
    )
    text = render_summary(summary)
    assert text.splitlines()[0] == "Session aborted: retro-beginner"
    assert "12:34 (11:40 active)" in text
    assert "250 m" in text
    assert "average 1.12 km/h, max 1.50 km/h" in text
    assert "steps        -" in text
    assert text.splitlines()[-1].strip() == "reason       safety_key"
    finished = replace(summary, ended="finished", reason=None, steps=321)
    assert "reason" not in render_summary(finished)
    assert "321" in render_summary(finished)


def test_plain_output_writes_changes_and_cues_once() -> None:
    out = io.StringIO()
    view = LiveView(out)
    view.show(RUNNING)
    view.show(replace(RUNNING, elapsed_s=301.0, reported_speed=96))  # same segment: skipped
    view.show(replace(RUNNING, elapsed_s=331.0))  # 30 s later: a progress line
    view.show(replace(RUNNING, segment_index=3, elapsed_s=332.0))  # new segment
    lines = out.getvalue().splitlines()
    assert lines[0] == ">> " + RUNNING.cue
    assert len(lines) == 4
    assert [line.count(">>") for line in lines] == [1, 0, 0, 0]
    assert "\r" not in out.getvalue()


def test_terminal_output_redraws_one_line() -> None:
    out = _Tty()
    view = LiveView(out)
    view.show(RUNNING)
    view.show(replace(RUNNING, elapsed_s=301.0))
    view.message("done")
    text = out.getvalue()
    assert text.startswith(">> " + RUNNING.cue + "\n")
    assert text.count("\r\x1b[2K") == 2
    assert text.endswith("\ndone\n")  # the open progress line is ended before a message


def test_heart_rate_in_the_line_and_the_summary() -> None:
    assert render_line(RUNNING, "112 bpm (holding)").endswith(" | HR 112 bpm (holding)")
    assert "HR" not in render_line(RUNNING)
    assert render_heart_rate(None, False) == "--- bpm"
    # A guarded session names its soft limit until the guard holds.
    assert render_heart_rate(84, False, 105) == "84 bpm (guard: soft limit 105)"
    assert render_heart_rate(112, True, 105) == "112 bpm (holding)"
    summary = SessionSummary("p", "aborted", "heart_rate", 60.0, 60.0, 20, 100, 150, None)
    hr = {"average_bpm": 108.5, "max_bpm": 124, "above_soft_s": 31.0, "soft_bpm": 105}
    text = render_summary(summary, hr)
    assert "heart rate   average 108.5 bpm, max 124 bpm, 31.0 s at or above 105 bpm" in text
    assert "heart rate" not in render_summary(summary, {"max_bpm": None})
    unguarded = render_summary(summary, {"average_bpm": 90.0, "max_bpm": 99, "guarded": False})
    assert unguarded.splitlines()[-2] == "  heart rate   average 90.0 bpm, max 99 bpm"
