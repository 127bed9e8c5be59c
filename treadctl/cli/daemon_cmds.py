"""``treadctl run``, ``treadctl session start``, ``treadctl demo`` and ``treadctl status``."""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import sys
from pathlib import Path
from typing import Any

from treadctl.cli.main import EXIT_ABORTED, EXIT_FAILED, EXIT_OK, EXIT_USAGE
from treadctl.cli.refusals import fail, load_config_or_fail

DEFAULT_DEMO_SPEEDUP = 20.0
DEMO_PATHS = (
    "journey: scripts/demo --sessions 3",
    "BlueZ path: scripts/demo --backend bluez",
    "spoken cues kept: scripts/demo --audio-dir DIR",
)
"""What else the demo shows, printed at the end of the default run (README, docs/daemon.md)."""


def register(sub: Any) -> None:
    run = sub.add_parser("run", help="run the daemon (systemd runs this)")
    run.add_argument("--config", type=Path, help="TOML file (default /etc/treadctl/config.toml)")
    run.set_defaults(handler=_run)

    demo = sub.add_parser(
        "demo", help="simulator + a backward-walking session with live progress, in one command"
    )
    demo.add_argument(
        "--profile",
        default="retro-beginner",
        help="profile name or profile file (default retro-beginner)",
    )
    demo.add_argument(
        "--speedup",
        type=float,
        default=DEFAULT_DEMO_SPEEDUP,
        help=f"time compression of the simulated session (default {DEFAULT_DEMO_SPEEDUP:g})",
    )
    demo.add_argument("--preset", default="generic", help="simulator preset (default generic)")
    demo.add_argument(
        "--backend",
        choices=("bumble", "bluez"),
        default="bumble",
        help="bumble (default): a Bumble host; bluez: bleak's BlueZ backend against the BlueZ "
        "twin on a private D-Bus (the Raspberry Pi path, docs/bluez-twin.md)",
    )
    demo.add_argument(
        "--sessions",
        type=int,
        default=None,
        metavar="N",
        help="a person's journey instead: N program sessions with start_next, rated, with the "
        "stage decisions, exports and charts (time x30 unless --speedup is given)",
    )
    demo.add_argument("--mqtt", metavar="HOST:PORT", help="use this broker")
    demo.add_argument("--no-mqtt", action="store_true", help="run without MQTT")
    demo.add_argument(
        "--workdir",
        type=Path,
        help="keep the history, its exports and chart, the simulator's trace and control socket "
        "here (default: a new treadctl-demo-* temporary dir, kept)",
    )
    demo.add_argument(
        "--audio-dir",
        type=Path,
        metavar="DIR",
        help="speak the cues and keep the rendered WAV files and their journal in DIR "
        "(default: speech only when a sound device exists)",
    )
    demo.add_argument("--no-speech", action="store_true", help="no spoken cues")
    demo.set_defaults(handler=_demo)

    session = sub.add_parser("session", help="run a profile from this terminal")
    session_sub = session.add_subparsers(dest="session_command", metavar="ACTION")
    start = session_sub.add_parser("start", help="start PROFILE on a configured treadmill")
    start.add_argument("profile", help="profile name or profile file")
    start.add_argument("--config", type=Path)
    start.add_argument("--device", help="device id (default: the only configured one)")
    start.add_argument(
        "--speedup",
        type=float,
        default=None,
        help="time compression; only for a treadmill configured with simulator = true "
        "(default: the device's speedup setting, 1 for a real treadmill)",
    )
    start.set_defaults(handler=_session_start)
    nxt = session_sub.add_parser(
        "next", help="start the person's current program stage (docs/journey.md)"
    )
    nxt.add_argument("--person", help="person id (default: the default person)")
    nxt.add_argument("--config", type=Path)
    nxt.add_argument("--device", help="device id (default: the only configured one)")
    nxt.add_argument(
        "--speedup",
        type=float,
        default=None,
        help="time compression; only for a treadmill configured with simulator = true",
    )
    nxt.set_defaults(handler=_session_start, profile=None)
    session.set_defaults(handler=lambda _a: (session.print_help(), EXIT_USAGE)[1])

    status = sub.add_parser("status", help="print the retained state from MQTT")
    status.add_argument("--config", type=Path)
    status.add_argument("--timeout", type=float, default=3.0)
    status.set_defaults(handler=_status)


def _logging(config: Any, *, quiet_console: bool = False) -> None:
    from treadctl.log import configure_logging  # noqa: PLC0415

    level = "WARNING" if quiet_console else config.logging.level
    configure_logging(level, config.logging.format, loggers=config.logging.loggers)


