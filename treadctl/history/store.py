"""The history store: sessions, samples, ratings and stages in SQLite or PostgreSQL.

Synchronous (SQLAlchemy Core with the ``sqlite3`` or psycopg 3 driver): the daemon calls it
only from its writer thread (:mod:`treadctl.history.writer`), the command line directly. Every
method is one transaction. Database errors become :class:`HistoryError` subclasses that say
what happened and where; a corrupt file is reported, never replaced or "repaired".
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Engine,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from treadctl.history import schema as S
from treadctl.history.progression import Action, Decision
from treadctl.history.records import Rating, Sample, SessionRecord
from treadctl.history.rows import record_of, sample_of, sample_row, session_row
from treadctl.history.store_api import (
    HistoryCorruptError,
    HistoryError,
    HistoryUnavailableError,
    RatingRefusedError,
    SessionNotFoundError,
    StageChange,
    display_url,
    sqlite_url,
)

__all__ = [
    "SQLITE_BUSY_TIMEOUT_S",
    "HistoryCorruptError",
    "HistoryError",
    "HistoryStore",
    "HistoryUnavailableError",
    "RatingRefusedError",
    "SessionNotFoundError",
    "StageChange",
    "display_url",
    "sqlite_url",
]

SQLITE_BUSY_TIMEOUT_S = 5.0
"""How long SQLite waits for another process's lock (the CLI and the daemon share the file)."""


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL: readers (the CLI) never block the daemon's writer and a crash loses no committed
    # transaction; synchronous=NORMAL is durable across a process kill (docs/history.md).
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _is_corrupt(error: BaseException) -> bool:
    orig = getattr(error, "orig", None)
    text = str(orig or error).lower()
    return isinstance(orig, sqlite3.DatabaseError) and (
        "not a database" in text or "malformed" in text or "corrupt" in text
    )


