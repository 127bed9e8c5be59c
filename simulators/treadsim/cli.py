"""``treadsim``: run the FTMS treadmill simulator as a process.

    treadsim --hci tcp-server:127.0.0.1:9001 --preset citysports-wp8 \\
             --control /tmp/treadsim.sock --trace /tmp/treadsim.jsonl

When the treadmill advertises, one JSON line goes to stdout::

    {"event": "ready", "hci": ["tcp-server:127.0.0.1:9001"], "control": "/tmp/treadsim.sock",
     "address": "F0:F1:F2:F3:F4:F5", "name": "CITYSPORTS-Linker", "preset": "citysports-wp8",
     "pid": 1234}

(port 0 is replaced by the bound port). SIGTERM / SIGINT stop it cleanly. See docs/simulator.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import TextIO

from simulators.treadsim.control_socket import ControlSocket
from simulators.treadsim.hci_server import SERVER_SCHEMES
from simulators.treadsim.heart import HeartParams
from simulators.treadsim.presets import load_preset, preset_names
from simulators.treadsim.prompt import run_prompt
from simulators.treadsim.quirks import Quirk, parse_quirks
from simulators.treadsim.simulator import DEFAULT_ADDRESS, RADIO_SCHEMES, Simulator
from simulators.treadsim.strap import STRAP_ADDRESS, STRAP_NAME, StrapOptions


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="treadsim", description="FTMS treadmill simulator on a Bumble GATT server."
    )
    parser.add_argument(
        "--hci",
        action="append",
        default=[],
        metavar="SPEC",
        help="tcp-server:HOST:PORT | unix-server:PATH | vhci[:PATH] (a virtual controller per "
        "spec, one host each), or usb:N / hci-socket:N / serial:... (run on that real radio)",
    )
    parser.add_argument(
        "--preset", default="generic", help=f"one of {', '.join(preset_names())} or a .toml file"
    )
    parser.add_argument(
        "--quirk", action="append", default=[], metavar="NAME", help="add a quirk flag"
    )
    parser.add_argument(
        "--no-quirk",
        action="append",
        default=[],
        metavar="NAME",
        help="remove a preset's quirk flag",
    )
    parser.add_argument(
        "--speedup", type=float, default=1.0, help="simulated seconds per second (default 1)"
    )
    parser.add_argument(
        "--data-interval",
        type=float,
        metavar="SECONDS",
        help="Treadmill Data interval in simulated seconds (default: the preset's)",
    )
    parser.add_argument("--control", metavar="PATH", help="unix socket for JSON-lines control")
    parser.add_argument("--trace", metavar="FILE", help="append JSON-lines trace records to FILE")
    parser.add_argument(
        "--walker", action="store_true", help="someone stands on the belt from the start"
    )
    parser.add_argument("--name", help="advertised name (default: the preset's)")
    parser.add_argument("--address", default=None, help="static random address")
    parser.add_argument(
        "--strap",
        action="store_true",
        help="also run a heart-rate chest strap (a second peripheral on the virtual link)",
    )
    parser.add_argument("--strap-name", default=STRAP_NAME, help="the strap's advertised name")
    parser.add_argument("--strap-address", default=STRAP_ADDRESS, help="the strap's address")
    parser.add_argument(
        "--strap-u16", action="store_true", help="the strap sends the u16 value format"
    )
    parser.add_argument(
        "--strap-model",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="heart model parameter (rest_bpm, bpm_per_kmh, bpm_per_incline_pct, tau_rise_s, "
        "tau_fall_s, noise_bpm, seed)",
    )
    parser.add_argument("--no-prompt", action="store_true", help="no interactive prompt on a TTY")
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--list-presets", action="store_true")
    parser.add_argument("--list-quirks", action="store_true")
    return parser


async def run(args: argparse.Namespace, out: TextIO, trace: TextIO | None = None) -> int:
    """Run until SIGTERM/SIGINT (or ``quit`` at the prompt)."""
    preset = load_preset(args.preset)
    if args.data_interval is not None:
        if not args.data_interval > 0:
            raise ValueError("--data-interval must be positive")
        preset = dataclasses.replace(preset, data_interval=args.data_interval)
    radios = [s for s in args.hci if s.partition(":")[0] in RADIO_SCHEMES]
    exposed = [s for s in args.hci if s not in radios]
    if len(radios) > 1 or (radios and exposed):
        raise ValueError("a real radio (usb:, hci-socket:, serial:) must be the only --hci")
    if not args.hci:
        print(
            "treadsim: no --hci given: nothing outside this process can reach it", file=sys.stderr
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        sim = await stack.enter_async_context(
            Simulator(
                preset=preset,
                quirks=sorted(parse_quirks(args.quirk)),
                without_quirks=sorted(parse_quirks(args.no_quirk)),
                speedup=args.speedup,
                address=args.address or DEFAULT_ADDRESS,
                name=args.name,
                walker=args.walker,
                trace=trace,
                expose=exposed,
                radio=radios[0] if radios else None,
                strap=strap_options(args),
            )
        )
        if args.control:
            await stack.enter_async_context(ControlSocket(sim, args.control))
        others = [s for s in exposed if s.partition(":")[0] not in SERVER_SCHEMES]
        ready = {
            "event": "ready",
            "hci": [server.spec for server in sim.servers] + others + radios,
            "control": args.control,
            "address": sim.address,
            "name": sim.name,
            "preset": sim.preset.name,
            "quirks": sorted(q.value for q in sim.preset.quirks),
            "pid": os.getpid(),
        }
        if sim.strap is not None:
            ready["strap"] = {"address": sim.strap.address, "name": sim.strap.name}
        out.write(json.dumps(ready) + "\n")
        out.flush()
        async with asyncio.TaskGroup() as tasks:
            prompt = None
            if sys.stdin.isatty() and not args.no_prompt:
                prompt = tasks.create_task(run_prompt(sim, stop))
            await stop.wait()
            if prompt is not None:
                prompt.cancel()
    return 0


def strap_options(args: argparse.Namespace) -> StrapOptions | None:
    """The strap's options from ``--strap*`` (None without ``--strap``)."""
    if not args.strap:
        return None
    changes: dict[str, str] = {}
    for item in args.strap_model:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--strap-model {item!r}: expected KEY=VALUE")
        changes[key.strip()] = value.strip()
    return StrapOptions(
        address=args.strap_address,
        name=args.strap_name,
        params=HeartParams().updated(**changes),
        wide=args.strap_u16,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list_presets:
        for name in preset_names():
            print(f"{name}: {load_preset(name).description}")
        return 0
    if args.list_quirks:
        for quirk in Quirk:
            print(quirk.value)
        return 0
    logging.basicConfig(
        level=args.log_level.upper(), stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    try:
        with contextlib.ExitStack() as stack:
            trace = None
            if args.trace:
                trace = stack.enter_context(open(args.trace, "a", encoding="utf-8"))
            return asyncio.run(run(args, sys.stdout, trace))
    except (ValueError, OSError) as exc:
        print(f"treadsim: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
