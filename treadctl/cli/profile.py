"""``treadctl profile check|list|show``: validate, list and display backward-walking profiles.

- ``check [FILES]``: every problem with file, line, field and reason (all known profiles when no
  file is given); ``--user-cap``, ``--no-handrails`` and ``--speed-range MIN,MAX,STEP`` check
  against a person's limits and a treadmill's supported range (FTMS 0x2AD4); every cue must be
  sayable within its segment (``--speech-rate``, ``--measure-speech``: docs/speech.md). Exit 1 if
  any fails.
- ``list``: known profiles (``--dir`` and $TREADCTL_PROFILES first, then the bundled ones).
- ``show NAME``: a text timeline and a terminal chart of speed and incline; ``--svg FILE``
  writes the chart as an SVG image (standard library only; no PNG, which would need a new
  dependency).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from treadctl.cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from treadctl.cli.refusals import print_refused
from treadctl.observations import InclineRange, SpeedRange
from treadctl.safety.limits import Limits, LimitsError
from treadctl.units import kmh_to_centi, percent_to_deci


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("profile", help="check, list and show workout profiles")
    sub = parser.add_subparsers(dest="profile_command", metavar="ACTION", required=True)

    check = sub.add_parser("check", help="validate profile files (all known ones by default)")
    check.add_argument("files", nargs="*", type=Path, help="profile files (.yaml)")
    check.add_argument(
        "--user-cap", type=float, metavar="KMH", help="a person's speed cap (<= 3.0 km/h)"
    )
    check.add_argument("--no-handrails", action="store_true", help="the treadmill has no handrails")
    check.add_argument(
        "--speed-range",
        metavar="MIN,MAX,STEP",
        help="a treadmill's supported speed range in km/h, e.g. 1.0,6.0,0.5 (a walking pad)",
    )
    check.add_argument(
        "--incline-range",
        metavar="MIN,MAX,STEP",
        help="the treadmill's supported incline range in %% (without it: no incline)",
    )
    check.add_argument("--dir", type=Path, action="append", default=[], help="profile directory")
    check.add_argument(
        "--speech-rate",
        type=int,
        default=150,
        metavar="WPM",
        help="speaking rate for the cue-length rule ([speech] rate_wpm; default 150)",
    )
    check.add_argument(
        "--measure-speech",
        action="store_true",
        help="measure each cue with espeak-ng instead of estimating it from the rate",
    )
    check.set_defaults(handler=_check)

    lst = sub.add_parser("list", help="list known profiles")
    lst.add_argument("--dir", type=Path, action="append", default=[], help="profile directory")
    lst.set_defaults(handler=_list)

    show = sub.add_parser("show", help="timeline and chart of one profile")
    show.add_argument("name", help="profile name or file")
    show.add_argument("--width", type=int, default=72, help="chart width in columns")
    show.add_argument("--svg", type=Path, metavar="FILE", help="also write the chart as SVG")
    show.add_argument("--dir", type=Path, action="append", default=[], help="profile directory")
    show.set_defaults(handler=_show)


def _limits(args: argparse.Namespace) -> Limits:
    kwargs: dict[str, Any] = {"handrails": not args.no_handrails}
    if args.user_cap is not None:
        kwargs["user_speed_cap"] = kmh_to_centi(args.user_cap)
    try:
        return Limits(**kwargs)
    except LimitsError as exc:
        raise SystemExit(f"treadctl profile check: {exc}") from exc


def _triple(text: str, option: str, unit: str, convert: Any) -> tuple[int, int, int]:
    try:
        low, high, step = (convert(float(v)) for v in text.split(","))
    except ValueError as exc:
        raise SystemExit(f"{option} wants MIN,MAX,STEP in {unit}, got {text!r}") from exc
    return low, high, step


def _speed_range(text: str | None) -> SpeedRange | None:
    if text is None:
        return None
    return SpeedRange(*_triple(text, "--speed-range", "km/h", kmh_to_centi))


def _incline_range(text: str | None) -> InclineRange | None:
    if text is None:
        return None
    return InclineRange(*_triple(text, "--incline-range", "%", percent_to_deci))


def _dirs(args: argparse.Namespace) -> list[Path]:
    from treadctl.workout.loader import profile_dirs  # noqa: PLC0415 - keep --help fast

    return profile_dirs(args.dir)


def _check(args: argparse.Namespace) -> int:
    # pydantic and PyYAML load only when the command runs.
    from treadctl.speech.check import check_cues  # noqa: PLC0415
    from treadctl.workout.check import check_profile_for_device  # noqa: PLC0415
    from treadctl.workout.loader import (  # noqa: PLC0415
        ProfileError,
        list_profile_files,
        load_profile,
        locate,
    )

    if not 80 <= args.speech_rate <= 300:
        raise SystemExit("--speech-rate: 80 to 300 words per minute")
    measure = _espeak_measure(args.speech_rate) if args.measure_speech else None
    limits = _limits(args)
    rng = _speed_range(args.speed_range)
    incline = _incline_range(args.incline_range)
    files: list[Path] = list(args.files) or list_profile_files(_dirs(args))
    if not files:
        print("no profiles found", file=sys.stderr)
        return EXIT_USAGE
    failed = 0
    for path in files:
        try:
            profile = load_profile(path, limits=limits)
        except ProfileError as exc:
            failed += 1
            print_refused(path, exc.problems)
            continue
        problems = check_profile_for_device(profile, rng, incline) if rng is not None else []
        problems += check_cues(profile, args.speech_rate, measure)
        if problems:
            failed += 1
            print_refused(path, locate(problems, path), " (on this treadmill)")
            continue
        print(f"ok   {path} ({profile.name}, {profile.duration_s // 60} min)")
    print(f"{len(files) - failed} ok, {failed} refused")
    return EXIT_FAILED if failed else EXIT_OK


def _espeak_measure(rate_wpm: int) -> Any:
    """A function: text -> seconds espeak-ng takes to say it (rendered to a temporary file)."""
    import asyncio  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    from treadctl.speech.engine import Renderer, SpeechError, Voice, wav_seconds  # noqa: PLC0415

    def measure(text: str) -> float:
        with tempfile.TemporaryDirectory() as tmp:
            renderer = Renderer(Path(tmp), Voice(rate_wpm=rate_wpm))
            try:
                return wav_seconds(asyncio.run(renderer.render(text)))
            except SpeechError as exc:
                raise SystemExit(f"treadctl profile check --measure-speech: {exc}") from exc

    return measure


def _list(args: argparse.Namespace) -> int:
    from treadctl.workout.loader import (  # noqa: PLC0415 - keep --help fast
        ProfileError,
        list_profile_files,
        load_profile,
    )

    for path in list_profile_files(_dirs(args)):
        try:
            p = load_profile(path)
        except ProfileError as exc:
            print(f"{path.stem:<24} (refused: {len(exc.problems)} problem(s); see profile check)")
            continue
        rails = "rails" if p.needs_handrails else "no rails"
        print(
            f"{p.name:<24} {p.duration_s // 60:>3} min  cap {p.cap_kmh:g} km/h  "
            f"{p.level.value:<12} {rails:<8}  {p.description}"
        )
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    from treadctl.errors import TreadctlError  # noqa: PLC0415 - keep --help fast
    from treadctl.workout.loader import find_profile, load_profile  # noqa: PLC0415
    from treadctl.workout.plot import svg_chart, terminal_chart, timeline_text  # noqa: PLC0415

    try:
        profile = load_profile(find_profile(args.name, _dirs(args)))
    except TreadctlError as exc:
        print(f"treadctl profile show: {exc}", file=sys.stderr)
        return EXIT_FAILED
    sys.stdout.write(timeline_text(profile))
    sys.stdout.write("\n")
    sys.stdout.write(terminal_chart(profile, width=args.width))
    if args.svg is not None:
        args.svg.write_text(svg_chart(profile), encoding="utf-8")
        print(f"chart written to {args.svg}")
    return EXIT_OK
