"""BLE link across processes: control round trip and sustained notification rate, no loss.

Both figures go through the daemon's unchanged link code (``TreadmillLink`` on bleak's
``BleakClient`` with the Bumble backend) to a peer in *another process*, over real HCI on a
local TCP socket (``tcp-client:``):

1. Control round trip: ``TreadmillLink.request_control()`` against the treadsim simulator
   process: one Control Point write with response plus the indication answering it (FTMS
   §4.16), timed from the call to its return. Median and p99 over ``--procedures`` calls.
2. Notifications: a small FTMS peripheral process (``--serve``, the tests' peripheral on a
   Bumble LocalLink whose second virtual controller is served on ``tcp-server:``) sends
   ``--frames`` Treadmill Data notifications back to back, each carrying its sequence number in
   the speed field, once the client has requested control. The client counts what reached
   ``link.observations()``: rate = frames / (last - first arrival), loss = missing numbers.

Run from the repository root (writes bench/results/link.json)::

    .venv/bin/python -m bench.bench_link
    .venv/bin/python -m bench.bench_link --procedures 1000 --frames 20000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "bench" / "results" / "link.json"
sys.path.insert(0, str(REPO))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


# ----------------------------------------------------------------------------- peer process
async def serve(frames: int) -> None:
    """The notification peer: an FTMS peripheral on a LocalLink, its link served over TCP."""
    from bumble.controller import Controller  # noqa: PLC0415
    from bumble.link import LocalLink  # noqa: PLC0415
    from bumble.transport import open_transport  # noqa: PLC0415

    from harness.peripheral import (  # noqa: PLC0415
        FtmsPeripheral,
        PeripheralConfig,
        treadmill_data,
    )

    link = LocalLink()  # type: ignore[no-untyped-call]
    transport = await open_transport("tcp-server:127.0.0.1:0")
    server = transport.server  # type: ignore[attr-defined]
    port = server.sockets[0].getsockname()[1]
    # The link keeps its controllers: this one is the HCI the client process drives.
    Controller("bench-hci", host_source=transport.source, host_sink=transport.sink, link=link)
    async with FtmsPeripheral(link, PeripheralConfig(permissive_control=True)) as peripheral:
        print(json.dumps({"hci": f"tcp-client:127.0.0.1:{port}"}), flush=True)
        while True:
            write = await peripheral.next_write()
            if write[:1] == b"\x00":  # Request Control: the client is subscribed; blast
                for seq in range(frames):
                    await peripheral.notify(peripheral.data_char, treadmill_data(seq % 65536))


# ----------------------------------------------------------------------------- client side
@contextlib.asynccontextmanager
async def peer_process(frames: int) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.bench_link",
        "--serve",
        "--frames",
        str(frames),
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(20):
            ready = json.loads(await process.stdout.readline())
        yield process, ready["hci"]
    finally:
        from harness.simulator import stop_process  # noqa: PLC0415

        await stop_process(process)


async def round_trips(count: int) -> dict[str, Any]:
    from harness.simulator import simulator_process  # noqa: PLC0415
    from treadctl.ble.link import TreadmillLink  # noqa: PLC0415
    from treadctl.ble.options import LinkOptions  # noqa: PLC0415

    timings: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with simulator_process(Path(tmp), preset="generic") as proc:
            options = LinkOptions(
                backend="bumble", transport=proc.hci_client_spec, idle_release_s=None
            )
            async with TreadmillLink(options) as link:
                for _ in range(count):
                    start = time.perf_counter()
                    await link.request_control()
                    timings.append(time.perf_counter() - start)
    ms = [t * 1000 for t in timings]
    return {
        "procedures": count,
        "median_ms": round(statistics.median(ms), 3),
        "p99_ms": round(percentile(ms, 0.99), 3),
        "min_ms": round(min(ms), 3),
        "max_ms": round(max(ms), 3),
    }


async def notifications(frames: int) -> dict[str, Any]:
    from treadctl.ble.link import TreadmillLink  # noqa: PLC0415
    from treadctl.ble.options import LinkOptions  # noqa: PLC0415
    from treadctl.observations import Reading  # noqa: PLC0415

    async with peer_process(frames) as (_process, hci):
        options = LinkOptions(
            backend="bumble", transport=hci, idle_release_s=None, max_queued_readings=frames
        )
        async with TreadmillLink(options) as link:
            await link.request_control()
            seen: list[int] = []
            first = last = 0.0
            try:
                async with asyncio.timeout(120):
                    async for item in link.observations():
                        if not isinstance(item, Reading) or item.speed is None:
                            continue
                        now = time.perf_counter()
                        if not seen:
                            first = now
                        last = now
                        seen.append(item.speed)
                        if len(seen) == frames:
                            break
            except TimeoutError:
                pass
            dropped = link.dropped_readings
    expected = [seq % 65536 for seq in range(frames)]
    missing = frames - len(seen)
    in_order = seen == expected[: len(seen)]
    elapsed = last - first
    return {
        "frames": frames,
        "received": len(seen),
        "missing": missing,
        "in_order": in_order,
        "dropped_by_link_queue": dropped,
        "seconds": round(elapsed, 3),
        "per_second": round((len(seen) - 1) / elapsed) if elapsed > 0 else None,
    }


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rtt = await round_trips(args.procedures)
    notify = await notifications(args.frames)
    return {
        "date": dt.date.today().isoformat(),
        "machine": machine(),
        "transport": "tcp-client (Bumble HCI over a local TCP socket, two processes)",
        "control_round_trip": rtt,
        "notifications": notify,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--procedures", type=int, default=500)
    parser.add_argument("--frames", type=int, default=10000)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(args.frames))
        return 0
    result = asyncio.run(run(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    rtt, notify = result["control_round_trip"], result["notifications"]
    print(
        f"control round trip: median {rtt['median_ms']} ms, p99 {rtt['p99_ms']} ms "
        f"({rtt['procedures']} procedures)"
    )
    print(
        f"notifications: {notify['received']}/{notify['frames']} in {notify['seconds']} s = "
        f"{notify['per_second']}/s, missing {notify['missing']}, in order {notify['in_order']}"
    )
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
