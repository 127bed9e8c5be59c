"""``treadctl`` command line: one parser, subcommands registered by their own modules.

Each module named in ``COMMAND_MODULES`` exposes ``register(subparsers)``, which adds its
subcommand(s) and sets ``handler`` (a callable taking the parsed namespace and returning an exit
code) as the parser default. Modules are imported here, but each keeps heavy imports (bleak,
bumble, aiomqtt) inside its handler so that ``--help`` and start-up stay fast.

Exit codes: 0 success; 1 the command failed (a clear message was printed); 2 usage or
configuration error; 3 a session ended aborted (safety reaction); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import cast

from treadctl import __version__

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_ABORTED = 3
EXIT_INTERRUPTED = 130

COMMAND_MODULES: tuple[str, ...] = (
    "treadctl.cli.codec",
    "treadctl.cli.config_cmd",
    "treadctl.cli.scan",
    "treadctl.cli.daemon_cmds",
    "treadctl.cli.profile",
    "treadctl.cli.history_cmd",
    "treadctl.cli.program_cmd",
    "treadctl.cli.speech_cmd",
)

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="treadctl",
        description="Safe backward-walking treadmill control over Bluetooth FTMS.",
        epilog="Exit codes: 0 ok, 1 failed, 2 usage/configuration error, "
        "3 session aborted by a safety reaction, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"treadctl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = cast(Handler | None, getattr(args, "handler", None))
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
