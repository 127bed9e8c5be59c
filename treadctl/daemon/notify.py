"""A small client for systemd's notification protocol (``sd_notify(3)``).

A ``Type=notify`` service tells systemd about itself by sending newline-separated
``KEY=value`` assignments in one datagram to the ``AF_UNIX`` / ``SOCK_DGRAM`` socket named in
``$NOTIFY_SOCKET``: ``READY=1`` once it serves, ``STATUS=...`` a one-line summary, ``WATCHDOG=1``
keep-alive pings (systemd restarts the service when they stop for ``WatchdogSec``),
``STOPPING=1`` when it begins to shut down. A leading ``@`` in ``$NOTIFY_SOCKET`` names a
Linux abstract socket (the ``@`` stands for a leading NUL byte).

Without ``$NOTIFY_SOCKET`` (not started by systemd, or not ``Type=notify``) every call is a
no-op returning False, so the daemon calls these unconditionally.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from types import TracebackType

from treadctl.errors import TreadctlError

_FIELD_NAME = re.compile(r"[A-Z][A-Z0-9_]*\Z")


class NotifyError(TreadctlError):
    """The notification could not be built or sent.

    ``errno`` is the operating system error number when sending failed, else None.
    """

    def __init__(self, message: str, *, address: str | None = None, errno: int | None = None):
        self.address = address
        self.errno = errno
        super().__init__(message)


def _socket_address(address: str) -> str | bytes:
    """``$NOTIFY_SOCKET`` to a ``socket.sendto`` address (``@name`` is abstract: NUL + name)."""
    if address.startswith("@"):
        return b"\0" + address[1:].encode()
    if address.startswith("/"):
        return address
    # systemd ≥ 254 also offers "vsock:CID:PORT" for virtual machines; not used on a Pi.
    raise NotifyError(
        f"unsupported NOTIFY_SOCKET {address!r}: expected an absolute path or @abstract-name",
        address=address,
    )


def format_message(fields: Mapping[str, str | int]) -> bytes:
    """The datagram for ``fields``: one ``KEY=value`` per line, UTF-8.

    Names must be upper-case (``READY``, ``STATUS``, ``WATCHDOG``, ...). A value cannot span
    lines in this protocol, so line breaks inside values (a multi-line status) become spaces.
    """
    if not fields:
        raise NotifyError("a notification needs at least one field")
    lines = []
    for name, value in fields.items():
        if not _FIELD_NAME.match(name):
            raise NotifyError(f"invalid notification field name {name!r}")
        text = " ".join(str(value).splitlines())
        lines.append(f"{name}={text}")
    return ("\n".join(lines) + "\n").encode()


class Notifier:
    """Sends notifications to one systemd notification socket.

    Create it with :meth:`from_environ`; use it as a context manager (or call :meth:`close`)
    to release its socket. Sending never blocks the event loop: when systemd's queue is full
    the message is dropped and the call returns False (the next watchdog ping or status line
    follows at the next interval); any other failure raises :class:`NotifyError`.
    """

    def __init__(self, address: str | None) -> None:
        self.address = address
        self._target = _socket_address(address) if address else None
        self._sock: socket.socket | None = None

    @classmethod
    def from_environ(cls, env: Mapping[str, str] | None = None) -> Notifier:
        """A notifier for ``$NOTIFY_SOCKET`` (disabled when it is unset or empty)."""
        env = os.environ if env is None else env
        return cls(env.get("NOTIFY_SOCKET") or None)

    @property
    def enabled(self) -> bool:
        return self._target is not None

    def notify(self, **fields: str | int) -> bool:
        """Send ``fields`` as one datagram. True when sent; False when disabled (no
        ``$NOTIFY_SOCKET``) or when the receiver's queue is full (the datagram is dropped).

        Raises :class:`NotifyError` (with the errno) when the socket refuses the datagram for
        any other reason (e.g. nobody listens at that address).
        """
        message = format_message(fields)
        if self._target is None:
            return False
        if self._sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            sock.setblocking(False)
            self._sock = sock
        try:
            self._sock.sendto(message, self._target)
        except BlockingIOError:
            return False
        except OSError as exc:
            raise NotifyError(
                f"cannot notify systemd at {self.address}: {exc.strerror or exc}",
                address=self.address,
                errno=exc.errno,
            ) from exc
        return True

    def ready(self, status: str | None = None) -> bool:
        """``READY=1`` (start-up finished), optionally with a status line in the same datagram."""
        return self.notify(READY=1) if status is None else self.notify(READY=1, STATUS=status)

    def status(self, text: str) -> bool:
        """``STATUS=`` one line shown by ``systemctl status treadctl``."""
        return self.notify(STATUS=text)

    def watchdog(self) -> bool:
        """``WATCHDOG=1``: the service is alive (send every :func:`watchdog_interval` seconds)."""
        return self.notify(WATCHDOG=1)

    def stopping(self, status: str | None = None) -> bool:
        """``STOPPING=1``: shutdown has begun."""
        return self.notify(STOPPING=1) if status is None else self.notify(STOPPING=1, STATUS=status)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> Notifier:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def watchdog_interval(
    env: Mapping[str, str] | None = None, *, pid: int | None = None
) -> float | None:
    """Seconds between ``WATCHDOG=1`` pings, or None when no watchdog is armed for us.

    systemd sets ``$WATCHDOG_USEC`` (``WatchdogSec=`` in microseconds) and ``$WATCHDOG_PID``;
    the watchdog applies to this process only when ``WATCHDOG_PID`` is unset or equals ``pid``
    (default: ``os.getpid()``). Pings go out every half period, as ``sd_watchdog_enabled(3)``
    recommends, so one late ping does not trigger a restart.
    Raises :class:`NotifyError` when the variables are malformed.
    """
    env = os.environ if env is None else env
    raw_usec = env.get("WATCHDOG_USEC")
    if not raw_usec:
        return None
    raw_pid = env.get("WATCHDOG_PID")
    if raw_pid:
        try:
            target_pid = int(raw_pid)
        except ValueError:
            raise NotifyError(f"WATCHDOG_PID is not a process id: {raw_pid!r}") from None
        if target_pid != (os.getpid() if pid is None else pid):
            return None
    try:
        usec = int(raw_usec)
    except ValueError:
        raise NotifyError(f"WATCHDOG_USEC is not a number of microseconds: {raw_usec!r}") from None
    if usec <= 0:
        raise NotifyError(f"WATCHDOG_USEC must be positive, got {usec}")
    return usec / 2 / 1_000_000


_default: Notifier | None = None


def default_notifier() -> Notifier:
    """The process-wide notifier for ``$NOTIFY_SOCKET`` (created on first use)."""
    global _default  # noqa: PLW0603 - one socket per process, like sd_notify(3)
    if _default is None:
        _default = Notifier.from_environ()
    return _default


def notify(**fields: str | int) -> bool:
    """Send ``fields`` through :func:`default_notifier` (a no-op returning False off systemd)."""
    return default_notifier().notify(**fields)
