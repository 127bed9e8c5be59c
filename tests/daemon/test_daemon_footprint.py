"""Footprint of the daemon on the production path (``backend = "bluez"``): what it must not
import. Read from Python's own import log (``PYTHONPROFILEIMPORTTIME``) of the running daemon,
as ``test_daemon_backends.py`` does for Bumble. Sizes and times are in bench/ and
docs/benchmarks.md, not here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.daemon import REPO_ROOT, DaemonProcess
from tests.faults.helpers import rig

DEFERRED = (
    "bumble",
    "fit_tool",
    "jinja2",
    "cairosvg",
    "hypothesis",
    "treadctl.cli.history_cmd",
    "treadctl.cli.history_export",
    "treadctl.cli.history_view",
    "treadctl.cli.live",
    "treadctl.history.export",
    "treadctl.history.charts",
    "treadctl.svg",
    "treadctl.speech.engine",
    "treadctl.speech.speaker",
)
"""Never imported by a daemon with the default ``[speech]`` (off): exports, charts, the speech
engine, the command line's history commands, test-only libraries, Bumble with BlueZ."""
HISTORY_STORE = ("sqlalchemy", "psycopg", "treadctl.history.store", "treadctl.history.schema")
"""Imported by the history writer thread when it opens the store, never by a module import."""


def imported(daemon: DaemonProcess) -> set[str]:
    return {
        line.rsplit("|", 1)[1].strip()
        for line in daemon.stderr().splitlines()
        if line.startswith("import time:") and "|" in line
    }


def under(names: set[str], roots: tuple[str, ...]) -> set[str]:
    return {n for n in names if any(n == r or n.startswith(r + ".") for r in roots)}


@pytest.mark.crossprocess
@pytest.mark.parametrize("history", [True, False])
async def test_the_bluez_daemon_imports_only_what_it_runs(tmp_path: Path, history: bool) -> None:
    """Connected, streaming and stopped: none of the deferred modules; SQLAlchemy only when the
    history is on (its writer thread opens the store at start to mark interrupted sessions)."""
    extra = None if history else {"history": {"enabled": False}}
    async with rig(tmp_path, backend="bluez", extra_config=extra) as r:
        daemon = await r.start_daemon(env={"PYTHONPROFILEIMPORTTIME": "1"})
        assert await daemon.terminate() == 0
    names = imported(daemon)
    assert "bleak.backends.bluezdbus.client" in names  # the log is the daemon's, connected
    assert under(names, DEFERRED) == set()
    store = under(names, HISTORY_STORE)
    if history:
        assert {"sqlalchemy", "treadctl.history.store"} <= store
    else:
        assert store == set()


def test_importing_the_daemon_loads_no_database_library() -> None:
    """The event loop's code (the daemon's modules) never imports the store: only the writer
    thread's opener does (``treadctl.daemon.history.open_store``)."""
    roots = (*DEFERRED, *HISTORY_STORE)
    code = (
        "import sys, treadctl.daemon.app, treadctl.daemon.history as h\n"
        f"roots = {roots!r}\n"
        "print(sorted(n for n in sys.modules"
        " if any(n == r or n.startswith(r + '.') for r in roots)))\n"
        "h.open_store('sqlite://')\n"
        "print('sqlalchemy' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert out == ["[]", "True"]
