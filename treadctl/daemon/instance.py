"""One daemon per configuration: an exclusive lock in the state directory.

Two daemons for the same treadmill would fight over it (a treadmill serves one Bluetooth
client; a second client either cannot connect or, on a simulator port, is refused) and, with
the same MQTT client id, knock each other off the broker. The second one therefore refuses to
start, naming the holder. The lock is an ``flock`` on ``<state_dir>/treadctl.lock``: the kernel
releases it when the holder exits, even after SIGKILL, so a crash never blocks a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from treadctl.errors import TreadctlError

LOCK_NAME = "treadctl.lock"


class AlreadyRunningError(TreadctlError):
    """Another treadctl process holds this state directory's lock."""

    advice = "stop the other daemon first (systemctl stop treadctl), or use another state_dir"

    def __init__(self, path: Path, holder: str) -> None:
        self.path = path
        self.holder = holder
        super().__init__(f"another treadctl (pid {holder or 'unknown'}) holds {path}")


class LockUnavailableError(TreadctlError):
    """The state directory cannot hold a lock file (missing permissions, read-only)."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(f"cannot take the instance lock {path}: {reason}")


@contextlib.contextmanager
def instance_lock(state_dir: Path) -> Iterator[Path]:
    """Hold the instance lock of ``state_dir`` for the duration of the ``with`` block."""
    path = state_dir / LOCK_NAME
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise LockUnavailableError(path, exc.strerror or str(exc)) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            raise AlreadyRunningError(path, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)
