"""A private D-Bus daemon standing in for the system bus (never the machine's own system bus).

``async with private_bus(workdir) as address:`` starts ``dbus-daemon`` (Debian package
``dbus-daemon``) with a configuration file written into ``workdir`` that listens on a unix
socket there and lets every local user own any name (``org.bluez`` included) and call anything.
Processes given ``DBUS_SYSTEM_BUS_ADDRESS=<address>`` (bleak, dbus-fast) then take it for the
system bus. The daemon is stopped on the way out (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

READY_TIMEOUT_S = 10.0
GRACE_S = 5.0

CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <!-- A private bus for the BlueZ twin: it stands in for the system bus of one test or demo. -->
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""


class BusError(RuntimeError):
    """The private bus could not be started."""


def dbus_daemon_binary() -> str:
    found = shutil.which("dbus-daemon")
    if found is None:
        raise BusError("dbus-daemon is not installed (Debian: apt-get install dbus-daemon)")
    return found


def _write_config(workdir: Path, config: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    config.write_text(CONFIG.format(socket=workdir / "bus.sock"), encoding="utf-8")


@contextlib.asynccontextmanager
async def private_bus(workdir: Path) -> AsyncIterator[str]:
    """Start a private bus; yield its address (``unix:path=...,guid=...``)."""
    config = workdir / "bus.conf"
    await asyncio.to_thread(_write_config, workdir, config)
    process = await asyncio.create_subprocess_exec(
        dbus_daemon_binary(),
        f"--config-file={config}",
        "--nofork",
        "--nopidfile",
        "--print-address=1",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        if process.stdout is None:  # pragma: no cover - PIPE given above
            raise BusError("no pipe")
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                line = await process.stdout.readline()
        except TimeoutError:
            raise BusError("dbus-daemon did not print its address in time") from None
        address = line.decode().strip()
        if not address:
            raise BusError("dbus-daemon exited before it was ready")
        yield address
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                async with asyncio.timeout(GRACE_S):
                    await process.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
