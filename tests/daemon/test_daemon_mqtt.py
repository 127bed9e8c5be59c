"""``treadctl run`` as a real process, a simulator process and a Mosquitto: a session over MQTT."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from harness.daemon import REPO_ROOT, DaemonRig
from harness.mqtt_probe import read_retained
from harness.sim_trace import OP_SET_SPEED, OP_START, OP_STOP, belt, writes
from tests.daemon.daemon_profiles import TEST_PROFILES

pytestmark = pytest.mark.crossprocess


async def test_start_watch_and_stop_a_profile_over_mqtt(tmp_path: Path) -> None:
    discovery = {"mqtt": {"discovery": True}}
    async with DaemonRig(tmp_path, profiles=TEST_PROFILES, extra_config=discovery) as rig:
        daemon = await rig.start_daemon()
        sim = rig.sims["tm1"]
        mq = rig.mqtt

        refused = await mq.request("tm1", "start_profile", profile="long-back")
        assert refused["status"] == "error"
        assert refused["error"]["code"] == "not_armed"
        assert writes(sim, OP_START) == []

        assert (await mq.request("tm1", "arm"))["status"] == "ok"
        started = await mq.request("tm1", "start_profile", profile="long-back")
        assert started["status"] == "ok", started
        since = mq.mark()
        moving = await mq.wait_json(
            "treadctl/tm1/telemetry", lambda t: (t["speed_kmh"] or 0) >= 0.9, since=since
        )
        assert moving["speed_kmh"] <= 1.0
        state = await mq.latest_state("tm1", lambda s: s["session"] == "running")
        assert state["profile"] == "long-back"

        stopped = await mq.request("tm1", "stop")
        assert stopped["status"] == "ok", stopped
        await sim.wait({"machine.belt_speed": {"max": 0}}, within=20)

        records = writes(sim)
        ops = [r["op"] for r in records]
        assert OP_START in ops
        stop_index = max(i for i, r in enumerate(records) if r["op"] == OP_STOP)
        assert records[stop_index]["hex"] == "0801"
        assert records[stop_index]["result"] == 1
        # No speed or start written after the Stop.
        assert all(r["op"] not in (OP_START, OP_SET_SPEED) for r in records[stop_index + 1 :])
        speeds = belt(sim)
        assert max(r["speed"] for r in speeds) <= 100  # the profile's 1.0 km/h
        assert speeds[-1]["speed"] == 0

        # treadctl status reads the retained state back from the broker.
        status = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "treadctl.cli.main",
            "status",
            "--config",
            str(rig.config_path),
            cwd=REPO_ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(30):
            out, err = await status.communicate()
        assert status.returncode == 0, err
        line = json.loads(out.decode().splitlines()[0])
        assert line["device"] == "tm1"
        assert line["state"]["link"] is True
        assert line["state"]["caps"]["max_speed_kmh"] == 3.0

        assert await daemon.terminate() == 0
        assert rig.broker is not None
        assert await read_retained(rig.broker.host, rig.broker.port, "treadctl/bridge/state") == (
            b"offline"
        )
        # The treadmill's device info is kept in the state directory for the next start (a
        # restart with the treadmill off keeps the Home Assistant device as it was).
        known_path = rig.workdir / "state" / "known-devices" / "tm1.json"
        known = json.loads(known_path.read_text(encoding="utf-8"))
        assert known["address"] == state["device"]["address"]
        raw = await read_retained(
            rig.broker.host, rig.broker.port, "homeassistant/device/tm1/config"
        )
        assert raw is not None
        payload = json.loads(raw)
        assert payload["dev"]["connections"] == [["bluetooth", known["address"]]]
        assert payload["cmps"]["emergency_stop"]["qos"] == 1
        # Manufacturer and model from the simulator's Device Information Service.
        assert known["identity"]["manufacturer"] == "treadsim"
        assert payload["dev"]["manufacturer"] == "treadsim"
        assert payload["dev"]["model"] == known["identity"]["model_number"]


async def test_a_remote_pause_does_not_disarm_and_resume_restarts_once(tmp_path: Path) -> None:
    """The device echoes our own Pause as "paused by the user"; that echo is not a person at the
    console, so it must neither disarm remote control nor be published as a safety event."""
    async with DaemonRig(tmp_path, profiles=TEST_PROFILES) as rig:
        await rig.start_daemon()
        sim = rig.sims["tm1"]
        mq = rig.mqtt
        assert (await mq.request("tm1", "arm"))["status"] == "ok"
        assert (await mq.request("tm1", "start_profile", profile="long-back"))["status"] == "ok"
        await mq.latest_state("tm1", lambda s: s["session"] == "running")
        since = mq.mark()
        assert (await mq.request("tm1", "pause"))["status"] == "ok"
        await sim.wait({"machine.belt_speed": {"max": 0}}, within=20)
        paused = await mq.latest_state(
            "tm1", lambda s: s["session"] == "paused" and s["speed_kmh"] == 0
        )
        assert paused["armed"] is True
        events = [m for m in mq.messages[since:] if m.topic == "treadctl/tm1/event"]
        assert not any(b"console_pause" in m.payload for m in events)
        starts_before = len(writes(sim, OP_START))
        resumed = await mq.request("tm1", "resume")
        assert resumed["status"] == "ok", resumed
        await mq.latest_state("tm1", lambda s: s["session"] == "running")
        assert len(writes(sim, OP_START)) == starts_before + 1
