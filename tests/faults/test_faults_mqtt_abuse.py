"""Abuse over MQTT, through a real Mosquitto into the real daemon: malformed, wrongly typed,
unicode and 1 MB payloads, a flood of 1,000 commands per second with an emergency stop in the
middle, and a profile file broken before a reload.

Outcomes from outside: replies on MQTT, the daemon's resident memory from /proc (the kernel's
word, not the daemon's), and the simulator's trace.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from harness.daemon import DaemonRig
from harness.mqtt_probe import MqttProbe
from harness.polling import poll
from tests.faults.flood import FUZZ_TOPICS, flood_with_emergency_stop, garbage
from tests.faults.helpers import (
    OP_START,
    assert_no_restart,
    let_time_pass,
    process_stats,
    record,
    rig,
    start_session,
    trace_time,
    wait_belt_stopped,
    writes,
)

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
