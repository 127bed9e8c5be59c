"""``treadctl program check|list|show``: validate, list and display progression programs.

- ``check [FILES]``: every problem with file, line, field and reason (all known programs when no
  file is given); a stage naming a profile that does not exist is a problem. Exit 1 if any fails.
- ``list``: known programs (``--dir`` first, then the bundled ones).
- ``show NAME``: the stages with each profile's length and backward minutes, and the rules.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from treadctl.cli.main import EXIT_FAILED, EXIT_OK
from treadctl.cli.refusals import fail, print_refused


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("program", help="check, list and show progression programs")
    sub = parser.add_subparsers(dest="program_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="validate program files (all known ones by default)")
    check.add_argument("files", nargs="*", type=Path, help="program files (.yaml)")
    lst = sub.add_parser("list", help="list known programs")
    show = sub.add_parser("show", help="stages and rules of one program")
    show.add_argument("name", help="program name or file")
    for p in (check, lst, show):
        p.add_argument("--dir", type=Path, action="append", default=[], help="program directory")
        p.add_argument(
            "--profiles-dir",
            type=Path,
            action="append",
            default=[],
            help="extra profile directory (stages may name its profiles)",
        )
    check.set_defaults(handler=_check)
    lst.set_defaults(handler=_list)
    show.set_defaults(handler=_show)


def _profile_exists(args: argparse.Namespace) -> Any:
    from treadctl.workout.loader import list_profile_files, profile_dirs  # noqa: PLC0415

    names = {p.stem for p in list_profile_files(profile_dirs(args.profiles_dir))}
    return names.__contains__


def _check(args: argparse.Namespace) -> int:
    from treadctl.history.program import (  # noqa: PLC0415
        ProgramError,
        list_program_files,
        load_program,
        program_dirs,
    )

    files = args.files or list_program_files(program_dirs(args.dir))
    exists = _profile_exists(args)
    failed = 0
    for path in files:
        try:
            program = load_program(path, profile_exists=exists)
        except ProgramError as exc:
            failed += 1
            print_refused(path, exc.problems)
            continue
        print(f"ok   {path} ({program.name}: {len(program.stages)} stages)")
    return EXIT_FAILED if failed else EXIT_OK


def _list(args: argparse.Namespace) -> int:
    from treadctl.history.program import list_program_files, program_dirs  # noqa: PLC0415

    for path in list_program_files(program_dirs(args.dir)):
        print(f"{path.stem}\t{path}")
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    from treadctl.history.program import (  # noqa: PLC0415
        ProgramError,
        ProgramNotFoundError,
        find_program,
        load_program,
        program_dirs,
    )
    from treadctl.workout.loader import (  # noqa: PLC0415
        ProfileError,
        find_profile,
        load_profile,
        profile_dirs,
    )
    from treadctl.workout.models import SegmentKind  # noqa: PLC0415

    try:
        program = load_program(
            find_program(args.name, program_dirs(args.dir)), profile_exists=_profile_exists(args)
        )
    except (ProgramError, ProgramNotFoundError) as exc:
        fail(str(exc))
        return EXIT_FAILED
    print(f"{program.name}: {program.description}")
    for index, stage in enumerate(program.stages, start=1):
        try:
            profile = load_profile(find_profile(stage.profile, profile_dirs(args.profiles_dir)))
        except ProfileError as exc:
            fail(str(exc))
            return EXIT_FAILED
        back = sum(s.duration for s in profile.segments if s.kind == SegmentKind.BACKWARD)
        fastest = max(
            (s.speed_kmh or 0) for s in profile.segments if s.kind == SegmentKind.BACKWARD
        )
        print(
            f"  {index}. {program.stage_name(index):<10} {stage.profile:<24} "
            f"{profile.duration_s / 60:4.0f} min, {back / 60:4.0f} min backward, "
            f"backward up to {fastest:g} km/h"
        )
    r = program.rules
    print(
        f"rules: advance after {r.advance_after_sessions} sessions that ran to their end, rated "
        f"easy with pain <= {r.advance_pain_at_most}/10; step back one stage on pain > "
        f"{r.step_back_pain_above}/10, a near-fall or a safety stop; otherwise repeat; "
        f"{r.rest_hours} h between sessions (a warning, never a refusal)"
    )
    return EXIT_OK
