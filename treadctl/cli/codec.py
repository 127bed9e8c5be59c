"""``treadctl decode [FILE]``: decode a JSON-lines FTMS capture, one line per frame.

Each input line is a JSON object with ``characteristic`` (16-bit UUID in hex, e.g. ``2acd``),
``hex`` (the bytes) and optionally ``direction`` (``write`` in it marks a Control Point
request; otherwise a Control Point frame is a response). This is the format of the captures
in ``tests/data`` (docs/references.md#captures). Each output line shows the frame number, the
characteristic, the bytes, what they mean and any lenient-decode diagnostics (``!``).

Exit codes: 0 every frame decoded; 1 some frame could not be decoded (each is reported);
2 no capture file (none given and the bundled default is absent).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from treadctl.cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE

DEFAULT_CAPTURE = Path("shared") / "captures" / "citysports-cs-wp8.jsonl"
"""Looked for in the checkout's tests/data copy, then beside the working directory and beside
the checkout."""


def default_capture() -> Path | None:
    """The CS-WP8 capture of a source checkout, if it can be found."""
    checkout = Path(__file__).resolve().parents[2]
    candidates = (
        checkout / "tests" / "data" / DEFAULT_CAPTURE.name,
        Path.cwd().parent / DEFAULT_CAPTURE,
        checkout.parent / DEFAULT_CAPTURE,
    )
    return next((path for path in candidates if path.is_file()), None)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "decode",
        help="decode a JSON-lines FTMS capture",
        description=(
            "Decode FTMS frames from a JSON-lines capture (one object per line with "
            "'characteristic' and 'hex') and print each frame's meaning and diagnostics."
        ),
        epilog="Exit codes: 0 all frames decoded, 1 some frame failed, 2 no capture file.",
    )
    parser.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="capture file, '-' for standard input "
        "(default: tests/data/citysports-cs-wp8.jsonl of a source checkout)",
    )
    parser.set_defaults(handler=_run)


def _decoders() -> dict[str, Callable[[bytes, str], tuple[object, tuple[Any, ...]]]]:
    from treadctl import ftms  # noqa: PLC0415 - keep --help fast

    def control_point(data: bytes, direction: str) -> tuple[object, tuple[Any, ...]]:
        if "write" in direction:
            return ftms.parse_control_request(data), ()
        return ftms.ControlResponse.decode(data)

    def plain(
        decode: Callable[[bytes], tuple[object, tuple[Any, ...]]],
    ) -> Callable[[bytes, str], tuple[object, tuple[Any, ...]]]:
        return lambda data, _direction: decode(data)

    return {
        f"{ftms.FEATURE_UUID16:04x}": plain(ftms.FitnessMachineFeature.decode),
        f"{ftms.TREADMILL_DATA_UUID16:04x}": plain(ftms.TreadmillData.decode),
        f"{ftms.TRAINING_STATUS_UUID16:04x}": plain(ftms.TrainingStatus.decode),
        f"{ftms.SPEED_RANGE_UUID16:04x}": plain(ftms.SupportedSpeedRange.decode),
        f"{ftms.INCLINE_RANGE_UUID16:04x}": plain(ftms.SupportedInclinationRange.decode),
        f"{ftms.CONTROL_POINT_UUID16:04x}": control_point,
        f"{ftms.MACHINE_STATUS_UUID16:04x}": plain(ftms.MachineStatus.decode),
        f"{ftms.FTMS_SERVICE_UUID16:04x}": plain(ftms.FtmsServiceData.decode),
    }


def decode_lines(lines: Iterable[str], out: TextIO) -> int:
    """Decode every capture line, writing one line per frame; returns the number of failures."""
    from treadctl.ftms import FtmsDecodeError  # noqa: PLC0415 - keep --help fast
    from treadctl.ftms.describe import describe  # noqa: PLC0415

    decoders = _decoders()
    failures = 0
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            characteristic = str(record["characteristic"]).lower().removeprefix("0x")
            data = bytes.fromhex(record["hex"])
            direction = str(record.get("direction", ""))
        except (ValueError, KeyError, TypeError) as exc:
            failures += 1
            out.write(f"{number:>3}  error: not a capture line ({exc!r})\n")
            continue
        head = f"{number:>3}  {characteristic}  {data.hex(' '):<51} "
        decoder = decoders.get(characteristic)
        if decoder is None:
            out.write(f"{head} (characteristic not decoded by treadctl)\n")
            continue
        try:
            value, diagnostics = decoder(data, direction)
        except FtmsDecodeError as exc:
            failures += 1
            out.write(f"{head} error: {exc}\n")
            continue
        out.write(f"{head} {describe(value)}\n")
        for diagnostic in diagnostics:
            out.write(f"{'':>5}! {diagnostic}\n")
    return failures


def _run(args: argparse.Namespace) -> int:
    name: str | None = args.file
    if name == "-":
        failures = decode_lines(sys.stdin, sys.stdout)
    else:
        path = Path(name) if name is not None else default_capture()
        if path is None:
            print(
                f"no capture file given and ../{DEFAULT_CAPTURE} not found; "
                "pass a JSON-lines capture file",
                file=sys.stderr,
            )
            return EXIT_USAGE
        try:
            with path.open(encoding="utf-8") as handle:
                failures = decode_lines(handle, sys.stdout)
        except OSError as exc:
            print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
    if failures:
        print(f"{failures} frame(s) could not be decoded", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
