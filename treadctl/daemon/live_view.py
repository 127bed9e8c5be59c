"""The live progress view of a session in a terminal, and the session summary as text.

``render_line`` and ``render_summary`` are pure (snapshot in, text out), so the view is tested
without a terminal. ``LiveView`` writes them: on a TTY one line redrawn in place (plus the cue
when it changes), elsewhere one line per change, so logs and pipes stay readable.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TextIO

from treadctl.control.session_states import SessionSnapshot, SessionState
from treadctl.workout.summary import SessionSummary

BAR_WIDTH = 20
PLAIN_EVERY_S = 30.0
"""Without a terminal, a progress line at most every 30 s of session time (plus every change of
state or segment), so logs and pipes stay readable."""


def _kmh(centi: int | None) -> str:
    return "  -  " if centi is None else f"{centi / 100:4.2f}"


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    whole = max(0, int(seconds))
    return f"{whole // 60:02d}:{whole % 60:02d}"


def progress_bar(done: float, total: float | None, width: int = BAR_WIDTH) -> str:
    """``[#####-----]`` for done/total; an empty bar when the total is unknown."""
    if not total or total <= 0:
        return "[" + "-" * width + "]"
    filled = min(width, max(0, round(width * done / total)))
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def render_line(snap: SessionSnapshot, heart_rate: str | None = None) -> str:
    """One status line: state, segment, speeds, times, a progress bar, and the heart rate
    (``heart_rate``, already in words) when the treadmill has a heart-rate source."""
    total = None if snap.remaining_s is None else snap.elapsed_s + snap.remaining_s
    if snap.state == SessionState.FINISHED and snap.remaining_s is None:
        total = snap.elapsed_s  # ran to its end: a full bar
    if snap.segment_index is not None and snap.segment_count:
        segment = f"{snap.segment_index + 1}/{snap.segment_count} {snap.segment_name or ''}"
        if snap.facing:
            segment += f" ({snap.facing})"
    else:
        segment = "-"
    state = snap.state.value
    if snap.reason and snap.state in (SessionState.PAUSED, SessionState.ABORTED):
        state += f": {snap.reason}"
    return (
        f"{state:<10} | {segment:<34} | target {_kmh(snap.target_speed)} "
        f"belt {_kmh(snap.reported_speed)} km/h (cap {snap.speed_cap / 100:.1f}) | "
        f"{_clock(snap.elapsed_s)} elapsed, {_clock(snap.remaining_s)} left "
        f"{progress_bar(snap.elapsed_s, total)}"
    ) + (f" | HR {heart_rate}" if heart_rate else "")


def render_heart_rate(bpm: int | None, holding: bool, soft_bpm: int | None = None) -> str:
    """``96 bpm``, ``--- bpm`` without a value, `` (holding)`` while the guard holds;
    ``soft_bpm`` (a guarded session) adds `` (guard: soft limit 105)`` while it does not."""
    text = f"{bpm if bpm is not None else '---'} bpm"
    if holding:
        return text + " (holding)"
    return text + (f" (guard: soft limit {soft_bpm})" if soft_bpm is not None else "")


def render_summary(summary: SessionSummary, heart_rate: Mapping[str, object] | None = None) -> str:
    """The end-of-session summary, a few lines (``heart_rate``: the heart-rate feed's summary,
    treadctl.daemon.heart_rate, when the treadmill has a source)."""
    lines = [
        f"Session {summary.ended}: {summary.profile or '-'}",
        f"  duration     {_clock(summary.duration_s)} ({_clock(summary.active_s)} active)",
        f"  distance     {summary.distance_m} m",
        f"  speed        average {summary.average_speed / 100:.2f} km/h, "
        f"max {summary.max_speed / 100:.2f} km/h",
        f"  steps        {summary.steps if summary.steps is not None else '-'}",
    ]
    if heart_rate and heart_rate.get("max_bpm") is not None:
        line = (
            f"  heart rate   average {heart_rate.get('average_bpm')} bpm, "
            f"max {heart_rate.get('max_bpm')} bpm"
        )
        if heart_rate.get("soft_bpm") is not None:  # guarded: the time above the soft limit
            line += f", {heart_rate.get('above_soft_s')} s at or above {heart_rate['soft_bpm']} bpm"
        lines.append(line)
    if summary.reason:
        lines.append(f"  reason       {summary.reason}")
    return "\n".join(lines)


class LiveView:
    """Writes snapshots to a stream as they change."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._out = stream if stream is not None else sys.stdout
        self._tty = self._out.isatty()
        self._cue: str | None = None
        self._open_line = False
        self._last_key: tuple[object, ...] | None = None
        self._last_elapsed = float("-inf")

    def show(self, snap: SessionSnapshot, heart_rate: str | None = None) -> None:
        if snap.cue and snap.cue != self._cue:
            self._end_line()
            self._out.write(f">> {snap.cue}\n")
            self._cue = snap.cue
        line = render_line(snap, heart_rate)
        if self._tty:
            self._out.write("\r\x1b[2K" + line)
            self._open_line = True
        else:
            key = (snap.state, snap.segment_index, snap.reason)
            if key == self._last_key and snap.elapsed_s - self._last_elapsed < PLAIN_EVERY_S:
                return
            self._last_key = key
            self._last_elapsed = snap.elapsed_s
            self._out.write(line + "\n")
        self._out.flush()

    def message(self, text: str) -> None:
        self._end_line()
        self._out.write(text + "\n")
        self._out.flush()

    def _end_line(self) -> None:
        if self._open_line:
            self._out.write("\n")
            self._open_line = False
