"""The daemon records sessions, runs start_next and ratings, and never lets the database delay
a Stop. The real Daemon against in-process simulators; the database is a real SQLite file."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.daemon.inprocess import DEADLINE_S, config_for, simulators, until_ready
from treadctl.commands import Arm, EmergencyStop, RateSession, StartNext, StartProfile
from treadctl.config.model import Config
from treadctl.daemon.app import Daemon
from treadctl.history.records import SessionRecord
from treadctl.history.store import HistoryStore, sqlite_url

OP_STOP = 0x08

PROGRAM = """\
name: test-steps
description: Two short stages (tests).
stages:
  - profile: quick-back
  - profile: long-back
"""


def history_config(tmp_path: Path, transport: str, url: str | None = None) -> Config:
    base = config_for(tmp_path, [("tm1", transport)])
    programs = tmp_path / "programs"
    programs.mkdir()
    (programs / "test-steps.yaml").write_text(PROGRAM, encoding="utf-8")
    return Config.model_validate(
        {
            **base.model_dump(mode="json"),
            "people": [{"id": "ann", "name": "Ann", "program": "test-steps"}],
            "history": {"programs_dir": str(programs), "url": url},
        }
    )


class Logs:
    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []
        self._seen: dict[str, asyncio.Event] = {}

    def _log(self, level: str, event: str, **fields: Any) -> None:
        self.lines.append({"event": event, "level": level, **fields})
        self._seen.setdefault(event, asyncio.Event()).set()

    async def wait(self, event: str) -> None:
        async with asyncio.timeout(DEADLINE_S):
            await self._seen.setdefault(event, asyncio.Event()).wait()

    def __getattr__(self, level: str) -> Any:
        return lambda event, **fields: self._log(level, event, **fields)

    def events(self, name: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line["event"] == name]


async def settled(daemon: Daemon) -> HistoryStore:
    """Everything queued so far is written (the writer is FIFO): then read the file."""
    assert daemon.history is not None
    await daemon.history.writer.call("barrier", lambda store: None, timeout_s=DEADLINE_S)
    return HistoryStore.open(sqlite_url(daemon.config.state_dir / "history.sqlite3"))


async def last_ended(daemon: Daemon, person: str) -> SessionRecord:
    """The person's newest session once its end is written (waits, bounded)."""
    assert daemon.history is not None
    async with asyncio.timeout(DEADLINE_S):
        while True:
            found = await daemon.history.writer.call(
                "test", lambda store: store.sessions(person_id=person, limit=1), timeout_s=5
            )
            if found and found[0].ended_at is not None:
                return found[0]
            await asyncio.sleep(0.05)


async def test_start_next_records_rates_and_advances(tmp_path: Path) -> None:
    async with simulators(1) as (sim,):
        logs = Logs()
        daemon = Daemon(history_config(tmp_path, sim.transport), logger=logs)
        async with asyncio.TaskGroup() as tg:
            running = tg.create_task(daemon.run(handle_signals=False))
            await until_ready(daemon)
            runtime = daemon.devices["tm1"]
            decisions = []
            for n in range(2):
                started = await daemon.journey_command("tm1", StartNext(), local=True)
                assert started.ok, started
                assert started.data is not None
                assert (started.data["profile"], started.data["stage"]) == ("quick-back", 1)
                warnings = started.data["warnings"]
                assert isinstance(warnings, list)
                assert bool(warnings) == (n == 1)  # the second on the same day: warned, started
                result = await asyncio.wait_for(runtime.results.get(), DEADLINE_S)
                assert result.summary.ended == "finished"
                last = await last_ended(daemon, "ann")
                rated = await daemon.journey_command(
                    "tm1", RateSession(pain=2, difficulty="easy", session=last.id), local=True
                )
                assert rated.ok, rated
                decisions.append(rated.data)
            assert decisions[0] is not None
            assert decisions[0]["action"] == "repeat"
            assert decisions[1] is not None
            assert (decisions[1]["action"], decisions[1]["to_stage"]) == ("advance", 2)

            store = await settled(daemon)
            sessions = store.sessions(person_id="ann")
            assert [s.end_reason for s in sessions] == ["finished", "finished"]
            assert all(s.stage == 1 and s.program == "test-steps" for s in sessions)
            first = sessions[-1]
            samples = store.samples(first.id)
            # 1 Hz over the 60 s profile (device clock) plus the ramp.
            assert 55 <= len(samples) <= 80, len(samples)
            assert all(b.t_s - a.t_s <= 1.5 for a, b in itertools.pairwise(samples))
            assert max(s.speed_kmh or 0 for s in samples) == 1.0
            # Facing backward in the profile's one segment; then the belt runs down to a stop.
            assert {s.direction for s in samples if s.segment_index is not None} == {"backward"}
            assert samples[-1].segment_index is None
            assert samples[-1].speed_kmh == 0
            assert 50 <= first.backward_s <= 62
            assert first.distance_m is not None
            assert first.distance_m > 10
            assert store.stage("ann", "test-steps") is not None
            assert store.stage("ann", "test-steps")[0] == 2  # type: ignore[index]
            store.close()
            # Another person's session cannot be rated; a rating out of range never parses.
            other = await daemon.journey_command(
                "tm1", RateSession(pain=1, difficulty="easy", person="bob"), local=True
            )
            assert other.error is not None
            assert other.error.code == "unknown_person"
            # The next start_next starts stage 2 (through arming: remote needs arm).
            remote = await daemon.journey_command("tm1", StartNext(), local=False)
            assert remote.error is not None
            assert remote.error.code == "not_armed"
            assert runtime.handle(Arm()).ok
            remote = await daemon.journey_command("tm1", StartNext(), local=False)
            assert remote.ok
            assert remote.data is not None
            assert remote.data["profile"] == "long-back"
            assert runtime.handle(EmergencyStop()).ok
            await asyncio.wait_for(runtime.results.get(), DEADLINE_S)
            await last_ended(daemon, "ann")
            store = await settled(daemon)
            # The emergency stop is a safety abort: back to stage 1 at once, with its reason.
            assert store.stage("ann", "test-steps")[0] == 1  # type: ignore[index]
            change = store.stage_changes("ann")[-1]
            assert change.action == "step_back"
            assert "emergency_stop" in change.reason
            store.close()
            assert logs.events("stage_changed")
            daemon.request_stop("test over")
            await running


