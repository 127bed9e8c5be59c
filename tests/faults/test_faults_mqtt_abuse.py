"""Abuse over MQTT, through a real Mosquitto into the real daemon: malformed, wrongly typed,
unicode and 1 MB payloads, a flood of 1,000 commands per second with an emergency stop in the
middle, and a profile file broken before a reload.

Outcomes from outside: replies on MQTT, the daemon's resident memory from /proc (the kernel's
word, not the daemon's), and the simulator's trace.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
from faults.helpers import (
    OP_START,
    assert_no_restart,
    let_time_pass,
    process_stats,
    record,
    rig,
    start_session,
    trace_time,
    wait_belt_stopped,
    wait_stop_write,
    writes,
)
from support.daemon import DaemonRig, MqttProbe, poll
from support.mosquitto import find_binary

pytestmark = [pytest.mark.faults, pytest.mark.crossprocess]

PREFIX = "treadctl/tm1"
MEGABYTE = 1 << 20
RSS_GROWTH_LIMIT_KB = 40 * 1024
"""Resident memory may grow this much over the abuse run (allocator arenas, caches); a leak of
the 6 MB of oversized payloads or the flood's 2,000 requests would exceed it."""

NO_SUCH_PROFILE = {"unknown_profile", "invalid_value"}

# (topic suffix, payload, the error codes the reply may carry)
MALFORMED: list[tuple[str, bytes, set[str]]] = [
    ("request/set_speed", b"{not json", {"malformed"}),
    ("request/set_speed", b"\xff\xfe\x00garbage", {"malformed"}),
    ("request/set_speed", b"[1, 2, 3]", {"malformed"}),
    ("request/set_speed", b'"2.5"', {"malformed"}),
    ("request/set_speed", b"", {"malformed", "invalid_value"}),
    ("request/set_speed", b'{"kmh": "fast"}', {"invalid_value"}),
    ("request/set_speed", b'{"kmh": NaN}', {"invalid_value", "malformed"}),
    ("request/set_speed", b'{"kmh": Infinity}', {"invalid_value", "malformed"}),
    ("request/set_speed", b'{"kmh": -1}', {"invalid_value"}),
    ("request/set_speed", b'{"kmh": 1e308}', {"invalid_value", "not_armed", "over_cap"}),
    ("request/set_speed", b'{"kmh": [2.5]}', {"invalid_value"}),
    ("request/set_speed", b'{"kmh": true}', {"invalid_value"}),
    ("request/set_speed", b'{"kmh": 2.5, "surprise": 1}', {"invalid_value"}),
    ("request/set_incline", b'{"percent": {"a": 1}}', {"invalid_value"}),
    ("request/arm", b'{"duration_s": -5}', {"invalid_value"}),
    ("request/arm", b'{"duration_s": 1e12}', {"invalid_value", "refused"}),
    (
        "request/select_profile",
        json.dumps({"profile": "st\u00e9\u00e4dy\u2603\u202e\U0001f6b6"}).encode(),
        {"unknown_profile", "invalid_value"},
    ),
    (
        "request/select_profile",
        b'{"profile": "../../etc/passwd"}',
        {"unknown_profile", "invalid_value"},
    ),
    (
        "request/select_profile",
        b'{"profile": "' + b"a" * 3000 + b'"}',
        {"unknown_profile", "invalid_value"},
    ),
    ("request/explode", b"{}", {"unknown_command"}),
    ("request/set_speed", b'{"kmh": 1.0, "transaction": {"x": 1}}', {"invalid_value"}),
    ("request/set_speed", b'{"kmh": 1.0, "timestamp": "yesterday"}', {"invalid_value"}),
    ("request/set_speed", b'{"kmh": 1.0, "timestamp": 1}', {"too_old", "expired"}),
    ("set/speed", b"abc", {"invalid_value", "malformed"}),
    # Arabic-Indic digits: Python's float() reads them as 2.5, so the form is accepted and
    # arming decides (unarmed here); the governor's caps apply to it like to any speed.
    ("set/speed", "\u0662.\u0665".encode(), {"invalid_value", "malformed", "not_armed"}),
    ("set/start", b"PRESS" * 1000, {"too_large", "invalid_value"}),
    ("request/set_speed", b"{" + b" " * MEGABYTE + b"}", {"too_large"}),
]


