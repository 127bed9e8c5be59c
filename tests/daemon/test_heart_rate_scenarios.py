"""The heart-rate guard end to end: the real daemon, the simulator's treadmill and its chest
strap (one Bumble host reaches both), proven by the simulator's trace.

- a walker whose heart rate climbs with speed reaches the soft limit and the ramp holds;
- a 255 spike does nothing;
- contact lost mid-ramp holds the ramp; it goes on when contact is back (nothing restarts);
- the hard limit ramps the belt down and stops it; the session ends with reason heart_rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from harness.simulator import in_process_simulator
from simulators.treadsim import HeartParams, Simulator, StrapOptions
from tests.daemon.inprocess import DEADLINE_S, SPEEDUP, write_profiles
from treadctl.ble.bumble_host import register_local_link
from treadctl.commands import StartProfile
from treadctl.config.model import Config
from treadctl.control.session_states import SessionState
from treadctl.daemon.app import Daemon
from treadctl.daemon.live_view import render_summary
from treadctl.daemon.mqtt_sink import device_state

HR_RAMP = """\
name: hr-ramp
description: One backward block at 3.0 km/h (heart-rate tests).
audience: tests
level: intermediate
needs_handrails: true
cap_kmh: 3.0
segments:
  - kind: backward
    name: block
    duration: 20 min
    speed_kmh: 3.0
    cue: Small steps.
