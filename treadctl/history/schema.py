"""The history's tables (SQLAlchemy Core) and their migrations.

One schema for SQLite and PostgreSQL. ``meta.schema_version`` says which migrations ran; each
migration is a function applied in one transaction. A database written by a newer treadctl
(a higher version than :data:`SCHEMA_VERSION`) is refused, never altered. docs/history.md shows
the tables.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone: naive UTC there)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()

meta = Table(
    "treadctl_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("person_id", String(64), nullable=False),
    Column("treadmill_id", String(64), nullable=False),
    Column("profile", String(128), nullable=False),
    Column("program", String(128)),
    Column("stage", Integer),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime),
    Column("end_reason", String(16)),
    Column("abort_reason", String(64)),
    Column("active_s", Float, nullable=False),
    Column("backward_s", Float, nullable=False),
    Column("distance_m", Float),
    Column("avg_speed_kmh", Float),
    Column("max_speed_kmh", Float),
    Column("avg_incline_pct", Float),
    Column("max_incline_pct", Float),
    Column("steps", Integer),
    Column("avg_hr_bpm", Integer),
    Column("max_hr_bpm", Integer),
    Column("rating_pain", Integer),
    Column("rating_difficulty", String(8)),
    Column("rating_near_fall", Boolean),
    Column("rated_at", UtcDateTime),
    # The progression decision this session led to (advance/repeat/step_back), or None.
    Column("decision", String(16)),
    Index("ix_sessions_person_started", "person_id", "started_at"),
    Index("ix_sessions_treadmill_open", "treadmill_id", "ended_at"),
)

samples = Table(
    "samples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(64), ForeignKey("sessions.id"), nullable=False),
    Column("t_s", Float, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("speed_kmh", Float),
    Column("incline_pct", Float),
    Column("distance_m", Float),
    Column("segment_index", Integer),
    Column("segment_label", String(128)),
    Column("direction", String(8)),
    Column("heart_rate_bpm", Integer),
    Index("ix_samples_session_t", "session_id", "t_s"),
)

person_stages = Table(
    "person_stages",
    metadata,
    Column("person_id", String(64), primary_key=True),
    Column("program", String(128), primary_key=True),
    Column("stage", Integer, nullable=False),
    Column("since", UtcDateTime, nullable=False),
)

stage_changes = Table(
    "stage_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(64), nullable=False),
    Column("program", String(128), nullable=False),
    Column("from_stage", Integer),
    Column("to_stage", Integer, nullable=False),
    Column("action", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("session_id", String(64)),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_stage_changes_person", "person_id", "at"),
)


def _v1(conn: Connection) -> None:
    """The first schema: every table above."""
    metadata.create_all(conn, checkfirst=True)


MIGRATIONS: tuple[Callable[[Connection], None], ...] = (_v1,)
"""Migration ``i`` takes the schema from version ``i`` to ``i + 1``. Add, never edit."""

SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNewError(Exception):
    """The database was written by a newer treadctl."""

    def __init__(self, found: int) -> None:
        self.found = found
        super().__init__(
            f"the history database has schema version {found}; this treadctl knows up to "
            f"{SCHEMA_VERSION} (upgrade treadctl; the database is left as it is)"
        )


def schema_version(conn: Connection) -> int:
    """The version recorded in the database (0: empty, no treadctl tables)."""
    if not conn.dialect.has_table(conn, meta.name):
        return 0
    row = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).first()
    return int(row[0]) if row is not None else 0


def migrate(conn: Connection) -> tuple[int, int]:
    """Bring the schema to :data:`SCHEMA_VERSION` inside the caller's transaction.

    Returns ``(before, after)``."""
    before = schema_version(conn)
    if before > SCHEMA_VERSION:
        raise SchemaTooNewError(before)
    if before == SCHEMA_VERSION:
        return before, before
    if before == 0:
        meta.create(conn, checkfirst=True)
        conn.execute(insert(meta).values(key="schema_version", value="0"))
    for step in MIGRATIONS[before:]:
        step(conn)
    conn.execute(
        update(meta).where(meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION))
    )
    return before, SCHEMA_VERSION
