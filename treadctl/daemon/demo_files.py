"""The files the demos leave next to their history: one session as FIT, TCX and CSV, its chart,
and (for a person's journey) the progress chart.

Made with the exporters and charts of ``treadctl history export|chart|progress``
(docs/history-export.md), read from the demo's own SQLite history after the daemon has
stopped; a file that cannot be made is reported, never half written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from treadctl.history.charts import progress_chart, session_chart
from treadctl.history.export import FORMATS, export_session
from treadctl.history.output_files import safe_name, write_output
from treadctl.history.store import HistoryError, HistoryStore, sqlite_url

EXPORT_FORMATS = ("fit", "tcx", "csv")


@dataclass
class DemoFiles:
    made: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """One line per file not made, saying why."""


def write_session_files(
    history: Path, session_id: str, out_dir: Path, *, progress_of: str | None = None
) -> DemoFiles:
    """``<session>.fit|.tcx|.csv|.svg`` in ``out_dir`` (and ``progress-<person>.svg`` with
    ``progress_of``), from the history file ``history``."""
    files = DemoFiles()
    try:
        store = HistoryStore.open(sqlite_url(history))
    except HistoryError as exc:
        files.problems.append(f"history {history}: {exc}")
        return files
    try:
        record = store.session(session_id)
        samples = store.samples(session_id)
        name = safe_name(record.id)
        outputs: list[tuple[Path, bytes]] = [
            (out_dir / f"{name}{FORMATS[fmt].suffix}", export_session(record, samples, fmt))
            for fmt in EXPORT_FORMATS
        ]
        outputs.append((out_dir / f"{name}.svg", session_chart(record, samples).encode("utf-8")))
        if progress_of is not None:
            sessions = store.sessions(person_id=progress_of)
            changes = [(c.at, c.to_stage) for c in store.stage_changes(progress_of)]
            chart = progress_chart(progress_of, sessions, changes)
            outputs.append((out_dir / f"progress-{safe_name(progress_of)}.svg", chart.encode()))
    except HistoryError as exc:
        files.problems.append(f"session {session_id}: {exc}")
        return files
    finally:
        store.close()
    for path, data in outputs:
        try:
            write_output(path, data)
        except OSError as exc:
            files.problems.append(f"{path}: {exc.strerror or exc}")
        else:
            files.made.append(path)
    return files