def _run(args: argparse.Namespace) -> int:
    config = load_config_or_fail(args.config)
    if config is None:
        return EXIT_USAGE
    _logging(config)
    import structlog  # noqa: PLC0415

    from treadctl.daemon.app import Daemon  # noqa: PLC0415
    from treadctl.daemon.instance import AlreadyRunningError  # noqa: PLC0415

    try:
        asyncio.run(Daemon(config).run())
    except AlreadyRunningError as exc:
        structlog.get_logger("treadctl.daemon").error("already_running", error=str(exc))
        return EXIT_FAILED
    except Exception as exc:
        # The belts were stopped on the way out (DeviceRuntime.run); exit 1 so that systemd's
        # Restart=on-failure starts a fresh daemon (which never restarts a belt by itself).
        structlog.get_logger("treadctl.daemon").exception("daemon_failed", error=repr(_unwrap(exc)))
        return EXIT_FAILED
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from treadctl.daemon.children import ChildError  # noqa: PLC0415
    from treadctl.daemon.demo import DemoOptions, run_demo  # noqa: PLC0415
    from treadctl.daemon.live_view import LiveView, render_summary  # noqa: PLC0415
    from treadctl.daemon.session_view import SessionRefusedError  # noqa: PLC0415
    from treadctl.log import configure_logging  # noqa: PLC0415

    if not args.speedup >= 1:
        fail("--speedup must be >= 1")
        return EXIT_USAGE
    configure_logging("WARNING", "console", stream=sys.stderr)
    if args.sessions is not None:
        return _demo_journey(args)
    view = LiveView()
    options = DemoOptions(
        profile=args.profile,
        speedup=args.speedup,
        preset=args.preset,
        mqtt=args.mqtt,
        no_mqtt=args.no_mqtt,
        workdir=args.workdir,
        audio_dir=args.audio_dir,
        no_speech=args.no_speech,
        backend=args.backend,
    )
    try:
        report = asyncio.run(run_demo(options, view))
    except Exception as exc:  # a TaskGroup wraps what its body raised: unwrap to report it
        cause = _unwrap(exc)
        if isinstance(cause, SessionRefusedError):
            view.message(f"treadctl demo: the session was refused: {cause}")
        elif isinstance(cause, ChildError):
            view.message(f"treadctl demo: {cause}")
        elif isinstance(cause, TimeoutError):
            view.message("treadctl demo: the simulated treadmill was not reachable in time")
        else:
            raise
        return EXIT_FAILED
    view.message("")
    view.message(render_summary(report.summary, report.heart_rate))
    view.message("")
    if report.history is not None:
        view.message(f"History: {report.history} (session {report.session_id})")
        view.message(f"  treadctl history list --history-url sqlite:///{report.history}")
    for path in report.files.made:
        view.message(f"  wrote {path}")
    for problem in report.files.problems:
        view.message(f"  (not made: {problem})")
    view.message(f"Work directory (simulator trace, broker config): {report.workdir}")
    view.message("")
    view.message("Other paths:")
    for line in DEMO_PATHS:
        view.message(f"  {line}")
    return EXIT_OK if report.summary.ended == "finished" else EXIT_ABORTED


def _demo_journey(args: argparse.Namespace) -> int:
    from treadctl.daemon.demo_journey import DEFAULT_SPEEDUP, run_journey_demo  # noqa: PLC0415

    if not 1 <= args.sessions <= 20:
        fail("--sessions must be within 1..20")
        return EXIT_USAGE
    speedup = DEFAULT_SPEEDUP if args.speedup == DEFAULT_DEMO_SPEEDUP else args.speedup

    def say(text: str) -> None:
        print(text, flush=True)

    report = asyncio.run(
        run_journey_demo(
            args.sessions, speedup=speedup, preset=args.preset, workdir=args.workdir, say=say
        )
    )
    say("")
    say(f"{len(report.sessions)} sessions recorded in {report.history}")
    for line in report.decisions:
        say(f"  {line}")
    for path in report.files:
        say(f"  wrote {path}")
    say(f"More: treadctl history list --history-url sqlite:///{report.history}")
    return EXIT_OK if len(report.sessions) == args.sessions else EXIT_FAILED


