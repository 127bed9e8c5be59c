"""Profile the daemon with py-spy (wall clock, idle included) against a real simulator and broker.

    .venv/bin/python -m bench.profile_daemon [--seconds 10]

Records while the harness pauses and resumes the belt (the command benchmark's loop) with
50 Hz telemetry; wall clock, idle time included (``EpollSelector.select`` is the event loop
waiting). Start-up is analysed with ``python -X importtime`` by the harness itself. Prints the
functions with the most samples (own and cumulative); the collapsed stacks stay in ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import parts, rig  # noqa: E402
from harness.mosquitto import Mosquitto  # noqa: E402


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise SystemExit("py-spy is not installed in .venv")
    return found


def top(collapsed: Path, n: int = 25) -> str:
    own: collections.Counter[str] = collections.Counter()
    cumulative: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            cumulative[frame] += count
    out = [f"{total} samples", "", "own:"]
    out += [f"  {c * 100 / total:5.1f} %  {f}" for f, c in own.most_common(n)]
    out += ["", "cumulative:"]
    out += [f"  {c * 100 / total:5.1f} %  {f}" for f, c in cumulative.most_common(n)]
    return "\n".join(out)


async def record(pid: int, seconds: float, out: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        py_spy(), "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
        "--rate", "500", "--format", "raw", "--idle", "--output", str(out), "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="treadctl-prof-") as tmp:
        work = Path(tmp)
        with Mosquitto(work / "mosquitto") as broker:
            interval = 0.02
            async with rig.simulator(work, "sim", data_interval=interval) as sim:
                spec = [rig.DeviceSpec("tm", sim.transport)]
                async with (
                    rig.mqtt_client(broker.port) as mqtt,
                    rig.daemon(work, "d", spec, broker.port) as d,
                ):
                    await mqtt.wait_online(["tm"])
                    await parts.start_profile(mqtt, "tm", "bench-steady")
                    spy = await record(d.pid, args.seconds, args.out)
                    log: list[tuple[str, float, float]] = []
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(args.seconds):
                            while True:
                                await parts.pause_resume_cycle(mqtt, "tm", log)
                    await spy.wait()
                    print(f"{len(log)} commands while recording", file=sys.stderr)
    print(top(args.out))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--out", type=Path, default=Path("/tmp/treadctl-profile.txt"))
    asyncio.run(main(parser.parse_args()))
