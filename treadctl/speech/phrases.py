"""What is said: the words of every cue, and how long a cue takes to say (pure: standard
library only; segments are read through :class:`SegmentLike`).

The words live here, in one place, so that the daemon's speech, the MQTT ``speak`` text and the
profile check (``treadctl profile check``: a cue must fit in its segment) use the same text.
"""

from __future__ import annotations

import enum
import math
import re
from typing import Protocol

from treadctl.workout.summary import SessionSummary


class SegmentLike(Protocol):
    """What is said of a segment (``treadctl.workout.models.Segment`` has these)."""

    @property
    def kind(self) -> enum.Enum: ...

    @property
    def name(self) -> str | None: ...

    @property
    def cue(self) -> str: ...

    @property
    def say(self) -> str: ...


DEFAULT_RATE_WPM = 150
"""Default speaking rate. espeak-ng's own default is 175 words per minute
(docs/references.md#speech); a slower 150 is the project's choice for older listeners
(docs/speech.md)."""

LETTERS_PER_WORD = 5.0
DIGIT_WORDS = 0.8
PAUSE_S = 0.1
""":func:`estimate_seconds`: a word counts as its letters / 5 words (at least one), each digit
as 0.8 word ("350" is said "three hundred and fifty"), and each full stop or comma adds 0.1 s.
Fitted to espeak-ng 1.51's rendered WAVs of the project's phrases at 120-200 words per minute:
within ±25 % of the measured durations (docs/speech.md)."""

COUNTDOWN = "Starting in 3, 2, 1."

SAFETY_PHRASES: dict[str, str] = {
    "safety_key": "Stopped: safety key.",
    "console_stop": "Stopped at the console.",
    "console_pause": "Paused at the console.",
    "control_lost": "Paused: the console took control.",
    "disconnected": "Paused: treadmill disconnected.",
    "reset": "Paused: the treadmill reset.",
    "stale_telemetry": "Paused: no data from the treadmill.",
    "overspeed": "Stopped: belt too fast.",
    "mph_suspected": "Stopped: speed units look wrong.",
    "emergency_stop": "Emergency stop.",
    "command_failed": "Paused: a command failed.",
    "start_timeout": "Paused: the belt did not start.",
    "belt_moving_at_start": "Stopped: the belt was already moving.",
    "block_time_limit": "Paused: block time limit. Take a rest.",
    "restart_stop": "Stopped: treadctl restarted.",
    "heart_rate": "Stopped: heart rate too high.",
    "heart_rate_hold": "Heart rate high, holding speed.",
    "heart_rate_contact": "Heart-rate strap has no contact, holding speed.",
    "heart_rate_signal": "No heart rate, holding speed.",
    "segment_refused": "Stopped: segment refused.",
}
"""Every safety reaction's words, by latch reason / event kind (docs/safety.md "Reactions").
A kind not listed here is still spoken (:func:`safety_text`)."""

KIND_WORDS = {
    "warmup": "Warm-up.",
    "backward": "Walking backward.",
    "rest": "Rest.",
    "cooldown": "Cool-down.",
}
"""Said for a segment without cue or name, by its kind (``SegmentKind`` values)."""

_WORD = re.compile(r"[^\W\d_]+|\d")
_PAUSES = re.compile(r"[.,;:!?]+(?:\s|$)")


HOLDS = frozenset({"heart_rate_hold", "heart_rate_contact", "heart_rate_signal"})
"""Safety reactions that hold the speed but leave the belt moving: said first and interrupting
like the others, but the cues waiting behind them stay true and are not dropped."""


def safety_text(kind: str) -> str:
    """The words for a safety reaction ``kind`` (a latch reason or a safety event kind)."""
    if kind in SAFETY_PHRASES:
        return SAFETY_PHRASES[kind]
    if kind.startswith("refused"):
        return SAFETY_PHRASES["segment_refused"]
    return "Safety stop: " + kind.replace("_", " ") + "."


def segment_text(segment: SegmentLike) -> str:
    """What is said when ``segment`` begins: its ``say`` text, else its cue, else its kind."""
    text = (segment.say or segment.cue).strip()
    if text:
        return text
    if segment.name:
        return segment.name + "."
    return KIND_WORDS.get(str(segment.kind.value), "Next segment.")


def kmh_words(centi: int) -> str:
    """0.01 km/h as said: ``150`` -> "1.5", ``100`` -> "1.0", ``125`` -> "1.25"."""
    return f"{centi / 100:.1f}" if centi % 10 == 0 else f"{centi / 100:.2f}"


def speed_text(old: int, new: int) -> str:
    """A change of the target speed (0.01 km/h)."""
    verb = "Speeding up" if new > old else "Slowing down"
    return f"{verb} to {kmh_words(new)}."


def duration_words(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes >= 1:
        return f"{minutes} minute" + ("" if minutes == 1 else "s")
    whole = int(seconds)
    return f"{whole} second" + ("" if whole == 1 else "s")


def summary_text(summary: SessionSummary) -> str:
    """The one-line summary said at the end of a session."""
    figures = f"{duration_words(summary.active_s)}, {summary.distance_m} metres"
    if summary.ended == "finished" and summary.reason is None:
        return f"Session complete: {figures}. Well done."
    if summary.reason == "stopped_by_user":
        return f"Session stopped: {figures}."
    return f"Session ended: {figures}."


def estimate_seconds(text: str, rate_wpm: int = DEFAULT_RATE_WPM) -> float:
    """How long ``text`` takes to say at ``rate_wpm`` (see :data:`PAUSE_S` for the rule and
    its accuracy); rounded up to 0.1 s. The profile check uses it."""
    if rate_wpm <= 0:
        raise ValueError("rate_wpm must be positive")
    units = sum(
        DIGIT_WORDS if w.isdigit() else max(1.0, len(w) / LETTERS_PER_WORD)
        for w in _WORD.findall(text)
    )
    seconds = units * 60.0 / rate_wpm + PAUSE_S * len(_PAUSES.findall(text))
    return math.ceil(seconds * 10) / 10
