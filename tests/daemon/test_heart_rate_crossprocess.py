"""The heart-rate guard across processes: ``treadsim --strap`` (treadmill and chest strap on one
virtual radio), ``treadctl run`` (Bumble backend, or BlueZ through the BlueZ twin) and
Mosquitto. What Home Assistant would see (state keys and events) and what the treadmill received
(the simulator's trace)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.daemon import DaemonRig, DeviceSpec
from harness.toml_writer import to_toml
from tests.daemon.test_heart_rate_scenarios import HR_RAMP

pytestmark = pytest.mark.crossprocess

STRAP = (
    "--strap",
    "--strap-model",
    "bpm_per_kmh=20",
    "--strap-model",
    "tau_rise_s=2",
    "--strap-model",
    "noise_bpm=0",
)
OP_SET_SPEED, OP_STOP = 0x02, 0x08


def _speed(record: dict[str, object]) -> int:
    return int.from_bytes(bytes.fromhex(str(record["hex"]))[1:3], "little")


@pytest.mark.parametrize("backend", ["bumble", "bluez"])
async def test_hold_on_mqtt_then_the_hard_limit_stops_the_belt(
    tmp_path: Path, backend: str
) -> None:
    """``bumble``: the daemon's Bumble host reaches treadmill and strap; ``bluez``: bleak's
    BlueZ backend, unchanged, through the BlueZ twin (one adapter, two connections)."""
    rig = DaemonRig(
        tmp_path,
        (DeviceSpec("tm1", sim_args=STRAP),),
        profiles={"hr-ramp": HR_RAMP},
        extra_config={"people": [{"id": "ann", "name": "Ann", "hr_max_bpm": 150}]},
        backend=backend,
    )
    async with rig:
        config = rig.config()
        config["devices"][0]["heart_rate"] = {"name": "treadsim-HRM"}
        rig.config_path.write_text(to_toml(config), encoding="utf-8")
        await rig.start_daemon()
        mq, sim = rig.mqtt, rig.sims["tm1"]
        state = await mq.latest_state(
            "tm1",
            lambda s: s["heart_rate_bpm"] == 70 and s["heart_rate_holding"] is False,
        )
        assert state["heart_rate_source"] == "strap"
        assert state["heart_rate_contact"] == "detected"
        assert state["heart_rate_hold_reason"] is None

        assert (await mq.request("tm1", "arm"))["status"] == "ok"
        since = mq.mark()
        started = await mq.request("tm1", "start_profile", profile="hr-ramp")
        assert started["status"] == "ok", started
        held = await mq.latest_state("tm1", lambda s: s["heart_rate_holding"] is True)
        assert "soft limit 105" in held["heart_rate_hold_reason"]
        event = await mq.wait_json(
            "treadctl/tm1/event", lambda e: e["kind"] == "heart_rate_hold", since=since
        )
        assert event["data"]["source"] == "strap"
        # A person's speed-up is refused while held, with the reason (a slow-down is not).
        lowered = await mq.request("tm1", "set_speed", kmh=2.0)
        assert lowered["status"] == "ok", lowered
        refused = await mq.request("tm1", "set_speed", kmh=2.1)
        assert refused["status"] == "error"
        assert "heart" in refused["error"]["message"]

        # The walker's heart rate goes over the hard limit (120 bpm) and stays there.
        await sim.command("strap_freeze", bpm=130)
        ended = await mq.wait_json(
            "treadctl/tm1/event", lambda e: e["kind"] == "session_aborted", since=since, within=30
        )
        assert ended["message"] == "heart_rate"
        assert ended["data"]["heart_rate"]["max_bpm"] == 130
        assert ended["data"]["heart_rate"]["above_soft_s"] > 0
        await mq.wait_json("treadctl/tm1/event", lambda e: e["kind"] == "heart_rate", since=since)
        events = [m.json() for m in mq.messages[since:] if m.topic == "treadctl/tm1/event"]
        soft_holds = [
            e
            for e in events
            if e["kind"] == "heart_rate_hold" and e["data"]["kind"] == "above_soft"
        ]
        assert len(soft_holds) == 1  # one event per hold, not one per new bpm value
        await sim.wait({"machine.belt_speed": {"max": 0}}, within=30)

        writes = sim.trace_records("write")
        faults = sim.trace_records("fault")
        frozen_at = next(r["t"] for r in faults if r["action"] == "strap_freeze")
        speeds = [_speed(r) for r in writes if r["op"] == OP_SET_SPEED and r["t"] > frozen_at]
        assert speeds == sorted(speeds, reverse=True)  # only down after the freeze
        stops = [r for r in writes if r["op"] == OP_STOP and r["t"] > frozen_at]
        assert stops
        assert stops[0]["t"] - frozen_at > 5 / rig.speedup  # after the 5 s window, not at once
        assert max(_speed(r) for r in writes if r["op"] == OP_SET_SPEED) < 300
