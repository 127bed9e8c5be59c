"""The strap link and its supervisor against the simulator's strap, through the bleak Bumble
backend: one Bumble host serving the treadmill and the strap at once."""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from harness.simulator import in_process_simulator, wait_state
from simulators.treadsim import HeartParams, Simulator, StrapOptions
from simulators.treadsim.strap import STRAP_ADDRESS
from treadctl.ble.bumble_host import register_local_link
from treadctl.ble.errors import HeartRateSensorNotFound
from treadctl.ble.link import TreadmillLink
from treadctl.ble.options import LinkOptions
from treadctl.ble.strap import StrapLink, StrapSupervisor
from treadctl.ble.stream import ObservationStream
from treadctl.hrs import (
    HeartRateItem,
    HeartRateMeasurement,
    HeartRateSample,
    HeartRateSource,
    HrsDecodeError,
    SensorContact,
    SensorStatus,
)
from treadctl.observations import Reading

SPEEDUP = 20.0
DEADLINE = 10.0
_names = itertools.count()


@contextlib.asynccontextmanager
async def simulated() -> AsyncIterator[tuple[Simulator, str, io.StringIO]]:
    trace = io.StringIO()
    strap = StrapOptions(params=HeartParams(noise_bpm=0))
    async with in_process_simulator(speedup=SPEEDUP, strap=strap, trace=trace) as sim:
        with register_local_link(f"strap{next(_names)}", sim.link) as spec:
            yield sim, spec, trace


def options(spec: str, **overrides: Any) -> LinkOptions:
    base: dict[str, Any] = {"backend": "bumble", "transport": spec, "idle_release_s": None}
    return LinkOptions(**(base | {"scan_timeout_s": 5.0} | overrides))


async def next_of(stream: AsyncIterator[HeartRateItem], kind: type[Any], **match: Any) -> Any:
    async with asyncio.timeout(DEADLINE):
        async for item in stream:
            if isinstance(item, kind) and all(getattr(item, k) == v for k, v in match.items()):
                return item
    raise AssertionError("stream ended")


async def test_finds_the_strap_by_its_service_and_streams_samples() -> None:
    async with simulated() as (_sim, spec, _trace), StrapLink(options(spec)) as link:
        assert link.address == STRAP_ADDRESS
        status = await next_of(link.readings(), SensorStatus)
        assert (status.connected, status.battery_percent, status.location) == (True, 90, "chest")
        sample = await next_of(link.readings(), HeartRateSample)
        assert sample.bpm == 70
        assert sample.contact is SensorContact.DETECTED
        assert sample.source is HeartRateSource.STRAP
        assert sample.rr_intervals == (round(60 / 70 * 1024),)


async def test_treadmill_and_strap_share_one_host() -> None:
    async with (
        simulated() as (sim, spec, _trace),
        TreadmillLink(options(spec)) as treadmill,
        StrapLink(options(spec, name="treadsim-HRM")) as strap,
    ):
        assert treadmill.info.address == sim.address
        await next_of(strap.readings(), HeartRateSample)
        async with asyncio.timeout(DEADLINE):
            async for item in treadmill.observations():
                if isinstance(item, Reading):
                    break


async def test_malformed_frames_are_counted_faults_reported() -> None:
    async with simulated() as (sim, spec, _trace), StrapLink(options(spec)) as link:
        readings = link.readings()
        await next_of(readings, HeartRateSample)
        await sim.command("strap_notify_raw", hex="0150")  # u16 flag, one byte: truncated
        await sim.command("strap_contact", detected=False)
        lost = await next_of(readings, HeartRateSample, contact=SensorContact.NOT_DETECTED)
        assert lost.bpm == 0
        assert link.stats["decode_failed_2a37"] == 1
        await sim.command("strap_battery", percent=5)
        low = await next_of(readings, SensorStatus, battery_percent=5)
        assert low.connected


async def test_not_found_is_typed() -> None:
    async with simulated() as (_sim, spec, _trace):
        link = StrapLink(options(spec, name="no-such-strap", scan_timeout_s=0.5))
        with pytest.raises(HeartRateSensorNotFound, match="no-such-strap"):
            async with link:
                pass


async def test_supervisor_reconnects_and_never_writes_to_the_treadmill() -> None:
    async with simulated() as (sim, spec, trace):
        supervisor = StrapSupervisor.from_options(options(spec), backoff=lambda _n: 0.05)
        async with asyncio.TaskGroup() as tasks:
            runner = tasks.create_task(supervisor.run())
            readings = supervisor.readings()
            await next_of(readings, HeartRateSample)
            await sim.command("strap_disconnect")
            lost = await next_of(readings, SensorStatus, connected=False)
            assert lost.retry_in_s == 0.05
            back = await next_of(readings, SensorStatus, connected=True)
            assert back.reason == STRAP_ADDRESS
            await next_of(readings, HeartRateSample)
            assert supervisor.connections == 2
            runner.cancel()
        await wait_state(sim, lambda s: s.strap is not None and not s.strap.connected)
        records = [json.loads(line) for line in trace.getvalue().splitlines()]
        assert [r for r in records if r["kind"] in ("write", "connection")] == []


def test_heart_rate_samples_are_droppable_like_readings() -> None:
    stream: ObservationStream[HeartRateItem] = ObservationStream(max_readings=2)
    for at in range(4):
        stream.push(HeartRateSample(at, 80, SensorContact.DETECTED, HeartRateSource.STRAP))
    stream.push(SensorStatus(5.0, HeartRateSource.STRAP, False))
    assert stream.dropped_readings == 2
    assert len(stream) == 3


async def test_random_frames_through_the_radio_never_end_the_link() -> None:
    """300 seeded random frames (truncated, odd, 16-bit, reserved bits) mid-stream: each one is
    decoded or counted as undecodable, and real measurements keep coming afterwards."""
    rng = random.Random(15)
    frames = [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 9))) for _ in range(300)]
    async with simulated() as (sim, spec, _trace), StrapLink(options(spec)) as link:
        readings = link.readings()
        await next_of(readings, HeartRateSample)
        expected_failures = 0
        for frame in frames:
            try:
                HeartRateMeasurement.decode(frame)
            except HrsDecodeError:
                expected_failures += 1
            await sim.command("strap_notify_raw", hex=frame.hex())
        await sim.command("strap_spike", bpm=77)  # a marker after the random frames
        await next_of(readings, HeartRateSample, bpm=77)
        assert link.connected
        assert link.stats["decode_failed_2a37"] == expected_failures > 0
