"""The unchanged TreadmillLink against the treadsim simulator on an in-process Bumble LocalLink.

Each quirk preset of the simulator is handled as issue 4 requires. Assertions are on the
simulator's trace (the control point bytes it received and what it answered) and on its belt.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from harness.simulator import in_process_simulator
from simulators.treadsim import Simulator
from simulators.treadsim.quirks import Quirk
from treadctl.ble.bumble_host import register_local_link
from treadctl.ble.errors import (
    BeltMoving,
    ControlRefused,
    ControlTimeout,
    InclineOutOfRange,
    MphSuspected,
    NotConnected,
    SpeedOutOfRange,
)
from treadctl.ble.link import TreadmillLink
from treadctl.ble.options import LinkOptions
from treadctl.ble.supervisor import LinkState, LinkStateEvent, ReconnectSupervisor
from treadctl.observations import DeviceEvent, EventKind, Reading

SPEEDUP = 20.0
"""Simulated seconds per real second: a 3 s start countdown takes 0.15 s."""
DEADLINE = 10.0
_names = itertools.count()


class Sim:
    def __init__(self, sim: Simulator, spec: str, trace: io.StringIO) -> None:
        self.sim = sim
        self.spec = spec
        self._trace = trace

    def writes(self) -> list[dict[str, Any]]:
        records = [json.loads(line) for line in self._trace.getvalue().splitlines()]
        return [r for r in records if r["kind"] == "write"]

    def written_hex(self) -> list[str]:
        return [w["hex"] for w in self.writes()]

    def options(self, **overrides: Any) -> LinkOptions:
        base: dict[str, Any] = {"backend": "bumble", "transport": self.spec, "idle_release_s": None}
        base.update(overrides)
        return LinkOptions(**base)

    async def belt(self, predicate: Any) -> int:
        async with asyncio.timeout(DEADLINE):
            state = await self.sim.wait_for(lambda s: predicate(s.machine.belt_speed))
        return state.machine.belt_speed


@contextlib.asynccontextmanager
async def simulated(*quirks: Quirk, preset: str = "generic") -> AsyncIterator[Sim]:
    trace = io.StringIO()
    async with in_process_simulator(
        preset=preset, quirks=list(quirks), speedup=SPEEDUP, trace=trace
    ) as sim:
        with register_local_link(f"sim{next(_names)}", sim.link) as spec:
            yield Sim(sim, spec, trace)


async def reading_where(link: TreadmillLink, predicate: Any) -> Reading:
    async with asyncio.timeout(DEADLINE):
        async for item in link.observations():
            if isinstance(item, Reading) and item.speed is not None and predicate(item.speed):
                return item
    raise AssertionError("stream ended")


async def event_of(link: TreadmillLink, kind: EventKind) -> DeviceEvent:
    async with asyncio.timeout(DEADLINE):
        async for item in link.observations():
            if isinstance(item, DeviceEvent) and item.kind is kind:
                return item
    raise AssertionError("stream ended")


async def first_data(sim: Simulator, link: TreadmillLink) -> None:
    """Wait for the first (idle) Treadmill Data."""
    await reading_where(link, lambda s: s == 0)


async def running(link: TreadmillLink, speed: int, sim: Simulator) -> None:
    """Start the belt and bring it to ``speed``."""
    await first_data(sim, link)
    await link.start()
    await link.set_target_speed(speed)
    await reading_where(link, lambda s: s == speed)


async def test_a_spec_strict_treadmill_session() -> None:
    async with simulated() as s, TreadmillLink(s.options()) as link:
        assert link.info.speed_range is not None
        assert link.info.speed_range.minimum == 50
        assert link.info.incline_range is not None
        await running(link, 250, s.sim)
        await link.set_target_incline(20)
        await link.stop()
        assert await s.belt(lambda v: v == 0) == 0
        assert s.written_hex() == ["00", "07", "02fa00", "031400", "0801"]
        assert {w["result"] for w in s.writes()} == {1}


@pytest.mark.parametrize("code", [2, 3, 4, 5])
async def test_every_result_code_from_the_simulator_is_typed(code: int) -> None:
    async with simulated() as s, TreadmillLink(s.options()) as link:
        await link.request_control()
        await s.sim.answer_next_with(code)
        with pytest.raises(ControlRefused) as caught:
            await link.set_target_incline(10)
        assert (caught.value.result_code, caught.value.op_code) == (code, 0x03)


async def test_the_device_information_service_is_read_at_connect() -> None:
    async with simulated() as s, TreadmillLink(s.options()) as link:
        identity = link.info.identity
        assert identity is not None
        assert identity.manufacturer == s.sim.preset.identity["manufacturer"]
        assert identity.model_number == s.sim.preset.identity["model_number"]
        assert identity.serial_number == s.sim.preset.identity["serial_number"]
        assert identity.firmware_revision == s.sim.preset.identity["firmware_revision"]
        assert identity.software_revision is None  # the simulator offers none


async def test_discovery_without_service_data() -> None:
    async with simulated(Quirk.NO_SERVICE_DATA) as s, TreadmillLink(s.options()) as link:
        assert link.info.address == s.sim.address


async def test_toggle_start_pad_is_never_sent_start_while_running() -> None:
    async with simulated(Quirk.START_IS_A_TOGGLE) as s, TreadmillLink(s.options()) as link:
        await running(link, 200, s.sim)
        with pytest.raises(BeltMoving):
            await link.start()
        assert await s.belt(lambda v: v > 0) == 200  # still running
        assert s.written_hex().count("07") == 1


async def test_mph_pad_is_flagged_and_speed_ups_refused() -> None:
    async with simulated(Quirk.TARGET_SPEED_IN_MPH) as s, TreadmillLink(s.options()) as link:
        await first_data(s.sim, link)
        await link.start()
        await link.set_target_speed(200)
        event = await event_of(link, EventKind.MPH_SUSPECTED)
        assert event.value is not None
        assert 310 <= event.value <= 330  # 2.00 mph = 3.22 km/h
        with pytest.raises(MphSuspected):
            await link.set_target_speed(250)
        await link.set_target_speed(150)
        assert s.written_hex()[-1] == "029600"
        assert "02fa00" not in s.written_hex()


async def test_min_speed_revert_pad_never_gets_a_target_below_its_minimum() -> None:
    async with simulated(Quirk.MIN_SPEED_REVERT) as s, TreadmillLink(s.options()) as link:
        await running(link, 100, s.sim)
        with pytest.raises(SpeedOutOfRange):
            await link.set_target_speed(30)
        await link.set_target_speed(57)  # rounds down to 0.50 km/h, the minimum
        assert s.written_hex()[-1] == "023200"
        speeds = [
            int.from_bytes(bytes.fromhex(h)[1:3], "little")
            for h in s.written_hex()
            if h[:2] == "02"
        ]
        assert min(speeds) >= 50


async def test_cold_start_pad_keeps_the_link_because_speed_waits_for_the_belt() -> None:
    async with simulated(Quirk.COLD_START_DISCONNECT) as s, TreadmillLink(s.options()) as link:
        await first_data(s.sim, link)
        await link.start()
        await link.set_target_speed(300)  # issued at once; the link holds it until the belt moves
        await reading_where(link, lambda v: v == 300)
        assert link.connected
        assert not any(w.get("disconnected") for w in s.writes())


@pytest.mark.parametrize(
    "quirk",
    [Quirk.INDICATE_BEFORE_WRITE_RESPONSE, Quirk.BARE_RESULT_BYTE, Quirk.PADDED_STATUS_FRAMES],
)
async def test_answer_order_and_shape_quirks(quirk: Quirk) -> None:
    async with simulated(quirk) as s, TreadmillLink(s.options()) as link:
        await running(link, 150, s.sim)
        await link.stop()
        assert s.written_hex() == ["00", "07", "029600", "0801"]


async def test_citysports_preset_end_to_end() -> None:
    async with simulated(preset="citysports-wp8") as s, TreadmillLink(s.options()) as link:
        assert link.info.incline_range is None  # no 0x2AD5 on this pad
        assert link.info.speed_range is not None
        assert link.info.speed_range.increment == 50
        await running(link, 200, s.sim)
        with pytest.raises(InclineOutOfRange):
            await link.set_target_incline(10)
        await link.set_target_speed(270)  # 2.70 -> 2.50 km/h on a 0.5 km/h grid
        await reading_where(link, lambda v: v == 250)
        assert s.written_hex() == ["00", "07", "02c800", "02fa00"]


async def test_training_status_read_failure_degrades() -> None:
    async with (
        simulated(Quirk.TRAINING_STATUS_READ_FAILS, Quirk.NO_INCLINATION_RANGE) as s,
        TreadmillLink(s.options()) as link,
    ):
        assert link.stats["read_failed_2ad3"] == 1
        assert link.info.incline_range is None
        await running(link, 100, s.sim)


async def test_console_and_safety_key_become_events() -> None:
    async with simulated() as s, TreadmillLink(s.options()) as link:
        await running(link, 200, s.sim)
        await s.sim.pull_safety_key()
        await event_of(link, EventKind.SAFETY_KEY)
        await s.sim.insert_safety_key()
        await s.sim.press_start()
        await event_of(link, EventKind.CONSOLE_START)
        await s.sim.press_stop()
        await event_of(link, EventKind.CONSOLE_STOP)


async def test_an_indication_that_never_comes_hits_the_deadline() -> None:
    async with simulated() as s, TreadmillLink(s.options(control_timeout_s=0.3)) as link:
        await s.sim.drop_next_indication()
        with pytest.raises(ControlTimeout):
            await link.request_control()


async def test_disconnect_mid_procedure() -> None:
    async with simulated() as s, TreadmillLink(s.options(control_timeout_s=30)) as link:
        await s.sim.delay_next_indication(20)
        pending = asyncio.create_task(link.request_control())
        async with asyncio.timeout(DEADLINE):
            await s.sim.wait_for(lambda st: st.procedure_pending)
            await s.sim.disconnect_now()
            with pytest.raises(NotConnected):
                await pending
        assert not link.connected


async def test_reconnect_never_restarts_the_belt() -> None:
    async with simulated() as s:
        supervisor = ReconnectSupervisor(
            lambda: TreadmillLink(s.options()), backoff=lambda _n: 0.05
        )
        items = supervisor.observations()

        async def state(wanted: LinkState) -> None:
            async with asyncio.timeout(DEADLINE):
                async for item in items:
                    if isinstance(item, LinkStateEvent) and item.state is wanted:
                        return

        async with asyncio.TaskGroup() as group:
            runner = group.create_task(supervisor.run())
            await state(LinkState.CONNECTED)
            async with asyncio.timeout(DEADLINE):
                async for item in items:
                    if isinstance(item, Reading) and item.speed == 0:
                        break
            await supervisor.port.start()
            await supervisor.port.set_target_speed(200)
            await s.belt(lambda v: v == 200)
            writes_before = s.written_hex()
            await s.sim.disconnect_now()
            await state(LinkState.DISCONNECTED)
            await state(LinkState.CONNECTED)
            async with asyncio.timeout(DEADLINE):
                async for item in items:  # the new link is set up and receiving
                    if isinstance(item, Reading):
                        break
            assert s.written_hex() == writes_before  # nothing sent after the reconnect
            assert not s.sim.state().machine.controlled
            with pytest.raises(BeltMoving):  # and the link still refuses Start while moving
                await supervisor.port.start()
            assert s.written_hex() == writes_before
            runner.cancel()
