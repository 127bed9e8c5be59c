"""The cue scheduler: session snapshots and safety reactions in, utterances out (pure).

Two parts, both values-in/values-out with no I/O and no clock of their own (``now`` is given):

- :class:`CueScheduler` (one per treadmill) compares each session snapshot with the previous one
  and says what changed: the countdown when the belt is being started, each segment's cue, speed
  changes, rest over, pause, every safety reaction, and the one-line summary at the end.
- :class:`CueQueue` (one per loudspeaker) orders what is waiting: safety first, then the
  countdown, then everything else, first come first served within a priority. It is bounded, a
  newer cue of the same sort replaces an older one still waiting, cues that waited past their
  age are dropped, and a safety cue pre-empts whatever non-safety cue is being spoken.

Nothing here can hold anything up: the session runner has already acted (the belt started, the
Stop was sent) before a snapshot reaches the scheduler. docs/speech.md lists the rules.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from treadctl.speech import phrases
from treadctl.workout.summary import SessionSummary

# The session runner's vocabulary (``treadctl.control.session``: ``SessionState`` values and
# pause/stop reasons), as strings so that this module stays pure; a test keeps them in step.
STARTING, RUNNING, PAUSED = "starting", "running", "paused"
FINISHED, ABORTED, IDLE = "finished", "aborted", "idle"
REST_OVER, PAUSED_BY_USER, STOPPED_BY_USER, CANCELLED = (
    "rest_over",
    "paused_by_user",
    "stopped_by_user",
    "cancelled",
)


class SnapshotLike(Protocol):
    """The fields of ``treadctl.control.session.SessionSnapshot`` the scheduler reads."""

    @property
    def state(self) -> enum.Enum: ...

    @property
    def reason(self) -> str | None: ...

    @property
    def profile(self) -> str | None: ...

    @property
    def segment_index(self) -> int | None: ...

    @property
    def segment_name(self) -> str | None: ...

    @property
    def cue(self) -> str: ...

    @property
    def target_speed(self) -> int | None: ...


class ProfileLike(Protocol):
    """The fields of ``treadctl.workout.models.Profile`` the scheduler reads."""

    @property
    def name(self) -> str: ...

    @property
    def segments(self) -> Sequence[phrases.SegmentLike]: ...


class Priority(enum.IntEnum):
    """Lower is more urgent."""

    SAFETY = 0
    COUNTDOWN = 1
    CUE = 2


class Kind(enum.Enum):
    SAFETY = "safety"
    COUNTDOWN = "countdown"
    SEGMENT = "segment"
    SPEED = "speed"
    REST_OVER = "rest_over"
    PAUSED = "paused"
    SUMMARY = "summary"


PRIORITY = {
    Kind.SAFETY: Priority.SAFETY,
    Kind.COUNTDOWN: Priority.COUNTDOWN,
    Kind.SEGMENT: Priority.CUE,
    Kind.SPEED: Priority.CUE,
    Kind.REST_OVER: Priority.CUE,
    Kind.PAUSED: Priority.CUE,
    Kind.SUMMARY: Priority.CUE,
}

MAX_AGE_S = {
    Kind.SAFETY: 30.0,
    Kind.COUNTDOWN: 4.0,
    Kind.SEGMENT: 30.0,
    Kind.SPEED: 10.0,
    Kind.REST_OVER: 60.0,
    Kind.PAUSED: 20.0,
    Kind.SUMMARY: 60.0,
}
"""How long (real seconds) a cue may wait before it is dropped as stale. Project choices
(docs/speech.md): a countdown said after the belt started is wrong, so it keeps 4 s at most."""

SUPERSEDED = frozenset({Kind.COUNTDOWN, Kind.SEGMENT, Kind.SPEED})
"""A newer cue of one of these kinds replaces a waiting one of the same kind and treadmill."""

CLEARED_BY_SAFETY = frozenset({Kind.COUNTDOWN, Kind.SEGMENT, Kind.SPEED})
"""Waiting cues that a safety reaction makes untrue (the belt stopped): dropped by it (not by
a hold, :data:`phrases.HOLDS`, which leaves the belt moving)."""

SAFETY_REPEAT_S = 10.0
"""The same safety reaction reported twice within this time is said once (the governor's notice
and the session's reason describe the same stop)."""

DEFAULT_CAPACITY = 8

_NOT_SAFETY = frozenset({None, REST_OVER, PAUSED_BY_USER, STOPPED_BY_USER, CANCELLED})
_ENDED = frozenset({IDLE, FINISHED, ABORTED})
_seq = itertools.count()


@dataclass(frozen=True, slots=True)
class Utterance:
    """One thing to say. ``detail`` names the safety reaction or the segment index."""

    text: str
    kind: Kind
    created_at: float
    device: str | None = None
    detail: str | None = None
    seq: int = field(default_factory=lambda: next(_seq), compare=False)

    @property
    def priority(self) -> Priority:
        return PRIORITY[self.kind]

    @property
    def expires_at(self) -> float:
        return self.created_at + MAX_AGE_S[self.kind]


@dataclass(frozen=True, slots=True)
class Dropped:
    """A cue that will not be said, and why: ``superseded``, ``stale``, ``full`` or
    ``after_safety``."""

    utterance: Utterance
    reason: str


@dataclass(frozen=True, slots=True)
class Pushed:
    """What :meth:`CueQueue.push` decided."""

    queued: bool
    preempt: bool
    """Stop what is being spoken now (a safety cue arrived during a non-safety one)."""
    dropped: tuple[Dropped, ...] = ()


class CueQueue:
    """Bounded priority queue of utterances (see the module docstring)."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._items: list[Utterance] = []

    def __len__(self) -> int:
        return len(self._items)

    def pending(self) -> tuple[Utterance, ...]:
        """What is waiting, in the order it would be said."""
        return tuple(sorted(self._items, key=_order))

    def push(self, new: Utterance, speaking: Utterance | None = None) -> Pushed:
        dropped: list[Dropped] = []
        keep: list[Utterance] = []
        stops = new.kind == Kind.SAFETY and new.detail not in phrases.HOLDS
        for old in self._items:
            if new.kind in SUPERSEDED and old.kind == new.kind and old.device == new.device:
                dropped.append(Dropped(old, "superseded"))
            elif stops and old.kind in CLEARED_BY_SAFETY:
                dropped.append(Dropped(old, "after_safety"))
            else:
                keep.append(old)
        keep.append(new)
        queued = True
        if len(keep) > self.capacity:
            # The least urgent, and among those the oldest, goes (possibly the new one).
            victim = max(keep, key=lambda u: (u.priority, -u.seq))
            keep.remove(victim)
            dropped.append(Dropped(victim, "full"))
            queued = victim is not new
        self._items = keep
        preempt = (
            queued
            and new.kind == Kind.SAFETY
            and speaking is not None
            and speaking.priority > Priority.SAFETY
        )
        return Pushed(queued, preempt, tuple(dropped))

    def pop(self, now: float) -> tuple[Utterance | None, tuple[Dropped, ...]]:
        """The next utterance to say (None when nothing is left), and the stale ones dropped."""
        stale = tuple(Dropped(u, "stale") for u in self._items if u.expires_at < now)
        self._items = [u for u in self._items if u.expires_at >= now]
        if not self._items:
            return None, stale
        first = min(self._items, key=_order)
        self._items.remove(first)
        return first, stale


def _order(u: Utterance) -> tuple[int, int]:
    return (u.priority, u.seq)


class CueScheduler:
    """Turns one treadmill's snapshots and safety reactions into utterances."""

    def __init__(self, device: str | None = None) -> None:
        self.device = device
        self._prev: _Seen | None = None
        self._segment_said: int | None = None
        self._safety_said: dict[str, float] = {}

    def safety(self, kind: str, now: float) -> list[Utterance]:
        """A safety reaction (a governor latch, a safety event, an emergency stop)."""
        said = self._safety_said.get(kind)
        if said is not None and now - said < SAFETY_REPEAT_S:
            return []
        self._safety_said[kind] = now
        return [Utterance(phrases.safety_text(kind), Kind.SAFETY, now, self.device, kind)]

    def snapshot(
        self,
        snap: SnapshotLike,
        now: float,
        *,
        profile: ProfileLike | None = None,
        summary: SessionSummary | None = None,
    ) -> list[Utterance]:
        """What to say about ``snap`` given the previous snapshot. ``profile``: the session's
        profile (for ``say:`` texts); ``summary``: the session's summary once it ended."""
        prev, self._prev = self._prev, _Seen(str(snap.state.value), snap.reason, snap.target_speed)
        state = self._prev.state
        if prev is None or (prev.state in _ENDED and state not in _ENDED):
            self._segment_said = None
            self._safety_said.clear()
        entered = prev is None or (prev.state, prev.reason) != (state, snap.reason)
        out: list[Utterance] = []

        def say(kind: Kind, text: str, detail: str | None = None) -> None:
            out.append(Utterance(text, kind, now, self.device, detail))

        stopped = state in (PAUSED, ABORTED)
        if entered and stopped and snap.reason is not None and snap.reason not in _NOT_SAFETY:
            out += self.safety(snap.reason, now)
        if state == STARTING and (prev is None or prev.state != state):
            say(Kind.COUNTDOWN, phrases.COUNTDOWN)
        index = snap.segment_index
        if state == RUNNING and index is not None and index != self._segment_said:
            self._segment_said = index
            say(Kind.SEGMENT, _segment_words(snap, profile), str(index))
        if (
            state == RUNNING
            and prev is not None
            and prev.state == RUNNING
            and prev.target_speed
            and snap.target_speed
            and prev.target_speed != snap.target_speed
        ):
            say(Kind.SPEED, phrases.speed_text(prev.target_speed, snap.target_speed))
        if entered and state == PAUSED:
            if snap.reason == REST_OVER:
                say(Kind.REST_OVER, snap.cue or "Rest over. Press resume when you are ready.")
            elif snap.reason == PAUSED_BY_USER:
                say(Kind.PAUSED, "Paused. Press resume when you are ready.")
        if state in (FINISHED, ABORTED) and (prev is None or prev.state != state):
            say(Kind.SUMMARY, phrases.summary_text(summary) if summary else "Session ended.")
        return out


@dataclass(frozen=True, slots=True)
class _Seen:
    """What the scheduler keeps of the previous snapshot."""

    state: str
    reason: str | None
    target_speed: int | None


def _segment_words(snap: SnapshotLike, profile: ProfileLike | None) -> str:
    index = snap.segment_index
    if (
        profile is not None
        and profile.name == snap.profile
        and index is not None
        and 0 <= index < len(profile.segments)
    ):
        return phrases.segment_text(profile.segments[index])
    return snap.cue or (snap.segment_name or "Next segment") + "."
