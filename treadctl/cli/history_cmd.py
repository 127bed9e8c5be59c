"""``treadctl history ACTION``: the session history (docs/history.md, docs/history-export.md).

The ``history`` command is one parser whose actions come from the modules named in
``HISTORY_MODULES``; each exposes ``register_history(actions)`` (``actions`` is the
subparsers object of ``history``) and keeps heavy imports inside its handlers. The helpers
here open the history store the same way for every action (``read_store``): ``--history-url``
if given, else the configuration's (``[history] url`` or the SQLite file in the state
directory).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from treadctl.cli.config_cmd import add_config_argument
from treadctl.cli.refusals import fail

if TYPE_CHECKING:
    from treadctl.history.store import HistoryStore

T = TypeVar("T")

HISTORY_MODULES: tuple[str, ...] = ("treadctl.cli.history_view", "treadctl.cli.history_export")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "history",
        help="recorded sessions: export them, draw charts",
        description="The session history: export a session (FIT, TCX, CSV) and draw charts.",
        epilog="Exit codes: 0 ok, 1 failed (unknown session, unreadable history, ...), "
        "2 configuration error.",
    )
    actions = parser.add_subparsers(dest="history_action", metavar="ACTION", required=True)
    for name in HISTORY_MODULES:
        importlib.import_module(name).register_history(actions)


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config FILE`` and ``--history-url URL``, shared by the history actions."""
    add_config_argument(parser)
    parser.add_argument(
        "--history-url",
        metavar="URL",
        default=None,
        help="history database (sqlite:///PATH or postgresql://...; default: the configuration's)",
    )


class StoreUnavailableError(Exception):
    """The store could not be opened; ``exit_code`` says whether it was the configuration."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def open_store(args: argparse.Namespace) -> HistoryStore:
    """The history store the arguments name (raises StoreUnavailableError with a message)."""
    from treadctl.cli.main import EXIT_FAILED, EXIT_USAGE  # noqa: PLC0415
    from treadctl.history.store import HistoryError, HistoryStore  # noqa: PLC0415

    url: str | None = args.history_url
    if url is None:
        from treadctl.config import ConfigError, load_config  # noqa: PLC0415

        try:
            url = load_config(args.config).history_url()
        except ConfigError as exc:
            raise StoreUnavailableError(str(exc), EXIT_USAGE) from None
    try:
        return HistoryStore.open(url)
    except HistoryError as exc:
        raise StoreUnavailableError(str(exc), EXIT_FAILED) from None


def read_store(args: argparse.Namespace, read: Callable[[HistoryStore], T]) -> T | int:
    """``read(store)`` on the store the arguments name, the store closed after it; or, with the
    reason printed, the exit code: the store's (StoreUnavailableError) or 1 when reading
    failed (HistoryError). ``read`` must not return an int."""
    from treadctl.cli.main import EXIT_FAILED  # noqa: PLC0415
    from treadctl.history.store import HistoryError  # noqa: PLC0415

    try:
        store = open_store(args)
    except StoreUnavailableError as exc:
        fail(str(exc))
        return exc.exit_code
    try:
        return read(store)
    except HistoryError as exc:
        fail(str(exc))
        return EXIT_FAILED
    finally:
        store.close()