@contextmanager
def locked(path: Path, seconds: float) -> Iterator[threading.Event]:
    """Another process-like connection holds the database's write lock for ``seconds``."""
    taken = threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(path, timeout=0)
        conn.execute("BEGIN EXCLUSIVE")
        taken.set()
        time.sleep(seconds)  # the stall being simulated
        conn.rollback()
        conn.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        yield taken
    finally:
        thread.join()


async def test_a_locked_database_never_delays_an_emergency_stop(tmp_path: Path) -> None:
    async with simulators(1) as (sim,):
        logs = Logs()
        daemon = Daemon(history_config(tmp_path, sim.transport), logger=logs)
        async with asyncio.TaskGroup() as tg:
            running = tg.create_task(daemon.run(handle_signals=False))
            await until_ready(daemon)
            store = await settled(daemon)  # the file exists, schema made
            store.close()
            runtime = daemon.devices["tm1"]
            with locked(daemon.config.state_dir / "history.sqlite3", 10.0) as taken:
                await asyncio.to_thread(taken.wait)
                assert runtime.handle_local(StartProfile("long-back")).ok
                await sim.belt(at_least=100)
                # Samples are queued every 5 s while the writer is stuck on the lock.
                await logs.wait("history_failed")
                before = time.monotonic()
                assert runtime.handle(EmergencyStop()).ok
                await sim.belt(at_most=0)
                stops = [r for r in sim.writes(OP_STOP) if r["t"] >= before]
                assert stops, "no Stop reached the simulator"
                delay = stops[0]["t"] - before
                # The belt got its Stop while the database was still locked.
                assert delay < 1.0, delay
                print(f"emergency stop reached the belt {delay * 1000:.0f} ms after the command")
                assert taken.is_set()
            # After the stall the history works again and the session is recorded.
            await logs.wait("history_recovered")
            record = await last_ended(daemon, "ann")
            assert (record.end_reason, record.abort_reason) == ("aborted", "emergency_stop")
            # Nothing lost: the writes the locked database refused were kept and written after.
            store = await settled(daemon)
            kept = store.samples(record.id)
            store.close()
            assert kept[0].t_s < 1.0
            assert all(b.t_s - a.t_s <= 1.5 for a, b in itertools.pairwise(kept))
            store.close()
            daemon.request_stop("test over")
            await running


async def test_the_daemon_records_into_postgresql(tmp_path: Path, postgres_url: str) -> None:
    async with simulators(1) as (sim,):
        daemon = Daemon(history_config(tmp_path, sim.transport, postgres_url), logger=Logs())
        async with asyncio.TaskGroup() as tg:
            running = tg.create_task(daemon.run(handle_signals=False))
            await until_ready(daemon)
            started = await daemon.journey_command("tm1", StartNext(), local=True)
            assert started.ok, started
            await asyncio.wait_for(daemon.devices["tm1"].results.get(), DEADLINE_S)
            record = await last_ended(daemon, "ann")
            rated = await daemon.journey_command(
                "tm1", RateSession(pain=1, difficulty="easy", session=record.id), local=True
            )
            assert rated.ok, rated
            daemon.request_stop("test over")
            await running
    store = HistoryStore.open(postgres_url)
    try:
        [session] = store.sessions(person_id="ann")
        assert (session.end_reason, session.stage, session.program) == ("finished", 1, "test-steps")
        assert session.rating is not None
        assert len(store.samples(session.id)) >= 55
        assert not (tmp_path / "history.sqlite3").exists()
    finally:
        store.close()
