"""``treadctl history list|show|rate|stage``: read the history and rate a session.

- ``list [--person P] [--limit N]``: sessions, newest first.
- ``show ID``: one session: times, end, summary, rating, sample count.
- ``rate [ID] --pain N --difficulty easy|ok|hard [--near-fall] [--person P]``: the person's
  rating of their session (default: their last ended one) and the program decision it leads
  to. Refused (exit 1, nothing changed): another person's session, a running or already rated
  one, a pain outside 0-10.
- ``stage [--person P]``: the person's program, stage and stage changes with their reasons.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from treadctl.cli.history_cmd import add_store_arguments, read_store
from treadctl.cli.main import EXIT_OK, EXIT_USAGE
from treadctl.cli.refusals import fail, load_config_or_fail

if TYPE_CHECKING:
    from treadctl.history.progression import Action
    from treadctl.history.records import SessionRecord
    from treadctl.history.store import HistoryStore


def register_history(actions: Any) -> None:
    lst = actions.add_parser("list", help="recorded sessions, newest first")
    lst.add_argument("--person", help="only this person's sessions")
    lst.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    lst.set_defaults(handler=_list)

    show = actions.add_parser("show", help="one session in detail")
    show.add_argument("session_id", metavar="ID")
    show.set_defaults(handler=_show)

    rate = actions.add_parser("rate", help="rate a session: pain 0-10 and difficulty")
    rate.add_argument("session_id", metavar="ID", nargs="?", help="default: the last one")
    rate.add_argument("--pain", type=int, required=True, help="pain during the session, 0-10")
    rate.add_argument("--difficulty", choices=("easy", "ok", "hard"), required=True)
    rate.add_argument("--near-fall", action="store_true", help="a near-fall happened")
    rate.add_argument("--person", help="whose session (default: the default person)")
    rate.set_defaults(handler=_rate)

    stage = actions.add_parser("stage", help="a person's program stage and its changes")
    stage.add_argument("--person", help="default: the default person")
    stage.set_defaults(handler=_stage)

    for parser in (lst, show, rate, stage):
        add_store_arguments(parser)


def _list(args: argparse.Namespace) -> int:
    sessions = read_store(
        args, lambda store: store.sessions(person_id=args.person, limit=args.limit)
    )
    if isinstance(sessions, int):
        return sessions
    if not sessions:
        print("no sessions recorded")
    for s in sessions:
        stage = f"stage {s.stage}" if s.stage else "-"
        rating = f"pain {s.rating.pain} {s.rating.difficulty.value}" if s.rating else "not rated"
        end: str = s.end_reason or "running"
        if s.abort_reason:
            end += f" ({s.abort_reason})"
        print(
            f"{s.id:<28} {s.started_at:%Y-%m-%d %H:%M} {s.person_id:<10} {s.profile:<22} "
            f"{stage:<8} {end:<28} {s.backward_s / 60:5.1f} min back  {rating}"
        )
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    def read(store: HistoryStore) -> tuple[SessionRecord, int, Action | None]:
        s = store.session(args.session_id)
        return s, len(store.samples(s.id)), store.decision_of(s.id)

    got = read_store(args, read)
    if isinstance(got, int):
        return got
    s, count, decision = got
    print(f"session    {s.id}")
    print(f"person     {s.person_id}    treadmill {s.treadmill_id}")
    program = f"{s.program} stage {s.stage}" if s.program else "- (a single profile)"
    print(f"profile    {s.profile}    program {program}")
    ended = f"{s.ended_at:%Y-%m-%d %H:%M:%S}" if s.ended_at else "-"
    print(f"started    {s.started_at:%Y-%m-%d %H:%M:%S} UTC    ended {ended}")
    end: str = s.end_reason or "running"
    print(f"end        {end}{f' ({s.abort_reason})' if s.abort_reason else ''}")
    print(f"active     {s.active_s / 60:.1f} min, backward {s.backward_s / 60:.1f} min")
    for label, value, unit in (
        ("distance", s.distance_m, "m"),
        ("speed", s.avg_speed_kmh, "km/h average"),
        ("max speed", s.max_speed_kmh, "km/h"),
        ("incline", s.avg_incline_pct, "% average"),
        ("steps", s.steps, ""),
        ("heart rate", s.avg_hr_bpm, "bpm average"),
        ("max HR", s.max_hr_bpm, "bpm"),
    ):
        if value is not None:
            print(f"{label:<10} {value:g} {unit}".rstrip())
    if s.rating is not None:
        r = s.rating
        fall = ", near-fall" if r.near_fall else ""
        print(
            f"rating     pain {r.pain}/10, {r.difficulty.value}{fall} ({r.rated_at:%Y-%m-%d %H:%M})"
        )
    else:
        print("rating     not rated (treadctl history rate)")
    if decision is not None:
        print(f"decision   {decision.value}")
    print(f"samples    {count}")
    return EXIT_OK


def _context(args: argparse.Namespace) -> Any:
    """(config, person id, program name, programs) for rate and stage."""
    from treadctl.history.program import (  # noqa: PLC0415
        ProgramError,
        list_program_files,
        load_program,
        program_dirs,
    )
    from treadctl.history.recorder import DEFAULT_PERSON  # noqa: PLC0415
    from treadctl.workout.loader import list_profile_files, profile_dirs  # noqa: PLC0415

    config = load_config_or_fail(args.config)
    if config is None:
        return None
    person_id, program_name = DEFAULT_PERSON, "retro-6-weeks"
    if config.people:
        try:
            person = config.person(args.person)
        except KeyError:
            fail(f"no person {args.person!r} in the configuration")
            return None
        if person is None:
            fail("several people and none is the default: name one with --person")
            return None
        person_id, program_name = person.id, person.program
    elif args.person not in (None, DEFAULT_PERSON):
        fail(f"no person {args.person!r} in the configuration (no [[people]] configured)")
        return None
    extra = [config.profiles_dir] if config.profiles_dir else []
    names = {p.stem for p in list_profile_files(profile_dirs(extra))}
    programs = {}
    extra_programs = [config.history.programs_dir] if config.history.programs_dir else []
    for path in list_program_files(program_dirs(extra_programs)):
        try:
            programs[path.stem] = load_program(path, profile_exists=names.__contains__)
        except ProgramError as exc:
            fail(str(exc))
    return config, person_id, program_name, programs


def _rate(args: argparse.Namespace) -> int:
    from treadctl.history import journey  # noqa: PLC0415
    from treadctl.history.records import Difficulty, InvalidRecordError, Rating  # noqa: PLC0415

    context = _context(args)
    if context is None:
        return EXIT_USAGE
    _config, person, _program, programs = context
    now = datetime.now(UTC)
    try:
        rating = Rating(args.pain, Difficulty(args.difficulty), args.near_fall, now)
    except InvalidRecordError as exc:
        fail(str(exc))
        return EXIT_USAGE
    outcome = read_store(
        args,
        lambda store: journey.rate(
            store, programs, person=person, session_id=args.session_id, rating=rating, now=now
        ),
    )
    if isinstance(outcome, int):
        return outcome
    print(f"rated {outcome.session.id}: pain {args.pain}/10, {args.difficulty}")
    d = outcome.decision
    if d is not None:
        print(f"{d.action.value}: stage {d.from_stage} -> {d.to_stage} ({d.reason})")
    return EXIT_OK


def _stage(args: argparse.Namespace) -> int:
    context = _context(args)
    if context is None:
        return EXIT_USAGE
    _config, person, program_name, programs = context
    got = read_store(
        args, lambda store: (store.stage(person, program_name), store.stage_changes(person))
    )
    if isinstance(got, int):
        return got
    found, changes = got
    program = programs.get(program_name)
    stage = found[0] if found else 1
    name = program.stage_name(stage) if program else f"stage {stage}"
    print(f"{person}: {program_name}, stage {stage} ({name})")
    for c in changes:
        print(f"  {c.at:%Y-%m-%d %H:%M} {c.action:<9} {c.from_stage} -> {c.to_stage}: {c.reason}")
    return EXIT_OK
