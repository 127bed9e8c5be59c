"""How every command prints a refusal: one line on standard error, or a file's problems;
loading the configuration with its refusal printed.

Light on purpose (no imports beyond the standard library) so that ``--help`` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from treadctl.config.model import Config


def fail(message: str) -> None:
    """The command's refusal on standard error: ``treadctl: <message>``."""
    print(f"treadctl: {message}", file=sys.stderr)


def print_refused(path: Path | str, problems: Iterable[object], note: str = "") -> None:
    """A refused file on standard output: ``FAIL <path><note>`` then one problem a line."""
    print(f"FAIL {path}{note}")
    for problem in problems:
        print(f"  {problem}")


def load_config_or_fail(path: Path | None) -> Config | None:
    """The configuration (``path``, else the default file), or None with its refusal printed."""
    from treadctl.config.load import ConfigError, load_config  # noqa: PLC0415 - keep --help fast

    try:
        return load_config(path)
    except ConfigError as exc:
        fail(str(exc))
        return None