"""

HR_MAX = 150  # soft 105 bpm (70 %), hard 120 bpm (80 %)
SOFT, HARD = 105, 120
OP_SET_SPEED, OP_STOP = 0x02, 0x08
_names = itertools.count()


class CueLog:
    """Records what the spoken cues were told (treadctl.daemon.device.CueListener)."""

    def __init__(self) -> None:
        self.safety_kinds: list[str] = []

    def session_started(self, device: str) -> None:
        pass

    def safety(self, device: str, kind: str) -> None:
        self.safety_kinds.append(kind)


class Rig:
    def __init__(self, sim: Simulator, trace: io.StringIO, daemon: Daemon) -> None:
        self.sim = sim
        self.trace = trace
        self.daemon = daemon
        self.runtime = daemon.devices["tm"]
        self.cues = CueLog()
        self.runtime.cues = self.cues

    def records(self, kind: str) -> list[dict[str, Any]]:
        lines = self.trace.getvalue().splitlines()
        return [r for r in map(json.loads, lines) if r["kind"] == kind]

    def speed_writes(self) -> list[tuple[float, int]]:
        """(trace time, 0.01 km/h) of every Set Target Speed the treadmill received."""
        return [
            (r["t"], int.from_bytes(bytes.fromhex(r["hex"])[1:3], "little"))
            for r in self.records("write")
            if r["op"] == OP_SET_SPEED and r.get("result") == 1
        ]

    async def until(self, predicate: Any) -> Any:
        async with asyncio.timeout(DEADLINE_S):
            return await self.sim.wait_for(predicate)

    async def governor(self, predicate: Any) -> Any:
        async with asyncio.timeout(DEADLINE_S):
            return await self.runtime.governed.wait_for(predicate)


def _config(tmp_path: Path, transport: str, source: dict[str, str]) -> Config:
    profiles = write_profiles(tmp_path / "profiles")
    (profiles / "hr-ramp.yaml").write_text(HR_RAMP, encoding="utf-8")
    return Config.model_validate(
        {
            "devices": [
                {
                    "id": "tm",
                    "address": "F0:F1:F2:F3:F4:F5",
                    "has_handrails": True,
                    "simulator": True,
                    "speedup": SPEEDUP,
                    "backend": "bumble",
                    "transport": transport,
                    "heart_rate": source,
                }
            ],
            "people": [{"id": "ann", "name": "Ann", "hr_max_bpm": HR_MAX}],
            "ble": {"connect_timeout_s": 10.0, "scan_timeout_s": 10.0},
            "history": {"enabled": False},
            "state_dir": str(tmp_path),
            "profiles_dir": str(profiles),
        }
    )


@contextlib.asynccontextmanager
async def rig(
    tmp_path: Path,
    heart: HeartParams,
    *,
    preset: str = "generic",
    source: dict[str, str] | None = None,
) -> AsyncIterator[Rig]:
    trace = io.StringIO()
    async with contextlib.AsyncExitStack() as stack:
        sim = await stack.enter_async_context(
            in_process_simulator(
                preset=preset,
                speedup=SPEEDUP,
                walker=True,
                trace=trace,
                strap=StrapOptions(params=heart),
            )
        )
        spec = stack.enter_context(register_local_link(f"hr{next(_names)}", sim.link))
        daemon = Daemon(_config(tmp_path, spec, source or {"name": "treadsim-HRM"}))
        runner = asyncio.create_task(daemon.run(handle_signals=False))
        try:
            the_rig = Rig(sim, trace, daemon)
            async with asyncio.timeout(DEADLINE_S):
                await the_rig.runtime.connected.wait()
                await the_rig.runtime.reading.wait()
            if source is None:  # a strap: its first value is in before the session starts
                await the_rig.governor(lambda s: s.heart_rate_bpm is not None)
            yield the_rig
        finally:
            daemon.request_stop("test over")
            async with asyncio.timeout(DEADLINE_S):
                await runner


def start(r: Rig) -> None:
    result = r.runtime.handle_local(StartProfile("hr-ramp"))
    assert result.ok, result


async def test_the_ramp_holds_at_the_soft_limit(tmp_path: Path) -> None:
    # Steady state 70 + 20 bpm per km/h: 105 bpm at 1.75 km/h, 110 at 2.0, 130 at 3.0.
    heart = HeartParams(bpm_per_kmh=20, tau_rise_s=2, tau_fall_s=2, noise_bpm=0)
    async with rig(tmp_path, heart) as r:
        start(r)
        state = await r.governor(lambda s: s.heart_rate_hold is not None and s.belt_speed)
        assert "soft limit 105" in state.heart_rate_hold
        assert "heart_rate_hold" in r.cues.safety_kinds  # "Heart rate high, holding speed."
        # Held for a while: 15 simulated seconds at most one more step.
        soft_at = next(x["t"] for x in r.records("strap") if x["bpm"] >= SOFT)
        end = r.sim.clock.now() + 15
        await r.until(lambda s: s.machine.now > end)
        after = [v for t, v in r.speed_writes() if t > soft_at]
        before = [v for t, v in r.speed_writes() if t <= soft_at]
        assert len(after) <= 1, after  # one write may have been in flight
        assert max(after + before) < 300  # never reached the profile's 3.0 km/h
        assert max(after + before) <= 220
        assert r.runtime.runner.state == SessionState.RUNNING  # a hold is not a stop
        assert max(x["bpm"] for x in r.records("strap")) < HARD
        published = device_state(r.runtime).heart_rate  # what MQTT shows
        assert published is not None
        assert published.holding
        assert published.source == "strap"
        assert published.contact == "detected"
        assert published.bpm is not None
        assert published.bpm >= SOFT
        sample = r.runtime.sample_reading()  # what the history records
        assert sample is not None
        assert sample.heart_rate_bpm is not None
        assert sample.heart_rate_bpm >= SOFT


async def test_a_255_spike_does_nothing_and_contact_loss_holds_mid_ramp(tmp_path: Path) -> None:
    # A fit walker: 70 + 5 bpm per km/h, never near the soft limit.
    heart = HeartParams(bpm_per_kmh=5, tau_rise_s=2, noise_bpm=0)
    async with rig(tmp_path, heart) as r:
        start(r)
        await r.until(lambda s: s.machine.belt_speed >= 150)
        await r.sim.command("strap_spike", bpm=255)
        await r.until(lambda s: s.strap is not None and s.strap.sent_bpm == 255)
        await r.until(lambda s: s.strap is not None and s.strap.sent_bpm != 255)
        sample = r.runtime.sample_reading()
        assert sample is not None
        assert sample.heart_rate_bpm is not None
        assert sample.heart_rate_bpm < 100  # the history never records the 255
        await r.sim.command("strap_contact", detected=False)
        lost_at = r.records("fault")[-1]["t"]
        state = await r.governor(lambda s: s.heart_rate_hold is not None)
        assert "no skin contact" in state.heart_rate_hold
        assert r.cues.safety_kinds == ["heart_rate_contact"]
        end = r.sim.clock.now() + 8
        await r.until(lambda s: s.machine.now > end)
        held = r.sim.state().machine.target_speed
        assert held < 300
        back = await r.sim.command("strap_contact", detected=True)
        assert back["done"]
        back_at = r.records("fault")[-1]["t"]
        during = [v for t, v in r.speed_writes() if lost_at + 0.05 < t < back_at]
        assert during == [] or len(set(during)) == 1, during  # at most the write in flight
        await r.until(lambda s: s.machine.target_speed == 300)  # the ramp goes on
        guard = r.runtime.governed.heart_rate_guard
        assert guard is not None
        assert guard.filtered["too_high"] == 1  # the 255
        assert r.records("write")[-1]["op"] != OP_STOP
        assert r.runtime.runner.state == SessionState.RUNNING


async def test_the_hard_limit_ramps_down_and_stops(tmp_path: Path) -> None:
    # 70 + 40 bpm per km/h: soft at 0.9 km/h, hard at 1.25 km/h (the start speed is 1.0).
    heart = HeartParams(bpm_per_kmh=40, tau_rise_s=3, noise_bpm=0)
    async with rig(tmp_path, heart) as r:
        start(r)
        result = await asyncio.wait_for(r.runtime.results.get(), DEADLINE_S)
        summary = result.summary
        assert summary.ended == "aborted"
        assert summary.reason == "heart_rate"
        assert "heart_rate" in r.cues.safety_kinds  # "Stopped: heart rate too high."
        await r.until(lambda s: s.machine.belt_speed == 0)
        stops = [x for x in r.records("write") if x["op"] == OP_STOP]
        assert stops
        over = next(x["t"] for x in r.records("strap") if x["bpm"] >= HARD)
        assert stops[0]["t"] > over  # stopped after the window, not at the first value
        hr = r.runtime.heart_rate
        assert hr is not None
        data = hr.summary()
        assert isinstance(data["max_bpm"], int)
        assert data["max_bpm"] >= HARD
        assert "heart rate   average" in render_summary(summary, data)


async def test_the_treadmills_own_heart_rate_as_the_source(tmp_path: Path) -> None:
    """Hand grips (the gym preset sends a heart-rate field): 0 while the belt stands (no
    hands), then the walker's heart while it moves; the ramp holds at the soft limit."""
    heart = HeartParams(bpm_per_kmh=20, tau_rise_s=2, tau_fall_s=2, noise_bpm=0)
    async with rig(tmp_path, heart, preset="gym-treadmill", source={"source": "treadmill"}) as r:
        assert r.runtime.heart_rate is not None
        assert r.runtime.heart_rate.supervisor is None  # no strap connection at all
        start(r)
        state = await r.governor(
            lambda s: s.heart_rate_hold_kind == "above_soft" and (s.belt_speed or 0) > 100
        )
        assert "soft limit 105" in (state.heart_rate_hold or "")
        published = device_state(r.runtime).heart_rate
        assert published is not None
        assert published.source == "treadmill"
        end = r.sim.clock.now() + 10
        await r.until(lambda s: s.machine.now > end)
        assert max(v for _t, v in r.speed_writes()) < 300  # held below the profile's 3.0
        assert r.records("strap_connection") == []  # the strap was never used
