"""One session's record as it runs: 1 Hz samples and the end summary (pure: no I/O).

The daemon calls :meth:`SessionRecorder.sample` once a second (device clock: simulated seconds
under time compression), hands :meth:`take_samples` to the history writer at least every
5 s, and :meth:`finish` when the session ends. Times: ``t_s`` on the device clock from the
start; ``at`` = the start's wall time + ``t_s``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from treadctl.control.session_states import SessionSnapshot, SessionState
from treadctl.history.records import EndReason, Sample, SessionRecord
from treadctl.observations import Reading
from treadctl.workout.summary import SessionSummary

SAMPLE_INTERVAL_S = 1.0
"""Samples at 1 Hz (issue 13)."""
FLUSH_INTERVAL_S = 5.0
"""Samples reach the database at least every 5 s (issue 13): a killed daemon loses at most
the last 5 s of samples."""


@dataclass(frozen=True, slots=True)
class SessionStart:
    """Who runs what, and when (wall time, UTC; device clock seconds)."""

    id: str
    person_id: str
    treadmill_id: str
    profile: str
    program: str | None
    stage: int | None
    started_at: datetime
    started_clock: float


def _heart_rate(value: int | None) -> int | None:
    # 0 and 255 are "no reading" placeholders (docs/history.md): never stored as values.
    return value if value is not None and 0 < value < 255 else None


def end_of(summary: SessionSummary) -> tuple[EndReason, str | None]:
    """The history's end reason from the runner's summary: a profile run to its end is
    ``finished``; a person's early Stop and every safety reaction are ``aborted`` with the
    reason (``stopped_by_user``, ``safety_key``...)."""
    if summary.ended == "finished" and summary.reason is None:
        return "finished", None
    return "aborted", summary.reason or summary.ended


class SessionRecorder:
    """See the module docstring."""

    def __init__(self, start: SessionStart) -> None:
        self.start = start
        self._pending: list[Sample] = []
        self._last_t: float | None = None
        self._last_active: float = 0.0
        self._backward_s = 0.0
        self._first_distance: int | None = None
        self._distance_m = 0.0
        self._inclines: list[float] = []
        self._heart_rates: list[int] = []
        self.count = 0

    def record(self) -> SessionRecord:
        """The session as it is now (running)."""
        s = self.start
        return SessionRecord(
            id=s.id,
            person_id=s.person_id,
            treadmill_id=s.treadmill_id,
            profile=s.profile,
            program=s.program,
            stage=s.stage,
            started_at=s.started_at,
            ended_at=None,
            end_reason=None,
            abort_reason=None,
            active_s=self._last_active,
            backward_s=self._backward_s,
        )

    def sample(self, snap: SessionSnapshot, reading: Reading | None, clock_now: float) -> Sample:
        t = max(0.0, clock_now - self.start.started_clock)
        speed = snap.reported_speed
        moving = snap.state == SessionState.RUNNING
        if self._last_t is not None:
            dt_active = max(0.0, snap.elapsed_s - self._last_active)
            if snap.facing == "backward" and moving:
                self._backward_s += dt_active
            if reading is None or reading.distance_m is None:
                self._distance_m += (speed or 0) / 100 / 3.6 * max(0.0, t - self._last_t)
        if reading is not None and reading.distance_m is not None:
            if self._first_distance is None or reading.distance_m < self._first_distance:
                self._first_distance = reading.distance_m - int(self._distance_m)
            self._distance_m = float(reading.distance_m - self._first_distance)
        self._last_t = t
        self._last_active = snap.elapsed_s
        incline = None if snap.reported_incline is None else snap.reported_incline / 10
        if incline is not None and moving:
            self._inclines.append(incline)
        hr = _heart_rate(reading.heart_rate_bpm if reading is not None else None)
        if hr is not None:
            self._heart_rates.append(hr)
        direction: Literal["backward", "forward"] | None = None
        if snap.facing in ("backward", "forward"):
            direction = "backward" if snap.facing == "backward" else "forward"
        sample = Sample(
            t_s=round(t, 3),
            at=self.start.started_at + timedelta(seconds=t),
            speed_kmh=None if speed is None else speed / 100,
            incline_pct=incline,
            distance_m=round(self._distance_m, 1),
            segment_index=snap.segment_index,
            segment_label=snap.segment_name,
            direction=direction,
            heart_rate_bpm=hr,
        )
        self._pending.append(sample)
        self.count += 1
        return sample

    def take_samples(self) -> list[Sample]:
        taken, self._pending = self._pending, []
        return taken

    def finish(self, summary: SessionSummary, clock_now: float) -> SessionRecord:
        end_reason, abort_reason = end_of(summary)
        t = max(0.0, clock_now - self.start.started_clock)
        s = self.start
        moving = summary.max_speed > 0
        return SessionRecord(
            id=s.id,
            person_id=s.person_id,
            treadmill_id=s.treadmill_id,
            profile=s.profile,
            program=s.program,
            stage=s.stage,
            started_at=s.started_at,
            ended_at=s.started_at + timedelta(seconds=t),
            end_reason=end_reason,
            abort_reason=abort_reason,
            active_s=round(summary.active_s, 1),
            backward_s=round(self._backward_s, 1),
            distance_m=float(summary.distance_m),
            avg_speed_kmh=summary.average_speed / 100 if moving else None,
            max_speed_kmh=summary.max_speed / 100 if moving else None,
            avg_incline_pct=(
                round(sum(self._inclines) / len(self._inclines), 1) if self._inclines else None
            ),
            max_incline_pct=max(self._inclines) if self._inclines else None,
            steps=summary.steps,
            avg_hr_bpm=(
                round(sum(self._heart_rates) / len(self._heart_rates))
                if self._heart_rates
                else None
            ),
            max_hr_bpm=max(self._heart_rates) if self._heart_rates else None,
        )


DEFAULT_PERSON = "default"
"""The person id of sessions when no ``[[people]]`` are configured."""


@dataclass(frozen=True, slots=True)
class SessionOwner:
    """Who a session is for, and the program stage it runs (None: a plain profile)."""

    person: str
    program: str | None = None
    stage: int | None = None


@dataclass(frozen=True, slots=True)
class PlannedStart:
    """What ``start_next`` starts: the stage's profile, for whom, and the frequency advice."""

    profile: str
    owner: SessionOwner
    stage_name: str
    warnings: tuple[str, ...] = ()
