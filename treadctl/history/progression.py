"""The progression rule of a program, and the frequency advice (pure: stdlib only).

Rule (docs/journey.md, "The rule", from docs/references.md "progression rule"):

- **step back** one stage when the judged session was rated pain > 5, had a near-fall, or was
  ended by a safety reaction (safety key, console stop, emergency stop, overspeed...);
- **advance** one stage only when the last 2 sessions at the current stage (since the person
  reached it) ran to their end (not aborted, not interrupted) and were rated easy with
  pain <= 3 and no near-fall;
- otherwise **repeat** the stage.

Never more than one stage at a time, never below stage 1 or past the last stage. Each decision
is a value with its reason. Frequency: at most one session a day; fewer than 48 h since the
last session gives a warning, never a refusal.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from treadctl.history.records import Difficulty, SessionRecord

STEP_BACK_PAIN_ABOVE = 5
"""Pain > 5/10 steps back one stage (docs/references.md, "progression rule")."""
ADVANCE_PAIN_AT_MOST = 3
"""Advancing needs pain <= 3/10 (docs/references.md, "progression rule")."""
ADVANCE_AFTER_SESSIONS = 2
"""The last 2 sessions at a stage must qualify (docs/references.md, "progression rule")."""
REST_HOURS = 48
"""3 sessions a week on non-consecutive days (docs/references.md, "frequency"): a session
less than 48 h after the last one is warned about."""


@dataclass(frozen=True, slots=True)
class Rules:
    """A program's rule numbers. A program file may only make them stricter (program.py)."""

    advance_after_sessions: int = ADVANCE_AFTER_SESSIONS
    advance_pain_at_most: int = ADVANCE_PAIN_AT_MOST
    step_back_pain_above: int = STEP_BACK_PAIN_ABOVE
    rest_hours: int = REST_HOURS

    def __post_init__(self) -> None:
        if not (
            self.advance_after_sessions >= ADVANCE_AFTER_SESSIONS
            and 0 <= self.advance_pain_at_most <= ADVANCE_PAIN_AT_MOST
            and 0 <= self.step_back_pain_above <= STEP_BACK_PAIN_ABOVE
            and self.rest_hours >= REST_HOURS
        ):
            raise ValueError(f"rules looser than the program's reference rule: {self}")


DEFAULT_RULES = Rules()


class Action(enum.Enum):
    ADVANCE = "advance"
    REPEAT = "repeat"
    STEP_BACK = "step_back"


@dataclass(frozen=True, slots=True)
class Decision:
    """What the judged session means for the person's stage."""

    action: Action
    from_stage: int
    to_stage: int
    reason: str
    session_id: str | None

    @property
    def changed(self) -> bool:
        return self.to_stage != self.from_stage


def _step_back_reason(session: SessionRecord, rules: Rules) -> str | None:
    rating = session.rating
    if session.safety_abort:
        return f"session {session.id} was ended by a safety reaction ({session.abort_reason})"
    if rating is not None and rating.near_fall:
        return f"session {session.id} had a near-fall"
    if rating is not None and rating.pain > rules.step_back_pain_above:
        limit = rules.step_back_pain_above
        return f"pain {rating.pain}/10 in session {session.id} is above {limit}/10"
    return None


def qualifies(session: SessionRecord, rules: Rules = DEFAULT_RULES) -> str | None:
    """None when ``session`` counts toward advancing; otherwise why it does not."""
    if session.end_reason != "finished" or session.abort_reason is not None:
        how: str = session.end_reason or "still running"
        if session.abort_reason:
            how += f" ({session.abort_reason})"
        return f"session {session.id} did not run to its end: {how}"
    rating = session.rating
    if rating is None:
        return f"session {session.id} is not rated"
    if rating.difficulty != Difficulty.EASY:
        return f"session {session.id} felt {rating.difficulty.value}, not easy"
    if rating.pain > rules.advance_pain_at_most:
        limit = rules.advance_pain_at_most
        return f"pain {rating.pain}/10 in session {session.id} is above {limit}/10"
    if rating.near_fall:
        return f"session {session.id} had a near-fall"
    return None


def decide(
    stage: int,
    stage_count: int,
    at_stage: Sequence[SessionRecord],
    rules: Rules = DEFAULT_RULES,
) -> Decision:
    """The decision after the newest session of ``at_stage``.

    ``at_stage``: the sessions run at ``stage`` since the person reached it, oldest first, the
    judged session last. ``stage`` is 1-based, ``1 <= stage <= stage_count``."""
    if stage_count < 1 or not 1 <= stage <= stage_count:
        raise ValueError(f"stage {stage} is not within 1..{stage_count}")
    if not at_stage:
        raise ValueError("no session to judge")
    judged = at_stage[-1]
    back = _step_back_reason(judged, rules)
    need = rules.advance_after_sessions
    if back is not None:
        to = max(1, stage - 1)
        if to == stage:
            back += "; stage 1 is the first, so it is repeated"
        return Decision(Action.STEP_BACK, stage, to, back, judged.id)
    recent = list(at_stage[-need:])
    if len(recent) < need:
        problem = qualifies(judged, rules)
        why = problem or f"session {judged.id} qualifies"
        return Decision(
            Action.REPEAT,
            stage,
            stage,
            f"{why}; advancing needs {need} qualifying sessions at stage "
            f"{stage} ({len(recent)} so far)",
            judged.id,
        )
    for session in recent:
        problem = qualifies(session, rules)
        if problem is not None:
            return Decision(Action.REPEAT, stage, stage, problem, judged.id)
    if stage == stage_count:
        return Decision(
            Action.REPEAT,
            stage,
            stage,
            f"the last {need} sessions were easy with pain <= "
            f"{rules.advance_pain_at_most}/10; stage {stage} is the program's last",
            judged.id,
        )
    return Decision(
        Action.ADVANCE,
        stage,
        stage + 1,
        f"the last {need} sessions at stage {stage} ran to their end, easy, "
        f"pain <= {rules.advance_pain_at_most}/10, no near-fall",
        judged.id,
    )


def frequency_warnings(
    last_started_at: datetime | None,
    now: datetime,
    local: tzinfo,
    rules: Rules = DEFAULT_RULES,
) -> list[str]:
    """Advice before a new session (never a refusal): one session a day, 48 h apart."""
    if last_started_at is None:
        return []
    warnings = []
    if last_started_at.astimezone(local).date() == now.astimezone(local).date():
        warnings.append("there was already a session today; the program plans one a day at most")
    gap = now - last_started_at
    if gap < timedelta(hours=rules.rest_hours):
        hours = max(0.0, gap.total_seconds() / 3600)
        warnings.append(
            f"only {hours:.0f} h since the last session; the program advises non-consecutive "
            f"days ({rules.rest_hours} h apart)"
        )
    return warnings


def next_due(
    last_started_at: datetime | None, now: datetime, rules: Rules = DEFAULT_RULES
) -> datetime:
    """When the next session is due: 48 h after the last one's start, or now."""
    if last_started_at is None:
        return now
    return max(now, last_started_at + timedelta(hours=rules.rest_hours))
