"""``treadctl config check`` and ``treadctl config show``.

Exit codes: 0 the configuration is valid; 2 it is not (every problem is printed with its key).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from treadctl.cli.main import EXIT_OK, EXIT_USAGE
from treadctl.cli.refusals import load_config_or_fail

if TYPE_CHECKING:
    pass

_CONFIG_HELP = (
    "configuration file (default: /etc/treadctl/config.toml if it exists; "
    "TREADCTL_* environment variables override it)"
)


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--config FILE`` option, shared by every command that reads the configuration."""
    parser.add_argument("--config", type=Path, metavar="FILE", default=None, help=_CONFIG_HELP)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "config",
        help="check or show the configuration",
        description="Check or show treadctl's configuration (file + environment + credentials).",
        epilog="Exit codes: 0 valid, 2 invalid (each problem is printed with its key).",
    )
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION", required=True)

    check = actions.add_parser(
        "check",
        help="validate the configuration",
        description="Validate the configuration and print a one-line summary per treadmill.",
    )
    add_config_argument(check)
    check.set_defaults(handler=_check)

    show = actions.add_parser(
        "show",
        help="print the effective configuration (secrets masked)",
        description="Print the configuration in force, defaults included, secrets masked.",
    )
    add_config_argument(show)
    show.add_argument(
        "--format", choices=("toml", "json"), default="toml", help="output format (default toml)"
    )
    show.set_defaults(handler=_show)


def _check(args: argparse.Namespace) -> int:
    from treadctl.config import DEFAULT_CONFIG_PATH  # noqa: PLC0415

    config = load_config_or_fail(args.config)
    if config is None:
        return EXIT_USAGE
    source = args.config or DEFAULT_CONFIG_PATH
    if args.config is None and not DEFAULT_CONFIG_PATH.exists():
        source = "environment and defaults (no configuration file)"
    print(f"configuration ok: {source}")
    for device in config.devices:
        where = device.address or f"name {device.name!r}"
        kind = " simulator" if device.simulator else ""
        backend = config.backend_for(device)
        rails = "yes" if device.has_handrails else "no"
        print(
            f"  treadmill {device.id}{kind}: {where} via {backend}, "
            f"cap {config.cap_kmh(device)} km/h, handrails {rails}"
        )
        source = device.heart_rate
        if source is not None:
            strap = source.address or (repr(source.name) if source.name else "first advertised")
            hr_from = f"strap {strap}" if source.source == "strap" else "the treadmill's field"
            print(f"    heart rate from {hr_from} (docs/heart-rate.md)")
    for person in config.people:
        limits = person.heart_rate_limits()
        if limits is not None:
            print(f"  person {person.id}: heart rate {limits.describe()}")
    mqtt = config.mqtt
    if mqtt.enabled:
        tls = " (TLS)" if mqtt.tls.enabled else ""
        print(f"  mqtt: {mqtt.host}:{mqtt.port}{tls}, topics {mqtt.topic_prefix}/...")
    else:
        print("  mqtt: disabled")
    speech = config.speech
    if speech.enabled:
        print(
            f"  speech: on, voice {speech.voice}, {speech.rate_wpm} wpm, player {speech.player} "
            "(try: treadctl speech say)"
        )
    else:
        print("  speech: off")
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    from treadctl.config.render import to_json, to_toml  # noqa: PLC0415

    config = load_config_or_fail(args.config)
    if config is None:
        return EXIT_USAGE
    sys.stdout.write(to_json(config) if args.format == "json" else to_toml(config))
    return EXIT_OK
