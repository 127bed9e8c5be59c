"""``treadctl run`` with stdout not a terminal writes JSON lines carrying the device id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.daemon import DaemonRig, DeviceSpec
from tests.daemon.daemon_profiles import TEST_PROFILES

pytestmark = pytest.mark.crossprocess


async def test_json_lines_with_device_and_session(tmp_path: Path) -> None:
    devices = (DeviceSpec("tm1"), DeviceSpec("tm2"))
    # format "auto" (the default): stdout is a file here, not a terminal.
    extra = {"logging": {"format": "auto"}}
    async with DaemonRig(tmp_path, devices, profiles=TEST_PROFILES, extra_config=extra) as rig:
        daemon = await rig.start_daemon()
        assert (await rig.mqtt.request("tm2", "arm"))["status"] == "ok"
        assert (await rig.mqtt.request("tm2", "start_profile", profile="quick-back"))[
            "status"
        ] == "ok"
        await rig.sims["tm2"].wait({"machine.belt_speed": {"min": 100}}, within=20)
        assert (await rig.mqtt.request("tm2", "stop"))["status"] == "ok"
        assert await daemon.terminate() == 0

    lines = [line for line in daemon.stdout().splitlines() if line.strip()]
    assert lines
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all(isinstance(r, dict) and "event" in r and "level" in r for r in records)

    links = [r for r in records if r["event"] == "link" and r.get("state") == "connected"]
    assert sorted(r["device"] for r in links) == ["tm1", "tm2"]
    start = next(r for r in records if r["event"] == "session_start")
    assert start["device"] == "tm2"
    assert start["session"].startswith("quick-back-")
    commands = [r for r in records if r["event"] == "command"]
    assert {r["device"] for r in commands} == {"tm2"}
    stop = next(r for r in commands if r["command"] == "Stop")
    assert stop["session"] == start["session"]
    end = next(r for r in records if r["event"] == "session_end")
    assert (end["device"], end["session"]) == ("tm2", start["session"])