class HistoryStore:
    """See the module docstring. Build it with :meth:`open`; close it with :meth:`close`."""

    def __init__(self, engine: Engine, where: str) -> None:
        self._engine = engine
        self.where = where

    @classmethod
    def open(cls, url: str) -> HistoryStore:
        """Connect and bring the schema up to date (creating it in an empty database)."""
        where = display_url(url)
        try:
            parsed = make_url(url)
        except sa_exc.ArgumentError as exc:
            raise HistoryError(f"not a database URL: {exc}", where=where) from None
        kwargs: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            if parsed.database:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
        elif parsed.get_backend_name() == "postgresql":
            if parsed.get_driver_name() in ("psycopg2", "default", ""):
                parsed = parsed.set(drivername="postgresql+psycopg")
            kwargs["connect_args"] = {"connect_timeout": 5}
            kwargs["pool_pre_ping"] = True
        else:
            raise HistoryError("only sqlite:/// and postgresql:// URLs are supported", where=where)
        try:
            engine = create_engine(parsed, **kwargs)
        except (sa_exc.ArgumentError, ImportError) as exc:
            raise HistoryError(f"cannot use this URL: {exc}", where=where) from None
        if parsed.get_backend_name() == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(engine, where)
        try:
            with store._tx() as conn:
                S.migrate(conn)
        except S.SchemaTooNewError as exc:
            engine.dispose()
            raise HistoryError(str(exc), where=where) from None
        except HistoryError:
            engine.dispose()
            raise
        return store

    def close(self) -> None:
        self._engine.dispose()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Any]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except sa_exc.DBAPIError as exc:
            if _is_corrupt(exc):
                raise HistoryCorruptError(
                    f"the database is damaged or not a database ({exc.orig})", where=self.where
                ) from None
            if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
                raise HistoryUnavailableError(
                    f"cannot use the database: {exc.orig}", where=self.where
                ) from None
            raise HistoryError(f"database error: {exc.orig}", where=self.where) from None

    def schema_version(self) -> int:
        with self._tx() as conn:
            return S.schema_version(conn)

    # ----------------------------------------------------------------- sessions

    def begin_session(self, record: SessionRecord) -> None:
        with self._tx() as conn:
            conn.execute(insert(S.sessions).values(**session_row(record)))

    def end_session(self, record: SessionRecord) -> None:
        """Store the session's end and summary (the row exists from :meth:`begin_session`)."""
        row = session_row(record)
        for key in ("id", "rating_pain", "rating_difficulty", "rating_near_fall", "rated_at"):
            row.pop(key)
        with self._tx() as conn:
            done = conn.execute(
                update(S.sessions).where(S.sessions.c.id == record.id).values(**row)
            )
            if done.rowcount == 0:
                conn.execute(insert(S.sessions).values(**session_row(record)))

    def add_samples(self, session_id: str, samples: Sequence[Sample]) -> None:
        if not samples:
            return
        rows = [{"session_id": session_id, **sample_row(s)} for s in samples]
        with self._tx() as conn:
            conn.execute(insert(S.samples), rows)

    def mark_interrupted(self, treadmill_ids: Collection[str]) -> list[str]:
        """Sessions of these treadmills left running by a daemon that died: ``interrupted``,
        ended at their last sample (or their start). Returns their ids."""
        with self._tx() as conn:
            open_rows = conn.execute(
                select(S.sessions.c.id, S.sessions.c.started_at).where(
                    S.sessions.c.ended_at.is_(None),
                    S.sessions.c.treadmill_id.in_(list(treadmill_ids)),
                )
            ).all()
            ids = []
            for session_id, started_at in open_rows:
                last = conn.execute(
                    select(func.max(S.samples.c.at)).where(S.samples.c.session_id == session_id)
                ).scalar()
                ended = last if last is not None else started_at
                conn.execute(
                    update(S.sessions)
                    .where(S.sessions.c.id == session_id)
                    .values(ended_at=ended, end_reason="interrupted")
                )
                ids.append(session_id)
            return ids

    def session(self, session_id: str) -> SessionRecord:
        with self._tx() as conn:
            row = (
                conn.execute(select(S.sessions).where(S.sessions.c.id == session_id))
                .mappings()
                .first()
            )
        if row is None:
            raise SessionNotFoundError(session_id, where=self.where)
        return record_of(row)

    def sessions(
        self,
        *,
        person_id: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[SessionRecord]:
        """Sessions, newest first."""
        query = select(S.sessions).order_by(S.sessions.c.started_at.desc(), S.sessions.c.id)
        if person_id is not None:
            query = query.where(S.sessions.c.person_id == person_id)
        if since is not None:
            query = query.where(S.sessions.c.started_at >= since)
        if limit is not None:
            query = query.limit(limit)
        with self._tx() as conn:
            return [record_of(r) for r in conn.execute(query).mappings()]

    def samples(self, session_id: str) -> list[Sample]:
        query = (
            select(S.samples)
            .where(S.samples.c.session_id == session_id)
            .order_by(S.samples.c.t_s, S.samples.c.id)
        )
        with self._tx() as conn:
            return [sample_of(r) for r in conn.execute(query).mappings()]

    def delete_session(self, session_id: str) -> None:
        """Remove a session and its samples (tests and a person's explicit wish only)."""
        with self._tx() as conn:
            conn.execute(delete(S.samples).where(S.samples.c.session_id == session_id))
            conn.execute(delete(S.sessions).where(S.sessions.c.id == session_id))

    # ----------------------------------------------------------------- ratings, stages

    def rate(self, session_id: str, person_id: str, rating: Rating) -> SessionRecord:
        """Store a person's rating of their own ended, not yet rated session."""
        with self._tx() as conn:
            row = (
                conn.execute(select(S.sessions).where(S.sessions.c.id == session_id))
                .mappings()
                .first()
            )
            if row is None:
                raise SessionNotFoundError(session_id, where=self.where)
            if row["person_id"] != person_id:
                raise RatingRefusedError(
                    f"session {session_id} belongs to {row['person_id']!r}, not {person_id!r}",
                    where=self.where,
                )
            if row["ended_at"] is None:
                raise RatingRefusedError(
                    f"session {session_id} is still running; rate it once it has ended",
                    where=self.where,
                )
            if row["rated_at"] is not None:
                raise RatingRefusedError(
                    f"session {session_id} was already rated at {row['rated_at']:%Y-%m-%d %H:%M}",
                    where=self.where,
                )
            conn.execute(
                update(S.sessions)
                .where(S.sessions.c.id == session_id)
                .values(
                    rating_pain=rating.pain,
                    rating_difficulty=rating.difficulty.value,
                    rating_near_fall=rating.near_fall,
                    rated_at=rating.rated_at,
                )
            )
            updated = (
                conn.execute(select(S.sessions).where(S.sessions.c.id == session_id))
                .mappings()
                .one()
            )
        return record_of(updated)

    def stage(self, person_id: str, program: str) -> tuple[int, datetime] | None:
        """The person's current stage in ``program`` and since when, or None (never set)."""
        query = select(S.person_stages.c.stage, S.person_stages.c.since).where(
            S.person_stages.c.person_id == person_id, S.person_stages.c.program == program
        )
        with self._tx() as conn:
            row = conn.execute(query).first()
        return None if row is None else (int(row[0]), row[1])

    def apply(self, change: StageChange, decision: Decision | None = None) -> None:
        """Store a stage change (and the session's decision) in one transaction."""
        with self._tx() as conn:
            if decision is not None and decision.session_id is not None:
                conn.execute(
                    update(S.sessions)
                    .where(S.sessions.c.id == decision.session_id)
                    .values(decision=decision.action.value)
                )
            if change.from_stage == change.to_stage and change.from_stage is not None:
                return
            key = (
                S.person_stages.c.person_id == change.person_id,
                S.person_stages.c.program == change.program,
            )
            done = conn.execute(
                update(S.person_stages).where(*key).values(stage=change.to_stage, since=change.at)
            )
            if done.rowcount == 0:
                conn.execute(
                    insert(S.person_stages).values(
                        person_id=change.person_id,
                        program=change.program,
                        stage=change.to_stage,
                        since=change.at,
                    )
                )
            conn.execute(
                insert(S.stage_changes).values(
                    person_id=change.person_id,
                    program=change.program,
                    from_stage=change.from_stage,
                    to_stage=change.to_stage,
                    action=change.action,
                    reason=change.reason,
                    session_id=change.session_id,
                    at=change.at,
                )
            )

    def decision_of(self, session_id: str) -> Action | None:
        with self._tx() as conn:
            value = conn.execute(
                select(S.sessions.c.decision).where(S.sessions.c.id == session_id)
            ).scalar()
        return None if value is None else Action(value)

    def stage_changes(self, person_id: str) -> list[StageChange]:
        query = (
            select(S.stage_changes)
            .where(S.stage_changes.c.person_id == person_id)
            .order_by(S.stage_changes.c.at, S.stage_changes.c.id)
        )
        with self._tx() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            StageChange(
                person_id=r["person_id"],
                program=r["program"],
                from_stage=r["from_stage"],
                to_stage=r["to_stage"],
                action=r["action"],
                reason=r["reason"],
                session_id=r["session_id"],
                at=r["at"],
            )
            for r in rows
        ]
