"""``treadctl history export|chart|progress``: files made from the history.

- ``export ID [--format fit|tcx|csv] [--out PATH]``: one session as a file (default
  ``treadctl-<ID>.<format>`` in the current directory; ``--out -`` writes to standard output).
- ``chart ID [--png] [--out PATH]``: the session's speed and incline over time (SVG, or PNG).
- ``progress PERSON [--png] [--out PATH]``: minutes walking backward per week and the program
  stage (SVG, or PNG).

Files are written whole or not at all. Exit 1 with a clear message for an unknown session or
person, an unreadable history or an unwritable file. Formats: docs/history-export.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from treadctl.cli.history_cmd import add_store_arguments, read_store
from treadctl.cli.main import EXIT_FAILED, EXIT_OK
from treadctl.cli.refusals import fail
from treadctl.history.output_files import safe_name, write_output

FORMAT_NAMES = ("fit", "tcx", "csv")


def register_history(actions: Any) -> None:
    export = actions.add_parser(
        "export",
        help="write one session as FIT, TCX or CSV",
        description="Write one recorded session as a FIT activity, a TCX file or CSV samples.",
    )
    export.add_argument("session_id", metavar="ID", help="session id (treadctl history list)")
    export.add_argument(
        "--format", choices=FORMAT_NAMES, default="fit", help="file format (default fit)"
    )
    export.add_argument(
        "--out",
        metavar="PATH",
        default=None,
        help="output file (default treadctl-ID.FORMAT; - for stdout)",
    )
    export.set_defaults(handler=_export)

    chart = actions.add_parser(
        "chart",
        help="draw one session: speed and incline, segments shaded",
        description="Draw one session's speed and incline over time, segments shaded.",
    )
    chart.add_argument("session_id", metavar="ID", help="session id")
    chart.set_defaults(handler=_chart)

    progress = actions.add_parser(
        "progress",
        help="draw a person's weeks: backward minutes and program stage",
        description="Draw minutes walking backward per week and the program stage over weeks.",
    )
    progress.add_argument("person_id", metavar="PERSON", help="person id ([[people]] id)")
    progress.set_defaults(handler=_progress)

    for parser in (chart, progress):
        parser.add_argument("--png", action="store_true", help="PNG instead of SVG (CairoSVG)")
        parser.add_argument("--out", metavar="PATH", default=None, help="output file")
    for parser in (export, chart, progress):
        add_store_arguments(parser)


def _emit(data: bytes, out: str | None, default: str) -> int:
    if out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return EXIT_OK
    path = Path(out) if out else Path(default)
    try:
        write_output(path, data)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
        return EXIT_FAILED
    print(f"wrote {path} ({len(data)} bytes)")
    return EXIT_OK


def _session(args: argparse.Namespace) -> tuple[Any, Any] | int:
    """(record, samples) of the session named in the arguments, or an exit code."""
    return read_store(
        args, lambda store: (store.session(args.session_id), store.samples(args.session_id))
    )


def _export(args: argparse.Namespace) -> int:
    from treadctl.history.export import FORMATS, export_session  # noqa: PLC0415

    got = _session(args)
    if isinstance(got, int):
        return got
    record, samples = got
    data = export_session(record, samples, args.format)
    default = f"treadctl-{safe_name(record.id)}{FORMATS[args.format].suffix}"
    return _emit(data, args.out, default)


def _picture(svg: str, png: bool) -> bytes | None:
    if not png:
        return svg.encode("utf-8")
    from treadctl.history.charts import PngUnavailableError, to_png  # noqa: PLC0415

    try:
        return to_png(svg)
    except PngUnavailableError as exc:
        fail(str(exc))
        return None


def _chart(args: argparse.Namespace) -> int:
    from treadctl.history.charts import session_chart  # noqa: PLC0415

    got = _session(args)
    if isinstance(got, int):
        return got
    record, samples = got
    data = _picture(session_chart(record, samples), args.png)
    if data is None:
        return EXIT_FAILED
    suffix = ".png" if args.png else ".svg"
    return _emit(data, args.out, f"treadctl-{safe_name(record.id)}{suffix}")


def _progress(args: argparse.Namespace) -> int:
    from treadctl.history.charts import progress_chart  # noqa: PLC0415

    got = read_store(
        args,
        lambda store: (
            store.sessions(person_id=args.person_id),
            [(c.at, c.to_stage) for c in store.stage_changes(args.person_id)],
        ),
    )
    if isinstance(got, int):
        return got
    sessions, changes = got
    if not sessions:
        fail(f"no sessions recorded for person {args.person_id!r}")
        return EXIT_FAILED
    data = _picture(progress_chart(args.person_id, sessions, changes), args.png)
    if data is None:
        return EXIT_FAILED
    suffix = ".png" if args.png else ".svg"
    return _emit(data, args.out, f"treadctl-progress-{safe_name(args.person_id)}{suffix}")
