"""The profile check's speech rule: every cue must be said within its segment (pure).

What is said when a segment begins is its ``say:`` text (else its cue, :func:`segment_text`),
followed by the speed change when the belt was moving at another speed. At ``rate_wpm`` that
takes :func:`estimate_seconds` (or what ``measure`` says, e.g. espeak-ng's own WAV length);
longer than the segment lasts is refused: the next segment's cue would replace it half-said.
"""

from __future__ import annotations

from collections.abc import Callable

from treadctl.speech.phrases import estimate_seconds, segment_text, speed_text
from treadctl.workout.check import Problem
from treadctl.workout.models import Profile


def spoken_at_start(profile: Profile) -> list[str]:
    """For each segment, what is said when it begins."""
    texts = []
    previous: int | None = None
    for segment in profile.segments:
        text = segment_text(segment)
        speed = segment.speed
        if previous is not None and speed is not None and speed != previous:
            text += " " + speed_text(previous, speed)
        texts.append(text)
        previous = speed if segment.moving else None
    return texts


def check_cues(
    profile: Profile, rate_wpm: int, measure: Callable[[str], float] | None = None
) -> list[Problem]:
    """Segments whose spoken cue is longer than the segment."""
    problems = []
    for index, (segment, text) in enumerate(
        zip(profile.segments, spoken_at_start(profile), strict=True)
    ):
        seconds = measure(text) if measure is not None else estimate_seconds(text, rate_wpm)
        if seconds > segment.duration:
            field = "say" if segment.say else "cue"
            how = "measured" if measure is not None else "estimated"
            problems.append(
                Problem(
                    ("segments", index, field),
                    f"saying {text!r} takes {seconds:.1f} s ({how}, {rate_wpm} words per "
                    f"minute); the segment lasts {segment.duration} s: shorten it or add a "
                    "shorter say: text",
                )
            )
    return problems
