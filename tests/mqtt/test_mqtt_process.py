"""The will: a bridge process killed with SIGKILL is reported offline by the broker."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from harness.mosquitto import Mosquitto
from tests.mqtt.mqtt_watch import Watcher, watcher

pytestmark = pytest.mark.crossprocess

RUNNER = Path(__file__).with_name("bridge_runner.py")
REPO = Path(__file__).resolve().parents[2]


async def test_killed_bridge_process_goes_offline_through_the_will(
    mosquitto: Mosquitto, watch: Watcher, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    with (tmp_path / "runner.log").open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(RUNNER),
            mosquitto.host,
            str(mosquitto.port),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            env=env,
        )
        try:
            assert proc.stdout is not None
            async with asyncio.timeout(30):
                line = await proc.stdout.readline()
            assert line == b"ready\n", (tmp_path / "runner.log").read_text()
            await watch.expect("treadctl/bridge/state", lambda m: m.payload == b"online")
            await watch.expect("treadctl/tm1/availability", lambda m: m.payload == b"online")
            # It answers requests, so it is really alive before it is killed.
            await watch.publish("treadctl/tm1/request/stop", '{"transaction": 1}')
            reply = await watch.expect_json("treadctl/tm1/response/stop")
            assert reply["status"] == "ok"
            proc.send_signal(signal.SIGKILL)
            assert await proc.wait() == -signal.SIGKILL
            offline = await watch.expect("treadctl/bridge/state", lambda m: m.payload == b"offline")
            assert offline.payload == b"offline"
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            assert proc.stdout is not None
            await proc.stdout.read()
    async with watcher(mosquitto, "treadctl/bridge/state") as late:
        stored = await late.expect("treadctl/bridge/state")
        assert (stored.payload, stored.retain) == (b"offline", True)
