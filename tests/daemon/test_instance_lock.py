"""One daemon per state directory (treadctl.daemon.instance)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from treadctl.daemon.instance import (
    LOCK_NAME,
    AlreadyRunningError,
    LockUnavailableError,
    instance_lock,
)


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    with instance_lock(tmp_path / "state"):
        with pytest.raises(AlreadyRunningError) as caught, instance_lock(tmp_path / "state"):
            pass
        assert caught.value.holder == str(os.getpid())
    # Released on exit: taking it again works.
    with instance_lock(tmp_path / "state") as path:
        assert path.name == LOCK_NAME


def test_the_lock_is_released_when_the_holder_is_killed(tmp_path: Path) -> None:
    state = tmp_path / "state"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib\n"
            "from treadctl.daemon.instance import instance_lock\n"
            f"with instance_lock(pathlib.Path({str(state)!r})):\n"
            "    print('held', flush=True)\n"
            "    sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == b"held\n"
        with pytest.raises(AlreadyRunningError), instance_lock(state):
            pass
        holder.kill()
        holder.wait(timeout=10)
        with instance_lock(state):
            pass
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)
        for stream in (holder.stdin, holder.stdout):
            if stream is not None:
                stream.close()


def test_an_unwritable_state_directory_is_a_typed_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(LockUnavailableError), instance_lock(blocker / "state"):
        pass
