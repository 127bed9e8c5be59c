"""``treadctl scan``: list the Bluetooth LE devices heard, FTMS treadmills first.

For each: address, name, RSSI, machine type and availability (from FTMS Service Data, FTMS v1.0
§3.1.1), and whether it advertises the FTMS service UUID 0x1826. With BlueZ, FTMS devices it
already holds connected (a running daemon's treadmill, which does not advertise) are listed
too, marked connected. ``--json`` prints one JSON object per line instead of a table.

Exit codes: 0 at least one FTMS treadmill (or candidate) heard; 1 none heard or the radio or
transport failed; 2 bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from treadctl.cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "scan",
        help="list nearby Bluetooth LE devices, FTMS treadmills first",
        description="Scan for Bluetooth LE advertisers and show which are FTMS treadmills.",
        epilog="Exit codes: 0 a treadmill was heard, 1 none (or the scan failed), 2 usage.",
    )
    parser.add_argument(
        "--backend",
        choices=("bluez", "bumble"),
        default="bluez",
        help="bluez: the system's Bluetooth (default); bumble: a Bumble HCI transport",
    )
    parser.add_argument(
        "--transport",
        metavar="SPEC",
        help="Bumble transport for --backend bumble, e.g. tcp-client:127.0.0.1:9000, usb:0",
    )
    parser.add_argument("--adapter", metavar="HCI", help="BlueZ adapter, e.g. hci1")
    parser.add_argument(
        "--timeout", type=float, default=5.0, metavar="SECONDS", help="scan duration (default 5)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per device")
    parser.add_argument("--all", action="store_true", help="also list devices that are not FTMS")
    parser.set_defaults(handler=_run)


def _row(candidate: Any) -> dict[str, Any]:
    return {
        "address": candidate.address,
        "name": candidate.name,
        "rssi": candidate.rssi,
        "machine_type": candidate.machine_type,
        "available": candidate.available,
        "ftms_uuid": candidate.advertises_ftms,
        "treadmill": candidate.is_treadmill,
        "connected": candidate.connected,
    }


def _yes_no(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "no")


def _run(args: argparse.Namespace) -> int:
    # Heavy imports (bleak, bumble) only when the command runs.
    from treadctl.ble.backend import select  # noqa: PLC0415
    from treadctl.ble.diagnosis import explain  # noqa: PLC0415
    from treadctl.ble.discovery import rank, scan  # noqa: PLC0415

    if args.timeout <= 0:
        print("--timeout must be positive", file=sys.stderr)
        return EXIT_USAGE
    try:
        scanner_cls, _ = select(args.backend, args.transport)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    try:
        found = asyncio.run(scan(scanner_cls, adapter=args.adapter, timeout_s=args.timeout))
    except Exception as exc:  # treadctl's, bleak's, D-Bus and OS errors: explain, do not trace
        problem = explain(exc, backend=args.backend, adapter=args.adapter)
        print(f"scan failed: {problem.message}", file=sys.stderr)
        return EXIT_FAILED
    shown = [c for c in found if args.all or rank(c) is not None]
    if args.json:
        for candidate in shown:
            print(json.dumps(_row(candidate)))
    else:
        print(f"{'ADDRESS':<20} {'RSSI':>5}  {'TYPE':<14} {'AVAIL':<5} {'FTMS':<4}  NAME")
        for c in shown:
            print(
                f"{c.address:<20} {c.rssi:>5}  {c.machine_type:<14} {_yes_no(c.available):<5} "
                f"{_yes_no(c.advertises_ftms):<4}  {c.name or ''}"
                + ("  (connected: held by BlueZ)" if c.connected else "")
            )
        if not shown:
            print("no FTMS treadmill heard" + ("" if args.all else " (--all lists every device)"))
    return EXIT_OK if any(rank(c) is not None for c in found) else EXIT_FAILED
