"""Two treadmills (two simulator processes) served by one ``treadctl run``: own topics, own caps."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.daemon import DaemonRig, DeviceSpec
from harness.sim_trace import OP_SET_SPEED, OP_START, belt, writes
from tests.daemon.daemon_profiles import TEST_PROFILES

pytestmark = pytest.mark.crossprocess

DEVICES = (DeviceSpec("tm1", user_cap_kmh=2.5), DeviceSpec("tm2", user_cap_kmh=1.2))


def _speed_param(record: dict[str, object]) -> int:
    """Set Target Speed's uint16 parameter in 0.01 km/h (FTMS §4.16.2.3)."""
    return int.from_bytes(bytes.fromhex(str(record["hex"]))[1:3], "little")


async def test_each_treadmill_has_its_own_topics_and_caps(tmp_path: Path) -> None:
    async with DaemonRig(tmp_path, DEVICES, profiles=TEST_PROFILES) as rig:
        await rig.start_daemon()
        mq = rig.mqtt
        one, two = rig.sims["tm1"], rig.sims["tm2"]

        caps = {
            device: (await mq.latest_state(device, lambda s: s["caps"] is not None))["caps"]
            for device in ("tm1", "tm2")
        }
        assert caps["tm1"]["max_speed_kmh"] == 2.5
        assert caps["tm2"]["max_speed_kmh"] == 1.2

        # Arming is per treadmill.
        assert (await mq.request("tm1", "arm"))["status"] == "ok"
        not_armed = await mq.request("tm2", "start_profile", profile="long-back")
        assert not_armed["error"]["code"] == "not_armed"
        assert (await mq.request("tm2", "arm"))["status"] == "ok"

        # A 1.5 km/h profile: over tm2's 1.2 cap (refused, nothing written), fine for tm1.
        over = await mq.request("tm2", "start_profile", profile="fast-back")
        assert over["status"] == "error"
        assert over["error"]["code"] == "over_cap", over
        assert writes(two, OP_START) == []
        ok = await mq.request("tm1", "start_profile", profile="fast-back")
        assert ok["status"] == "ok", ok
        await one.wait({"machine.belt_speed": {"min": 150}}, within=20)

        # tm2 runs a profile within its cap.
        ok = await mq.request("tm2", "start_profile", profile="long-back")
        assert ok["status"] == "ok", ok
        await two.wait({"machine.belt_speed": {"min": 100}}, within=20)
        state2 = await mq.latest_state("tm2", lambda s: s["session"] == "running")
        assert state2["profile"] == "long-back"
        state1 = await mq.latest_state("tm1", lambda s: s["session"] == "running")
        assert state1["profile"] == "fast-back"

        # 1.3 km/h: over tm2's cap (refused, not clamped), a slow-down nudge on tm1.
        refused = await mq.request("tm2", "set_speed", kmh=1.3)
        assert refused["error"]["code"] == "over_cap", refused
        accepted = await mq.request("tm1", "set_speed", kmh=1.3)
        assert accepted["status"] == "ok", accepted
        assert accepted["data"]["target_kmh"] == 1.3
        await one.wait({"machine.belt_speed": {"max": 130}, "machine.target_speed": 130})

        # Telemetry arrives on each treadmill's own topic.
        since = mq.mark()
        await mq.wait_json("treadctl/tm1/telemetry", lambda t: t["speed_kmh"] == 1.3, since=since)
        await mq.wait_json("treadctl/tm2/telemetry", lambda t: t["speed_kmh"] == 1.0, since=since)

        for device in ("tm1", "tm2"):
            assert (await mq.request(device, "stop"))["status"] == "ok"
        await one.wait({"machine.belt_speed": {"max": 0}}, within=20)
        await two.wait({"machine.belt_speed": {"max": 0}}, within=20)

        # The bytes: tm2 never got a speed above its cap, tm1 got 1.5 then 1.3.
        assert max(_speed_param(r) for r in writes(two, OP_SET_SPEED)) <= 120
        assert max(r["speed"] for r in belt(two)) <= 120
        speeds_one = [_speed_param(r) for r in writes(one, OP_SET_SPEED)]
        assert 150 in speeds_one
        assert speeds_one[-1] == 130
