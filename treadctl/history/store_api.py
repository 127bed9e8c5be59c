"""What callers of the history store need without loading SQLAlchemy: its errors, the
:class:`StageChange` record and the URL helpers.

The daemon imports this module at start-up; :mod:`treadctl.history.store` (and with it
SQLAlchemy, about 11 MiB and 0.2 s, docs/benchmarks.md) is imported by the history writer
thread when it first opens the database, never on the event loop's path.
:mod:`treadctl.history.store` re-exports every name defined here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from treadctl.errors import TreadctlError

_SQLITE_PREFIX = "sqlite:///"
_RENDERED_AS_IS = frozenset("%:?@#")
"""Characters after ``sqlite:///`` that SQLAlchemy may render differently (quoting, query)."""


class HistoryError(TreadctlError):
    """The history could not do what was asked; ``where`` names the database (no password)."""

    def __init__(self, message: str, *, where: str) -> None:
        self.where = where
        super().__init__(f"{where}: {message}")


class HistoryUnavailableError(HistoryError):
    """The database cannot be reached or written (stalled, full, read-only, refused)."""


class HistoryCorruptError(HistoryError):
    """The database file is damaged or not a database; it is left untouched."""

    advice = "the file was left as it is: move it aside to start a new history, keep it to recover"


class SessionNotFoundError(HistoryError):
    def __init__(self, session_id: str, *, where: str) -> None:
        self.session_id = session_id
        super().__init__(f"no session {session_id!r}", where=where)


class RatingRefusedError(HistoryError):
    """A rating that cannot be stored: another person's session, a running one, a second one."""


@dataclass(frozen=True, slots=True)
class StageChange:
    """One stored change of a person's stage (or the first stage they were given)."""

    person_id: str
    program: str
    from_stage: int | None
    to_stage: int
    action: str
    reason: str
    session_id: str | None
    at: datetime


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def display_url(url: str) -> str:
    """The URL without its password, for messages and logs.

    A plain SQLite file URL (the default) has no password and SQLAlchemy renders it unchanged:
    it is returned as it is. Any other URL is rendered by SQLAlchemy (imported here, then)."""
    path = url.removeprefix(_SQLITE_PREFIX)
    if path != url and not _RENDERED_AS_IS.intersection(path):
        return url
    from sqlalchemy import exc as sa_exc  # noqa: PLC0415  (not loaded for the default URL)
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "<invalid database URL>"
