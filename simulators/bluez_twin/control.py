"""The twin's control socket: JSON lines over a local unix socket (faults for tests).

Request ``{"cmd": NAME, "args": {...}}``, answer ``{"ok": true, "result": ...}`` or
``{"ok": false, "error": "..."}``. Commands:

- ``state``: powered, discovering, restarts, devices (connected, services_resolved), faults;
- ``fail_next`` ``{"method", "error", "message"}``: the next call of that method fails
  (:mod:`simulators.bluez_twin.faults`);
- ``withhold_services``: the next connection never reports ``ServicesResolved``;
- ``power`` ``{"on": bool}``: the adapter's ``Powered``;
- ``restart`` ``{"down_s": float}``: bluetoothd goes away (links dropped, objects removed,
  ``org.bluez`` released) and comes back after ``down_s``; answered once it is back;
- ``drop_links``: every link ends as if the peer vanished (supervision timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bumble import core, hci

from simulators.bluez_twin.faults import FaultError
from simulators.bluez_twin.twin import BluezTwin


async def command(twin: BluezTwin, name: str, args: dict[str, Any]) -> Any:
    if name == "state":
        return twin.snapshot()
    if name == "fail_next":
        twin.faults.fail_next(str(args["method"]), str(args["error"]), str(args.get("message", "")))
        return twin.faults.pending()
    if name == "withhold_services":
        twin.faults.withhold_services = True
        return twin.faults.pending()
    if name == "power":
        await twin.set_powered(bool(args["on"]))
        return twin.snapshot()
    if name == "restart":
        await twin.restart(float(args.get("down_s", 1.0)))
        return twin.snapshot()
    if name == "drop_links":
        for state in list(twin.devices.values()):
            if state.connection is not None:
                with contextlib.suppress(core.BaseBumbleError, hci.HCI_Error):
                    await state.connection.disconnect(hci.HCI_ErrorCode.CONNECTION_TIMEOUT_ERROR)
        return twin.snapshot()
    raise FaultError(f"unknown command {name!r}")


@contextlib.asynccontextmanager
async def control_socket(twin: BluezTwin, path: Path) -> AsyncIterator[None]:
    """Serve the control socket at ``path`` while the block runs."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    request = json.loads(line)
                    result = await command(twin, request["cmd"], request.get("args") or {})
                    answer: dict[str, Any] = {"ok": True, "result": result}
                except (FaultError, KeyError, ValueError, TypeError) as exc:
                    answer = {"ok": False, "error": str(exc)}
                writer.write(json.dumps(answer).encode() + b"\n")
                await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_unix_server(serve, str(path))
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
