"""Logging for the daemon and the CLI: structlog, configured once per process.

- On a terminal: structlog's readable ``ConsoleRenderer``.
- Otherwise: one JSON object per line (journald, files, pipes). When stdout *is* the journal
  (``$JOURNAL_STREAM`` names stdout's device and inode, as systemd sets it), every line starts
  with a ``<N>`` syslog priority so ``journalctl -p warning`` filters correctly.
- ``merge_contextvars`` runs first: the device and session ids bound with
  ``structlog.contextvars.bound_contextvars(device=..., session=...)`` appear on every line,
  including lines from bleak, aiomqtt and bumble, which log through the standard library and are
  rendered by the same ``ProcessorFormatter`` at the levels in :data:`LIBRARY_LEVELS`.

The pure core (ftms, safety, workout) does not log; the shell logs the decisions it returns.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import Any, Literal, TextIO

import structlog
import structlog.tracebacks
from structlog.typing import EventDict, Processor, WrappedLogger

LogFormat = Literal["auto", "json", "console"]

DEVICE_KEY = "device"
"""Context key for the treadmill id (``DeviceConfig.id``)."""
SESSION_KEY = "session"
"""Context key for the session id."""

LIBRARY_LEVELS: Mapping[str, str] = {
    "bleak": "INFO",
    "bleak_retry_connector": "INFO",
    "dbus_fast": "WARNING",
    # aiomqtt's logger; aiomqtt itself forces it to WARNING when it is imported.
    "mqtt": "WARNING",
    # Bumble logs every HCI packet and GATT operation at INFO/DEBUG.
    "bumble": "WARNING",
    "asyncio": "WARNING",
}
"""Default levels of the libraries' standard-library loggers (override with ``loggers``)."""

_SYSLOG_PRIORITY = {
    "critical": 2,
    "exception": 3,
    "error": 3,
    "warning": 4,
    "warn": 4,
    "info": 6,
    "debug": 7,
    "notset": 7,
}
"""syslog(3) priorities: LOG_CRIT 2, LOG_ERR 3, LOG_WARNING 4, LOG_INFO 6, LOG_DEBUG 7."""

_HANDLER_MARK = "_treadctl_handler"


def stream_is_journal(stream: TextIO, env: Mapping[str, str] | None = None) -> bool:
    """True when ``stream`` is connected to the journal (``$JOURNAL_STREAM`` = "dev:inode")."""
    env = os.environ if env is None else env
    value = env.get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    if not device.isdigit() or not inode.isdigit():
        return False
    try:
        stat = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        # no file descriptor (e.g. io.StringIO) or closed
        return False
    return stat.st_dev == int(device) and stat.st_ino == int(inode)


def _stream_is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (ValueError, AttributeError):
        return False


class JournalPrefixRenderer:
    """Wraps a renderer and prefixes its line with ``<N>``, the syslog priority of the level."""

    def __init__(self, renderer: Processor) -> None:
        self._renderer = renderer

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> str:
        level = str(event_dict.get("level", method_name)).lower()
        priority = _SYSLOG_PRIORITY.get(level, 6)
        rendered = self._renderer(logger, method_name, event_dict)
        text = rendered.decode() if isinstance(rendered, bytes) else str(rendered)
        return f"<{priority}>{text}"


def _shared_processors() -> list[Processor]:
    """Run for structlog's own calls and (as the pre-chain) for standard-library records."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]


def configure_logging(
    level: str = "INFO",
    fmt: LogFormat = "auto",
    *,
    loggers: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Configure structlog and the standard library's root logger for this process.

    ``level`` applies to treadctl's own loggers (and the root); ``loggers`` overrides the
    library levels in :data:`LIBRARY_LEVELS` by logger name. ``fmt="auto"`` picks the console
    renderer when ``stream`` (default: ``sys.stdout``) is a terminal, JSON lines otherwise.
    Calling it again replaces the previous configuration (handlers it installed are removed).
    """
    stream = sys.stdout if stream is None else stream
    env = os.environ if env is None else env
    tty = _stream_is_tty(stream)
    use_console = fmt == "console" or (fmt == "auto" and tty)

    renderer: Processor
    final: list[Processor]
    if use_console:
        renderer = structlog.dev.ConsoleRenderer(
            colors=tty, exception_formatter=structlog.dev.plain_traceback
        )
        final = [renderer]
    else:
        renderer = structlog.processors.JSONRenderer()
        if stream_is_journal(stream, env):
            renderer = JournalPrefixRenderer(renderer)
        # Tracebacks as data, without local variables (they may hold secrets).
        tracebacks = structlog.processors.ExceptionRenderer(
            structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
        )
        final = [tracebacks, renderer]

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_shared_processors(), structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *final,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level.upper())

    levels = {**LIBRARY_LEVELS, **(loggers or {})}
    if levels.get("mqtt") != LIBRARY_LEVELS["mqtt"]:
        # aiomqtt resets the "mqtt" logger to WARNING when imported: import it first so the
        # requested level sticks (only when someone asked for a different level).
        import aiomqtt  # noqa: F401, PLC0415

    for name, name_level in levels.items():
        logging.getLogger(name).setLevel(name_level.upper())
    logging.captureWarnings(True)

    structlog.configure(
        processors=[
            *_shared_processors()[:1],
            structlog.stdlib.filter_by_level,
            *_shared_processors()[1:],
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.UnicodeDecoder(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str | None = None, **initial: Any) -> structlog.stdlib.BoundLogger:
    """A structlog logger named ``name`` (use ``__name__``), with optional bound values."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name, **initial)
    return logger
