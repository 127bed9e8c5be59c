"""``treadctl demo --sessions N``: a person's journey, time-compressed, in one command.

The simulator and the daemon as in ``treadctl demo`` (no MQTT), a person ``demo-walker``
following ``retro-6-weeks``, and N sessions in a row, each started with ``start_next`` (the
person's current stage, through the same arming and governor path as ``start_profile``) and
rated afterwards by the demo, which plays the person: easy sessions first (the person
advances), then a painful one (a step back), then an easy one again. Every decision is printed
with its reason, the frequency advice too (all sessions fall on one day: warned, not refused).
At the end the sessions are exported (FIT, TCX, CSV) and drawn (session and progress charts)
next to the history file, and their paths are printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from treadctl.commands import RateSession, StartNext
from treadctl.config.people import PersonConfig
from treadctl.control.session_states import SessionSnapshot
from treadctl.daemon.app import Daemon
from treadctl.daemon.children import simulator_process
from treadctl.daemon.demo import DEMO_DEVICE, DEMO_PERSON, demo_config
from treadctl.daemon.demo_files import write_session_files
from treadctl.daemon.session_view import run_profile

DEFAULT_SPEEDUP = 30.0
"""A 20-minute stage in 40 s. Faster leaves too little real time for the telemetry freshness
check (3 simulated seconds) on a loaded machine."""

RATINGS: tuple[tuple[int, str, bool], ...] = (
    (2, "easy", False),
    (1, "easy", False),
    (6, "ok", False),
    (2, "easy", False),
    (1, "easy", False),
    (3, "easy", False),
)
"""What the demo's walker answers after each session (pain, difficulty, near-fall), in turn."""


@dataclass
class JourneyReport:
    sessions: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    history: Path | None = None


class _QuietView:
    """One line per segment instead of the live view's once-a-second line."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self._say = say
        self._last: tuple[object, ...] | None = None

    def show(self, snap: SessionSnapshot, heart_rate: str | None = None) -> None:
        key = (snap.segment_index,) if snap.segment_name else (snap.state,)
        if key != self._last:
            self._last = key
            where = f"segment {snap.segment_name}" if snap.segment_name else snap.state.value
            self._say(f"    {snap.elapsed_s / 60:5.1f} min  {where}")

    def message(self, text: str) -> None:
        self._say(f"  {text}")


async def run_journey_demo(
    sessions: int,
    *,
    speedup: float,
    preset: str,
    workdir: Path | None,
    say: Callable[[str], None],
) -> JourneyReport:
    report = JourneyReport()
    with contextlib.ExitStack() as files:
        work = workdir or Path(tempfile.mkdtemp(prefix="treadctl-journey-"))
        work.mkdir(parents=True, exist_ok=True)
        say(f"Files go to {work}")
        sim_dir = Path(files.enter_context(tempfile.TemporaryDirectory()))
        async with contextlib.AsyncExitStack() as stack:
            say(f"Starting the treadmill simulator (preset {preset}, time x{speedup:g}) ...")
            sim = await stack.enter_async_context(
                simulator_process(preset=preset, speedup=speedup, workdir=sim_dir)
            )
            config = demo_config(sim.transport, None, None, work, speedup=speedup)
            person = PersonConfig(id=DEMO_PERSON, name="Demo walker", program="retro-6-weeks")
            config = config.model_copy(update={"people": [person]})
            daemon = Daemon(config)
            async with asyncio.TaskGroup() as tg:
                running = tg.create_task(daemon.run(handle_signals=False))
                try:
                    for n in range(sessions):
                        await _one_session(daemon, n, report, say)
                finally:
                    daemon.request_stop("demo finished")
                await running
        report.history = work / "history.sqlite3"
        report.files = _export(report, work, say)
    return report


async def _one_session(daemon: Daemon, n: int, report: JourneyReport, say: Any) -> None:
    say("")
    say(f"Session {n + 1}: start_next for {DEMO_PERSON}")
    view = _QuietView(say)
    start = functools.partial(daemon.journey_command, DEMO_DEVICE, StartNext(), local=True)
    summary = await run_profile(
        daemon,
        DEMO_DEVICE,
        "the next stage",
        view,
        connect_timeout_s=30.0,
        auto_resume_rests=True,
        start=start,
    )
    runtime = daemon.devices[DEMO_DEVICE]
    session_id = runtime.session_id
    say(
        f"  ended {summary.ended}: {summary.active_s / 60:.1f} min active, "
        f"{summary.distance_m} m, session {session_id}"
    )
    if session_id is None:
        return
    report.sessions.append(session_id)
    if daemon.history is not None:
        await daemon.history.wait_recorded(session_id, timeout_s=30.0)
    pain, difficulty, near_fall = RATINGS[n % len(RATINGS)]
    say(f"  the walker rates it: pain {pain}/10, {difficulty}")
    result = await daemon.journey_command(
        DEMO_DEVICE,
        RateSession(pain=pain, difficulty=difficulty, near_fall=near_fall, session=session_id),
        local=True,
    )
    if not result.ok:
        say(f"  rating refused: {result.error.message if result.error else '?'}")
        return
    data = result.data or {}
    line = (
        f"{data.get('action')}: stage {data.get('from_stage')} -> {data.get('to_stage')} "
        f"({data.get('reason')})"
    )
    report.decisions.append(line)
    say(f"  decision: {line}")


def _export(report: JourneyReport, work: Path, say: Callable[[str], None]) -> list[Path]:
    """The last session's exports and chart, and the walker's progress chart."""
    if not report.sessions:
        return []
    files = write_session_files(
        work / "history.sqlite3", report.sessions[-1], work, progress_of=DEMO_PERSON
    )
    for problem in files.problems:
        say(f"  (not made: {problem})")
    return files.made
