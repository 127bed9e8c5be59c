"""The MQTT command flood with an emergency stop in the middle (test_faults_mqtt_abuse in CI,
test_faults_soak for the latency measurement), and the seeded garbage payloads it sends."""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

from harness.daemon import DaemonRig
from harness.mosquitto import find_binary
from tests.faults.helpers import let_time_pass, start_session, wait_belt_stopped, wait_stop_write

PREFIX = "treadctl/tm1"


def garbage(rng: random.Random) -> bytes:
    """Random JSON-ish or binary payloads (seeded: reproducible)."""
    kind = rng.randrange(6)
    if kind == 0:
        return rng.randbytes(rng.randrange(0, 64))
    if kind == 1:
        return json.dumps({"kmh": rng.choice([None, "x", -3, 1e9, [], {}, 0.5, True])}).encode()
    if kind == 2:
        return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(40))).encode()
    if kind == 3:
        return json.dumps({"profile": rng.choice(["", "x" * 60, "\u202e", "steady/../x"])}).encode()
    if kind == 4:
        return b'{"kmh": 1.2, "' + rng.randbytes(8).hex().encode() + b'": 1}'
    return b"{" * rng.randrange(1, 300)


FUZZ_TOPICS = ["request/set_speed", "request/select_profile", "request/set_incline",
               "request/pause", "request/resume", "request/start_profile", "set/speed",
               "set/profile", "request/skip_segment"]  # fmt: skip
"""Never ``arm``: unarmed, nothing in the fuzz can move the belt, so a Start in the trace
would be a real fault."""


FLOOD_TOPICS = ("request/set_speed", "request/select_profile")


async def flood_with_emergency_stop(
    r: DaemonRig, *, per_second: int = 1000, seconds: float = 2.0, seed: int = 11
) -> dict[str, Any]:
    """Flood ``per_second`` commands for ``seconds`` (two ``mosquitto_pub -l`` publishers,
    half garbage, half well-formed unarmed set_speed/select_profile) with a running belt, and
    an emergency stop from the probe halfway. Returns the measurements: publish -> Stop write
    latency (both ``CLOCK_MONOTONIC``: the trace's ``t`` and this process's
    ``time.monotonic()``), replies seen, the rate achieved."""
    assert r.broker is not None
    probe = r.mqtt
    sim = r.sims["tm1"]
    await start_session(r)
    tool = find_binary("mosquitto_pub")
    publishers = [
        await asyncio.create_subprocess_exec(
            tool,
            "-h",
            r.broker.host,
            "-p",
            str(r.broker.port),
            "-q",
            "0",
            "-l",
            "-t",
            f"{PREFIX}/{topic}",
            stdin=asyncio.subprocess.PIPE,
        )
        for topic in FLOOD_TOPICS
    ]
    rng = random.Random(seed)
    total = int(per_second * seconds)
    batch = 50
    start_mark = probe.mark()
    estop_at: float | None = None
    began = time.monotonic()
    sent = 0
    try:
        while sent < total:
            for _ in range(batch):
                if rng.random() < 0.5:
                    line = garbage(rng).replace(b"\n", b" ").replace(b"\r", b" ")
                else:
                    line = json.dumps({"kmh": 1.0, "transaction": f"flood-{sent}"}).encode()
                stdin = publishers[sent % 2].stdin
                assert stdin is not None
                stdin.write(line + b"\n")
                sent += 1
            for proc in publishers:
                assert proc.stdin is not None
                await proc.stdin.drain()
            if estop_at is None and sent >= total // 2:
                estop_at = time.monotonic()
                await probe.publish(f"{PREFIX}/request/emergency_stop", b"{}", qos=1)
            # Pacing of the flood generator (a rate, not a wait for a condition).
            await asyncio.sleep(max(0.0, began + sent / per_second - time.monotonic()))
        rate = sent / (time.monotonic() - began)
    finally:
        for proc in publishers:
            if proc.stdin is not None:
                proc.stdin.close()
        for proc in publishers:
            async with asyncio.timeout(30):
                await proc.wait()
    assert estop_at is not None
    stop = await wait_stop_write(sim, estop_at - 0.001)
    await wait_belt_stopped(sim)

    def replies() -> int:
        return sum(1 for m in probe.messages[start_mark:] if "/response/" in m.topic)

    # Until the replies stop coming (answered or dropped, counted either way).
    seen = -1
    while seen != replies():
        seen = replies()
        await let_time_pass(sim, 5)
    return {
        "sent": total,
        "rate_per_s": round(rate),
        "replies": seen,
        "flood_seen_by_probe": sum(
            1 for m in probe.messages[start_mark:] if m.topic.endswith(FLOOD_TOPICS)
        ),
        "estop_latency_ms": round((stop["t"] - estop_at) * 1000, 1),
    }
