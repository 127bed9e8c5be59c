"""The store against a real SQLite file and a real PostgreSQL server (same tests on both)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.history.factories import T0, rating, running, samples, session
from treadctl.history import schema
from treadctl.history.progression import Action, Decision
from treadctl.history.store import (
    HistoryCorruptError,
    HistoryError,
    HistoryStore,
    HistoryUnavailableError,
    RatingRefusedError,
    SessionNotFoundError,
    StageChange,
    sqlite_url,
)


def test_a_session_round_trips_with_its_samples(store: HistoryStore) -> None:
    store.begin_session(running())
    store.add_samples("s1", samples(3))
    store.add_samples("s1", samples(2, start=3))
    assert store.session("s1").running
    ended = session(distance_m=396.0, avg_speed_kmh=1.19, max_speed_kmh=1.2, steps=None)
    store.end_session(ended)
    assert store.session("s1") == ended
    got = store.samples("s1")
    assert got == samples(5)
    assert [s.heart_rate_bpm for s in got] == [95, None, 95, None, 95]
    assert got[0].at.utcoffset() == timedelta(0)
    assert store.schema_version() == schema.SCHEMA_VERSION


def test_interrupted_sessions_end_at_their_last_sample(store: HistoryStore) -> None:
    store.begin_session(running("a"))
    store.add_samples("a", samples(7))
    store.begin_session(running("b", treadmill_id="other"))
    assert store.mark_interrupted(["living-room"]) == ["a"]
    a = store.session("a")
    assert a.end_reason == "interrupted"
    assert a.ended_at == T0 + timedelta(seconds=6)
    assert store.session("b").running  # another daemon's treadmill: left alone
    assert len(store.samples("a")) == 7


def test_ratings_are_checked(store: HistoryStore) -> None:
    store.begin_session(running("r"))
    with pytest.raises(RatingRefusedError, match="still running"):
        store.rate("r", "ann", rating())
    store.end_session(session("r"))
    with pytest.raises(RatingRefusedError, match="belongs to 'ann', not 'bob'"):
        store.rate("r", "bob", rating())
    with pytest.raises(SessionNotFoundError):
        store.rate("nope", "ann", rating())
    rated = store.rate("r", "ann", rating(pain=2))
    assert rated.rating == rating(pain=2)
    with pytest.raises(RatingRefusedError, match="already rated"):
        store.rate("r", "ann", rating(pain=9))
    assert store.session("r").rating == rating(pain=2)  # nothing lost, nothing overwritten


def test_stages_and_their_changes(store: HistoryStore) -> None:
    assert store.stage("ann", "retro-6-weeks") is None
    first = StageChange("ann", "retro-6-weeks", None, 1, "start", "first session", None, T0)
    store.apply(first)
    store.begin_session(running("x"))
    decision = Decision(Action.ADVANCE, 1, 2, "two easy sessions", "x")
    later = T0 + timedelta(days=3)
    store.apply(
        StageChange("ann", "retro-6-weeks", 1, 2, "advance", decision.reason, "x", later),
        decision,
    )
    assert store.stage("ann", "retro-6-weeks") == (2, later)
    assert [c.to_stage for c in store.stage_changes("ann")] == [1, 2]
    assert store.decision_of("x") is Action.ADVANCE


def test_sessions_newest_first_by_person(store: HistoryStore) -> None:
    for i in range(3):
        start = T0 + timedelta(days=i)
        store.begin_session(session(f"s{i}", started_at=start, ended_at=start))
    store.begin_session(session("bob1", person_id="bob"))
    assert [s.id for s in store.sessions(person_id="ann")] == ["s2", "s1", "s0"]
    assert [s.id for s in store.sessions(person_id="ann", limit=1)] == ["s2"]
    since = T0 + timedelta(days=1)
    assert [s.id for s in store.sessions(person_id="ann", since=since)] == ["s2", "s1"]


def test_a_corrupt_file_is_reported_and_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    garbage = b"this is not a database, it was overwritten by something\n" * 100
    path.write_bytes(garbage)
    with pytest.raises(HistoryCorruptError, match="damaged or not a database") as info:
        HistoryStore.open(sqlite_url(path))
    assert "history.sqlite3" in str(info.value)
    assert path.read_bytes() == garbage


def test_a_read_only_file_fails_writes_clearly_and_keeps_what_it_has(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    store = HistoryStore.open(sqlite_url(path))
    store.begin_session(session("kept"))
    store.close()
    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    reader.close()
    ro = HistoryStore(create_engine(f"sqlite:///file:{path}?mode=ro&uri=true"), where=str(path))
    with pytest.raises(HistoryUnavailableError, match="readonly"):
        ro.begin_session(session("new"))
    assert ro.session("kept").id == "kept"
    ro.close()


def test_a_newer_schema_is_refused_not_altered(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    HistoryStore.open(sqlite_url(path)).close()
    engine = create_engine(sqlite_url(path))
    with engine.begin() as conn:
        conn.execute(text("UPDATE treadctl_meta SET value='99' WHERE key='schema_version'"))
    engine.dispose()
    with pytest.raises(HistoryError, match="schema version 99"):
        HistoryStore.open(sqlite_url(path))


def test_unreachable_postgres_is_unavailable() -> None:
    with pytest.raises(HistoryUnavailableError, match="cannot use the database"):
        HistoryStore.open("postgresql://nobody@127.0.0.1:1/none")


def test_sqlite_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    HistoryStore.open(sqlite_url(path)).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
