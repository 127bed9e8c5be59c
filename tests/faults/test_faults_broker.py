"""Fault matrix: the MQTT broker is down when the daemon starts, and restarts mid-session.

Expected: the daemon runs without the broker (the treadmill link comes up; nothing moves),
connects when the broker appears and publishes its state; a broker restart is not a safety
event for the belt (a person is walking; the session goes on), the daemon reconnects with a
clean session and re-publishes, and no command is replayed. Outcomes from the simulator's
trace and MQTT only. The test owns its broker and its probes (a probe cannot outlive its
broker), so the rig runs without MQTT.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest

from harness.mosquitto import Mosquitto
from harness.mqtt_probe import MqttProbe, read_retained
from tests.faults.helpers import (
    OP_START,
    OP_STOP,
    assert_no_restart,
    let_time_pass,
    rig,
    start_session,
    trace_time,
    wait_belt_stopped,
    writes,
    writes_after,
)

pytestmark = [pytest.mark.faults, pytest.mark.crossprocess]

QUIET_S = 20.0


async def test_broker_down_at_start_then_restarted_mid_session(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path / "mosquitto")
    mqtt = {
        "enabled": True,
        "host": broker.host,
        "port": broker.port,
        "client_id": "treadctl-fault-broker",
        "discovery": False,
        "arming_expiry_s": 3600.0,
    }
    try:
        async with rig(tmp_path / "rig", with_mqtt=False, extra_config={"mqtt": mqtt}) as r:
            sim = r.sims["tm1"]
            # Broker down at start: the daemon still connects to the treadmill; nothing moves.
            daemon = await r.start_daemon(wait_online=False)
            await sim.wait({"connected": True}, within=30)
            await let_time_pass(sim, QUIET_S)
            assert daemon.returncode is None
            assert_no_restart(sim, 0.0)

            # The broker appears: the daemon connects and publishes availability and state.
            await asyncio.to_thread(broker.start)
            async with MqttProbe(broker.host, broker.port) as probe:
                r._probe = probe
                await probe.wait_for("treadctl/bridge/state", lambda m: m.text == "online",
                                     within=30)  # fmt: skip
                await probe.wait_for("treadctl/tm1/availability", lambda m: m.text == "online")
                await start_session(r)
            r._probe = None

            # Broker restarted mid-session: the belt goes on, no Stop and no second Start.
            restart_at = trace_time(sim)
            await asyncio.to_thread(broker.restart)
            async with MqttProbe(broker.host, broker.port) as probe:
                # MqttProbe numbers transactions per probe; the daemon remembers them across
                # the broker restart (duplicates are answered, not run), so continue the count.
                probe._tx = itertools.count(100)
                r._probe = probe
                await probe.wait_for("treadctl/bridge/state", lambda m: m.text == "online",
                                     within=30)  # fmt: skip
                state = await probe.latest_state("tm1", lambda s: s["session"] == "running")
                assert state["link"] is True
                assert writes_after(sim, restart_at, OP_START) == []
                assert writes_after(sim, restart_at, OP_STOP) == []
                assert (await sim.state())["machine"]["phase"] == "running"
                # Commands work again after the reconnect.
                stop_at = trace_time(sim)
                stopped = await probe.request("tm1", "stop")
                assert stopped["status"] == "ok", stopped
                await wait_belt_stopped(sim)
                await let_time_pass(sim, QUIET_S)
                assert_no_restart(sim, stop_at)
            r._probe = None
            assert len(writes(sim, OP_START)) == 1
            assert await daemon.terminate() == 0
            assert await read_retained(broker.host, broker.port, "treadctl/bridge/state") == (
                b"offline"
            )
    finally:
        broker.stop()