async def _reply_to(probe: MqttProbe, suffix: str, payload: bytes) -> Any:
    """Publish one raw payload and return the next reply (payloads are sent one at a time,
    so the next message on any response topic answers this one)."""
    since = probe.mark()
    await probe.publish(f"{PREFIX}/{suffix}", payload)

    def found() -> Any:
        return next(
            (m for m in probe.messages[since:] if m.topic.startswith(f"{PREFIX}/response/")),
            None,
        )

    msg = await poll(found, within=15, what=f"reply to {suffix}")
    return msg.json()


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


async def _payload_abuse(r: DaemonRig) -> None:
    probe = r.mqtt
    for suffix, payload, codes in MALFORMED:
        reply = await _reply_to(probe, suffix, payload)
        assert reply["status"] == "error", (suffix, payload[:80], reply)
        assert reply["error"]["code"] in codes, (suffix, payload[:80], reply)
    # Five more 1 MB payloads: refused, not kept (memory is checked after the flood).
    for _ in range(5):
        reply = await _reply_to(probe, "request/set_speed", b"{" + b" " * MEGABYTE + b"}")
        assert reply["error"]["code"] == "too_large"
    # Seeded random payloads on every command topic but arm.
    rng = random.Random(9)
    for _ in range(150):
        suffix = rng.choice(FUZZ_TOPICS)
        reply = await _reply_to(probe, suffix, garbage(rng))
        assert reply["status"] in ("ok", "error"), reply
        if reply["status"] == "error":
            assert reply["error"]["code"]
            assert reply["error"]["message"]
    assert writes(r.sims["tm1"], OP_START) == []


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


async def test_mqtt_payload_abuse_and_flood_with_emergency_stop(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        daemon = await r.start_daemon()
        before = process_stats(daemon.pid)["rss_kb"]
        await _payload_abuse(r)
        result = await flood_with_emergency_stop(r)
        sim = r.sims["tm1"]
        assert daemon.returncode is None, daemon.stderr()[-2000:]
        after = process_stats(daemon.pid)["rss_kb"]
        stop_at = trace_time(sim)
        await let_time_pass(sim, 20)
        assert_no_restart(sim, stop_at)
        # The emergency stop was obeyed (a Stop write after it, belt at 0) and the daemon still
        # answers a normal request after the flood.
        assert (await r.mqtt.request("tm1", "select_profile", profile="steady"))["status"] == "ok"
        assert after - before < RSS_GROWTH_LIMIT_KB, (before, after, result)
        record("mqtt_abuse", {**result, "rss_before_kb": before, "rss_after_kb": after})


async def test_bad_profile_on_reload_keeps_the_last_good_one(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.start_daemon()
        sim = r.sims["tm1"]
        good = (r.profiles_dir / "steady.yaml").read_text()
        # Break the file in place, and add a malformed, an unknown-key and an over-cap profile.
        (r.profiles_dir / "steady.yaml").write_text(good.replace("segments:", "segments: [oops"))
        (r.profiles_dir / "broken.yaml").write_text("name: broken\n  - : : :\n\t")
        typo = good.replace("name: steady", "name: typo").replace("cue:", "speed_kph: 1\n    cue:")
        (r.profiles_dir / "typo.yaml").write_text(typo)
        fast = good.replace("name: steady", "name: fast").replace(
            "speed_kmh: 1.0", "speed_kmh: 5.0"
        )
        (r.profiles_dir / "fast.yaml").write_text(fast)
        reply = await r.mqtt.request("tm1", "reload_profiles")
        assert reply["status"] == "ok", reply
        problems = "\n".join(reply["data"]["problems"])
        for name in ("steady.yaml", "broken.yaml", "typo.yaml", "fast.yaml"):
            assert name in problems, problems
        assert "speed_kph" in problems
        loaded = reply["data"]["loaded"]
        assert "steady" in loaded
        assert not {"broken", "typo", "fast"} & set(loaded)
        # The retained profile list (unchanged, so perhaps not re-sent) still offers steady.
        profiles = [m for m in r.mqtt.messages if m.topic == f"{PREFIX}/profiles"]
        assert "steady" in [p["id"] for p in profiles[-1].json()]
        for refused in ("typo", "fast", "broken"):
            answer = await r.mqtt.request("tm1", "select_profile", profile=refused)
            assert answer["error"]["code"] == "unknown_profile", answer
        # The last good "steady" (1.0 km/h) still runs.
        await start_session(r)
        assert max(b["speed"] for b in sim.trace_records("belt")) <= 100
        assert (await r.mqtt.request("tm1", "stop"))["status"] == "ok"
        await wait_belt_stopped(sim)
