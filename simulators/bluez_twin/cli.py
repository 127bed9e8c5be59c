"""``python -m simulators.bluez_twin``: the twin as a process.

    python -m simulators.bluez_twin --bus unix:path=/tmp/x/bus.sock \\
        --hci tcp-client:127.0.0.1:9001 --control /tmp/x/twin.sock

``--bus`` is a private bus (:func:`simulators.bluez_twin.bus.private_bus`, or
``--own-bus DIR`` to start one here); never the machine's system bus. When ``org.bluez`` is
owned, one JSON line goes to stdout: ``{"event": "ready", "bus": ..., "adapter": "hci0",
"address": ..., "control": ..., "bin": ..., "pid": ...}`` (``bin``: put it first on the
client's ``PATH`` for ``bluetoothctl --version``). Runs until SIGTERM / SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from pathlib import Path

from simulators.bluez_twin.adapter import ADAPTER, ADAPTER_PATH, TEMPORARY_TIMEOUT_S
from simulators.bluez_twin.bus import private_bus
from simulators.bluez_twin.control import control_socket
from simulators.bluez_twin.twin import BluezTwin

BIN_DIR = Path(__file__).resolve().parent / "bin"
"""Holds the ``bluetoothctl`` that answers ``--version`` (how bleak asks the BlueZ version)."""
SYSTEM_BUS_PATHS = ("/run/dbus/system_bus_socket", "/var/run/dbus/system_bus_socket")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bluez_twin", description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--bus", help="address of a private D-Bus daemon (unix:path=...)")
    where.add_argument("--own-bus", type=Path, metavar="DIR", help="start a private bus in DIR")
    parser.add_argument("--hci", required=True, help="Bumble transport, e.g. tcp-client:H:P")
    parser.add_argument("--control", type=Path, help="unix socket for faults (JSON lines)")
    parser.add_argument(
        "--temporary-timeout",
        type=float,
        default=TEMPORARY_TIMEOUT_S,
        help="seconds an unconnected device stays after discovery (bluetoothd: 30)",
    )
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


async def main_async(args: argparse.Namespace) -> None:
    async with contextlib.AsyncExitStack() as stack:
        address = args.bus
        if args.own_bus is not None:
            address = await stack.enter_async_context(private_bus(args.own_bus))
        if any(path in address for path in SYSTEM_BUS_PATHS):
            raise SystemExit("bluez_twin: refusing the machine's system bus; use a private bus")
        twin = BluezTwin(
            bus_address=address, hci_spec=args.hci, temporary_timeout_s=args.temporary_timeout
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)

        def ready(_twin: BluezTwin) -> None:
            props = twin.tree.objects[ADAPTER_PATH][ADAPTER]
            line = {
                "event": "ready",
                "bus": address,
                "adapter": "hci0",
                "address": props["Address"].value,
                "control": str(args.control) if args.control else None,
                "bin": str(BIN_DIR),
                "pid": os.getpid(),
            }
            print(json.dumps(line), flush=True)

        async with asyncio.TaskGroup() as group:
            running = group.create_task(twin.run(ready))
            if args.control is not None:
                await stack.enter_async_context(control_socket(twin, args.control))
            waiting = group.create_task(stop.wait())
            await asyncio.wait([running, waiting], return_when=asyncio.FIRST_COMPLETED)
            running.cancel()
            waiting.cancel()


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    asyncio.run(main_async(args))
    return 0
