"""The daemon's history: recording sessions, ``start_next``, ratings and stage changes.

Everything that touches the database goes through one :class:`HistoryWriter` (a thread with a
bounded queue): the event loop only enqueues, so a stalled, full, read-only or corrupt
database never delays a Stop or a ramp (docs/safety.md rule 7, docs/history.md). Tasks (in
the daemon's TaskGroup): one recorder per treadmill (1 Hz samples, flushed every 5 s) and
:meth:`DaemonHistory.run` (failures and recoveries as events, ratings, start_next, decisions).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from treadctl.commands import (
    CommandResult,
    ErrorCode,
    JsonValue,
    RateSession,
    RatingDraft,
    StartNext,
    SubmitRating,
)
from treadctl.config.model import Config
from treadctl.config.people import PersonConfig
from treadctl.daemon.device import DeviceRuntime, DeviceSink
from treadctl.daemon.device_commands import UnknownPersonError
from treadctl.daemon.profiles import ProfileCatalog
from treadctl.daemon.recording import SessionRecording
from treadctl.history import journey
from treadctl.history.program import Program, ProgramError, list_program_files, load_program
from treadctl.history.program import program_dirs as all_program_dirs
from treadctl.history.progression import Decision
from treadctl.history.recorder import DEFAULT_PERSON
from treadctl.history.records import Difficulty, Rating, SessionRecord
from treadctl.history.store_api import (
    HistoryCorruptError,
    HistoryError,
    HistoryUnavailableError,
    display_url,
)
from treadctl.history.writer import HistoryWriter

if TYPE_CHECKING:
    from treadctl.history.store import HistoryStore

ANSWER_TIMEOUT_S = 5.0
"""Longest a ``start_next`` or a rating waits for the database before it is refused with
``history_unavailable`` (only that request waits; stops have their own path)."""
DEFAULT_PROGRAM = "retro-6-weeks"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    program: str


class DaemonHistory:
    """See the module docstring. ``async with`` owns the writer thread."""

    def __init__(
        self,
        config: Config,
        catalog: ProfileCatalog,
        log: Callable[..., None],
        *,
        wall: Callable[[], datetime] = utc_now,
        local: tzinfo | None = None,
        opener: Callable[[], HistoryStore] | None = None,
    ) -> None:
        self.config = config
        self.url = config.history_url()
        self.where = display_url(self.url)
        self._log = log
        self.wall = wall
        self.local: tzinfo = local or datetime.now().astimezone().tzinfo or UTC
        self.writer = HistoryWriter(
            opener or functools.partial(open_store, self.url),
            where=self.where,
            queue_size=config.history.queue_size,
        )
        self.programs = self._load_programs(catalog)
        self._sink: DeviceSink | None = None
        self._decisions: asyncio.Queue[tuple[str, SessionRecord]] = asyncio.Queue()
        self._device_ids = [d.id for d in config.devices]
        self._drafts: dict[str, dict[str, JsonValue]] = {
            d: _empty_draft() for d in self._device_ids
        }
        self.recording = SessionRecording(
            self.writer,
            wall=wall,
            log=log,
            ended=lambda device, record: self._decisions.put_nowait((device, record)),
        )
        self._shown: dict[str, str | None] = dict.fromkeys(self._device_ids)
        """The person whose journey each treadmill shows (None: the default person)."""

    def _load_programs(self, catalog: ProfileCatalog) -> dict[str, Program]:
        extra = [self.config.history.programs_dir] if self.config.history.programs_dir else []
        programs: dict[str, Program] = {}
        names = set(catalog.names())
        for path in list_program_files(all_program_dirs(extra)):
            try:
                programs[path.stem] = load_program(path, profile_exists=names.__contains__)
            except ProgramError as exc:
                for problem in exc.problems:
                    self._log("program_refused", problem=str(problem))
        return programs

    async def __aenter__(self) -> DaemonHistory:
        await self.writer.__aenter__()
        # First in the queue, so before any session of this run is written.
        self._interrupted = self.writer.enqueue(
            "mark_interrupted",
            lambda store: [
                (sid, store.session(sid).treadmill_id)
                for sid in store.mark_interrupted(self._device_ids)
            ],
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.writer.__aexit__(*exc)

    # ----------------------------------------------------------------- people

    def person(self, person_id: str | None) -> Person:
        """The configured person (None: the default one); without ``[[people]]`` everyone is
        the one default person. Raises UnknownPersonError."""
        if not self.config.people:
            if person_id not in (None, DEFAULT_PERSON):
                raise UnknownPersonError(str(person_id), [])
            return Person(DEFAULT_PERSON, DEFAULT_PROGRAM)
        try:
            found: PersonConfig | None = self.config.person(person_id)
        except KeyError:
            raise UnknownPersonError(str(person_id), [p.id for p in self.config.people]) from None
        if found is None:
            raise UnknownPersonError(None, [p.id for p in self.config.people]) from None
        return Person(found.id, found.program)

    def person_id(self, person_id: str | None) -> str:
        return self.person(person_id).id

    # ----------------------------------------------------------------- recording

    async def record(self, runtime: DeviceRuntime) -> None:
        """Record every session of ``runtime`` (a task per treadmill, until cancelled)."""
        await self.recording.record(runtime)

    async def wait_recorded(self, session_id: str, *, timeout_s: float) -> None:
        """Until the end of ``session_id`` is written (or the deadline: HistoryError)."""
        await self.recording.wait_recorded(session_id, timeout_s=timeout_s)

    # ----------------------------------------------------------------- requests

    async def start_next(
        self, runtime: DeviceRuntime, command: StartNext, *, local: bool
    ) -> CommandResult:
        """Look up the person's stage (bounded wait), then start it through ``runtime.handle``
        (arming, governor: the path of ``start_profile``)."""
        try:
            person = self.person(command.person)
        except UnknownPersonError as exc:
            return CommandResult.failure(ErrorCode.UNKNOWN_PERSON, str(exc))
        program = self.programs.get(person.program)
        if program is None:
            return CommandResult.failure(
                ErrorCode.REFUSED,
                f"program {person.program!r} is not loaded (treadctl program check)",
            )
        now = self.wall()
        try:
            plan = await self.writer.call(
                "next_session",
                lambda store: journey.plan_next(store, person.id, program, now, self.local),
                timeout_s=ANSWER_TIMEOUT_S,
            )
        except HistoryError as exc:
            return CommandResult.failure(ErrorCode.HISTORY_UNAVAILABLE, str(exc))
        result = runtime.handle(command, local=local, plan=plan)
        for warning in plan.warnings if result.ok else ():
            await self._event(runtime.id, "frequency_warning", warning, {"person": person.id})
        return result

    async def rate(
        self, runtime_id: str, command: RateSession, *, publish: bool = True
    ) -> CommandResult:
        try:
            person = self.person(command.person)
        except UnknownPersonError as exc:
            return CommandResult.failure(ErrorCode.UNKNOWN_PERSON, str(exc))
        now = self.wall()
        rating = Rating(
            pain=command.pain,
            difficulty=Difficulty(command.difficulty),
            near_fall=command.near_fall,
            rated_at=now,
        )
        try:
            outcome = await self.writer.call(
                "rate_session",
                lambda store: journey.rate(
                    store,
                    self.programs,
                    person=person.id,
                    session_id=command.session,
                    rating=rating,
                    now=now,
                ),
                timeout_s=ANSWER_TIMEOUT_S,
            )
        except HistoryError as exc:
            code = ErrorCode.HISTORY_UNAVAILABLE if _unavailable(exc) else ErrorCode.REFUSED
            return CommandResult.failure(code, str(exc))
        data: dict[str, JsonValue] = {"session": outcome.session.id, "person": person.id}
        if outcome.decision is not None:
            data.update(decision_json(outcome.decision))
            await self._stage_event(runtime_id, person.id, outcome.decision)
        if publish:
            await self.publish_summary(runtime_id, person.id)
        return CommandResult.success(data)

    async def draft(self, device: str, command: RatingDraft) -> CommandResult:
        """One value of the rating Home Assistant is filling in (kept until submitted)."""
        draft = self._drafts[device]
        for key in ("pain", "difficulty", "near_fall"):
            value = getattr(command, key)
            if value is not None:
                draft[key] = value
        await self.publish_summary(device, self._shown[device])
        return CommandResult.success({"rating": dict(draft)})

    async def submit(self, device: str, _command: SubmitRating) -> CommandResult:
        """Rate the shown person's last session with the drafted values."""
        draft = self._drafts[device]
        pain, difficulty = draft["pain"], draft["difficulty"]
        if not isinstance(pain, int) or not isinstance(difficulty, str):
            return CommandResult.failure(
                ErrorCode.INVALID_VALUE, "set the pain (0-10) and the difficulty before submitting"
            )
        result = await self.rate(
            device,
            RateSession(
                pain=pain,
                difficulty=difficulty,
                near_fall=bool(draft["near_fall"]),
                person=self._shown[device],
            ),
            publish=False,
        )
        if result.ok:
            self._drafts[device] = _empty_draft()
        await self.publish_summary(device, self._shown[device])
        return result

    # ----------------------------------------------------------------- the task

    async def run(self, sink: DeviceSink | None) -> None:
        """Failures and recoveries as events; decisions after each session. Until cancelled."""
        self._sink = sink
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._notices(), name="history-notices")
            tg.create_task(self._after_sessions(), name="history-decisions")
            try:
                ids = await self.writer.wait(self._interrupted, timeout_s=60.0)
            except HistoryError as exc:
                self._log("history_unavailable", where=self.where, error=str(exc))
            else:
                for session_id, device in ids:
                    self._log("session_interrupted", session=session_id, device=device)
                    await self._event(
                        device,
                        "session_interrupted",
                        f"session {session_id} was interrupted (the daemon stopped during it)",
                        {"session": session_id},
                    )
            for device in self._device_ids:
                await self.publish_summary(device, None)

    async def _notices(self) -> None:
        async for notice in self.writer.notices():
            kind = "history_recovered" if notice.ok else "history_failed"
            self._log(kind, operation=notice.operation, error=notice.message, where=self.where)
            for device in self._device_ids:
                await self._event(device, kind, notice.message, {"operation": notice.operation})

    async def _after_sessions(self) -> None:
        while True:
            device, record = await self._decisions.get()
            program = self.programs.get(record.program) if record.program else None
            now = self.wall()
            try:
                decision = await self.writer.call(
                    "session_ended",
                    functools.partial(
                        journey.session_ended, program=program, session=record, now=now
                    ),
                    timeout_s=60.0,
                )
            except HistoryError as exc:
                self._log("history_decision_failed", session=record.id, error=str(exc))
                continue
            if decision is not None:
                await self._stage_event(device, record.person_id, decision)
            await self.publish_summary(device, record.person_id)

    async def _stage_event(self, device: str, person: str, decision: Decision) -> None:
        kind = "stage_changed" if decision.changed else "stage_kept"
        self._log(kind, person=person, **decision_json(decision))
        data: dict[str, JsonValue] = {"person": person, **decision_json(decision)}
        await self._event(device, kind, decision.reason, data)

    async def _event(self, device: str, kind: str, message: str, data: dict[str, Any]) -> None:
        if self._sink is not None:
            await self._sink.event(device, kind, message, data)

    async def publish_summary(self, device: str, person_id: str | None) -> None:
        """The journey summary of ``person_id`` (None: the default person) for ``device``."""
        sink = self._sink
        publish = getattr(sink, "journey", None)
        if publish is None:
            return
        self._shown[device] = person_id
        try:
            person = self.person(person_id)
        except UnknownPersonError:
            return
        program = self.programs.get(person.program)
        if program is None:
            return
        now = self.wall()
        try:
            found = await self.writer.call(
                "journey_summary",
                lambda store: journey.summary(store, person.id, program, now, self.local),
                timeout_s=ANSWER_TIMEOUT_S,
            )
        except HistoryError:
            return
        await publish(device, found, dict(self._drafts[device]))


def _empty_draft() -> dict[str, JsonValue]:
    return {"pain": None, "difficulty": None, "near_fall": False}


def _unavailable(exc: HistoryError) -> bool:
    return isinstance(exc, HistoryUnavailableError | HistoryCorruptError)


def decision_json(decision: Decision) -> dict[str, JsonValue]:
    return {
        "action": decision.action.value,
        "from_stage": decision.from_stage,
        "to_stage": decision.to_stage,
        "reason": decision.reason,
        "decided_by": decision.session_id,
    }


def open_store(url: str) -> HistoryStore:
    """Open the store; called by the writer thread, which is where SQLAlchemy is first imported
    (never at start-up nor on the event loop: docs/benchmarks.md, footprint)."""
    from treadctl.history.store import HistoryStore  # noqa: PLC0415

    return HistoryStore.open(url)