def _unwrap(exc: BaseException) -> BaseException:
    """The one exception inside (nested) exception groups of one member each."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _session_start(args: argparse.Namespace) -> int:
    config = load_config_or_fail(args.config)
    if config is None:
        return EXIT_USAGE
    devices = {d.id: d for d in config.devices}
    device_id = args.device or (next(iter(devices)) if len(devices) == 1 else None)
    if device_id is None or device_id not in devices:
        fail(f"choose a device with --device ({', '.join(devices)})")
        return EXIT_USAGE
    speedup = devices[device_id].speedup if args.speedup is None else args.speedup
    if speedup != 1.0 and not devices[device_id].simulator:
        # Time compression multiplies the real acceleration of a real belt (issue 7).
        print(
            f"treadctl: --speedup is refused for {device_id!r}: it is not the simulator "
            "(it would multiply the real belt's acceleration)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if not speedup >= 1:
        fail("--speedup must be >= 1")
        return EXIT_USAGE
    from treadctl.daemon.demo import profile_argument  # noqa: PLC0415

    person = getattr(args, "person", None)
    profile, extra_dir = (
        profile_argument(args.profile) if args.profile is not None else ("the next stage", None)
    )
    # Only the chosen treadmill, with the speedup decided above (checked: a simulator).
    device = devices[device_id].model_copy(update={"speedup": speedup})
    update: dict[str, Any] = {"devices": [device]}
    if extra_dir is not None:
        update["profiles_dir"] = extra_dir
    config = config.model_copy(update=update)
    _logging(config, quiet_console=True)
    from treadctl.daemon.instance import AlreadyRunningError  # noqa: PLC0415

    try:
        return asyncio.run(
            _session_main(config, device_id, profile, following=args.profile is None, person=person)
        )
    except* AlreadyRunningError as group:
        fail(str(group.exceptions[0]))
    return EXIT_FAILED


async def _session_main(
    config: Any, device_id: str, profile: str, *, following: bool = False, person: str | None = None
) -> int:
    from treadctl.commands import StartNext  # noqa: PLC0415
    from treadctl.daemon.app import Daemon  # noqa: PLC0415
    from treadctl.daemon.live_view import LiveView, render_summary  # noqa: PLC0415
    from treadctl.daemon.session_view import SessionRefusedError, run_profile  # noqa: PLC0415

    view = LiveView()
    daemon = Daemon(config)
    resume: asyncio.Queue[None] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def on_enter() -> None:
        sys.stdin.readline()
        resume.put_nowait(None)

    if sys.stdin.isatty():
        loop.add_reader(sys.stdin.fileno(), on_enter)
    code = EXIT_FAILED
    try:
        async with asyncio.TaskGroup() as tg:
            running = tg.create_task(daemon.run())
            try:
                summary = await run_profile(
                    daemon,
                    device_id,
                    profile,
                    view,
                    connect_timeout_s=config.ble.connect_timeout_s + config.ble.scan_timeout_s,
                    auto_resume_rests=False,
                    resume_requests=resume,
                    start=(
                        functools.partial(
                            daemon.journey_command, device_id, StartNext(person), local=True
                        )
                        if following
                        else None
                    ),
                )
                view.message("")
                feed = daemon.devices[device_id].heart_rate
                view.message(render_summary(summary, feed.summary() if feed else None))
                code = EXIT_OK if summary.ended == "finished" else EXIT_ABORTED
            except SessionRefusedError as exc:
                view.message(f"refused: {exc}")
                code = EXIT_FAILED
            except TimeoutError:
                why = daemon.devices[device_id].link_error
                view.message(f"treadmill {device_id} not reachable" + (f": {why}" if why else ""))
                code = EXIT_FAILED
            finally:
                daemon.request_stop("session ended")
            await running
    finally:
        if sys.stdin.isatty():
            loop.remove_reader(sys.stdin.fileno())
    return code


def _status(args: argparse.Namespace) -> int:
    config = load_config_or_fail(args.config)
    if config is None:
        return EXIT_USAGE
    if not config.mqtt.enabled:
        fail("MQTT is not enabled in the configuration")
        return EXIT_USAGE
    states = asyncio.run(_read_states(config, args.timeout))
    for device in config.devices:
        print(json.dumps({"device": device.id, **states.get(device.id, {"state": None})}))
    return EXIT_OK if states else EXIT_FAILED


async def _read_states(config: Any, wait_s: float) -> dict[str, dict[str, Any]]:
    import aiomqtt  # noqa: PLC0415

    prefix = config.mqtt.topic_prefix
    wanted = {f"{prefix}/{d.id}/state": d.id for d in config.devices}
    found: dict[str, dict[str, Any]] = {}
    password = config.mqtt.password.get_secret_value() if config.mqtt.password else None
    async with aiomqtt.Client(
        config.mqtt.host,
        config.mqtt.port,
        username=config.mqtt.username,
        password=password,
        identifier=None,
    ) as client:
        for topic in wanted:
            await client.subscribe(topic)
        try:
            async with asyncio.timeout(wait_s):
                async for message in client.messages:
                    device = wanted.get(str(message.topic))
                    if device is not None and isinstance(message.payload, bytes):
                        try:
                            found[device] = {"state": json.loads(message.payload)}
                        except ValueError:
                            found[device] = {"state": None, "error": "unreadable state"}
                    if len(found) == len(wanted):
                        break
        except TimeoutError:
            pass
    return found
