"""Every quirk flag, observed by a plain Bumble client (the generic preset plus one flag)."""

from __future__ import annotations

import asyncio

import pytest
from bumble import att, core
from bumble.core import AdvertisingData

from harness.simulator import FtmsClient, central, in_process_simulator, wait_state
from simulators.treadsim import Quirk
from treadctl.ftms import TreadmillData

SPEEDUP = 50.0


def sim_with(*quirks: Quirk, speedup: float = SPEEDUP):  # type: ignore[no-untyped-def]
    return in_process_simulator(preset="generic", speedup=speedup, quirks=quirks)


async def start(ftms: FtmsClient) -> None:
    assert (await ftms.request(b"\x00"))[-1] == 0x01
    assert (await ftms.request(b"\x07"))[-1] == 0x01


async def test_start_is_a_toggle_stops_a_running_belt() -> None:
    async with (
        sim_with(Quirk.START_IS_A_TOGGLE) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        await start(ftms)
        await wait_state(sim, lambda s: s.machine.belt_speed > 0)
        begin = len(ftms.events)
        assert await ftms.request(b"\x07") == bytes.fromhex("800701")
        assert bytes.fromhex("0201") in ftms.received(0x2ADA, start=begin)
        await wait_state(sim, lambda s: s.machine.belt_speed == 0)


async def test_target_speed_in_mph_runs_the_belt_1_609_times_faster() -> None:
    async with (
        sim_with(Quirk.TARGET_SPEED_IN_MPH) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        await start(ftms)
        begin = len(ftms.events)
        assert await ftms.request(bytes.fromhex("02 64 00")) == bytes.fromhex("800201")
        assert ftms.received(0x2ADA, start=begin) == [bytes.fromhex("056400")]  # as written
        state = await wait_state(sim, lambda s: s.machine.belt_speed == 160)
        assert state.machine.target_speed == 160  # 1.00 "mph" -> 1.60 km/h (0.1 grid)


async def test_speed_range_in_mph() -> None:
    async with (
        sim_with(Quirk.SPEED_RANGE_IN_MPH) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        # 0.50 / 12.00 / 0.10 km/h reported as 0.31 / 7.45 / 0.06 "mph".
        assert await ftms.read(0x2AD4) == bytes.fromhex("1f00 e902 0600")


async def test_min_speed_revert_accepts_a_low_target_and_runs_at_the_minimum() -> None:
    async with (
        sim_with(Quirk.MIN_SPEED_REVERT) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        await start(ftms)
        await wait_state(sim, lambda s: s.machine.belt_speed > 0)
        begin = len(ftms.events)
        assert await ftms.request(bytes.fromhex("02 20 00")) == bytes.fromhex("800201")
        assert ftms.received(0x2ADA, start=begin) == [bytes.fromhex("052000")]
        assert sim.state().machine.target_speed == 50


async def test_cold_start_disconnect_drops_the_link_on_a_speed_during_spin_up() -> None:
    async with (
        sim_with(Quirk.COLD_START_DISCONNECT, speedup=5) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        await start(ftms)  # countdown: motor spinning up, belt still at 0
        begin = len(ftms.events)
        # The link drops mid-write: Bumble cancels the pending ATT request.
        with pytest.raises((asyncio.CancelledError, core.ConnectionError, att.ATT_Error)):
            await ftms.write(bytes.fromhex("02 96 00"))
        await ftms.disconnected.wait()
        assert ftms.received(0x2AD9, start=begin) == []
        assert not sim.state().connected


async def test_indicate_before_write_response() -> None:
    async with (
        sim_with(Quirk.INDICATE_BEFORE_WRITE_RESPONSE) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        begin = len(ftms.events)
        await ftms.write(b"\x00")
        kinds = [e.kind for e in ftms.events[begin:] if e.uuid16 != 0x2ACD]
        assert kinds == ["indication", "write_response"]


async def test_bare_result_byte() -> None:
    async with (
        sim_with(Quirk.BARE_RESULT_BYTE) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        assert await ftms.request(b"\x07") == b"\x05"
        assert await ftms.request(b"\x00") == b"\x01"


async def test_vendor_step_count_sets_flag_bit_13() -> None:
    async with (
        sim_with(Quirk.VENDOR_STEP_COUNT) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        # The record (21 bytes) is split; the step count rides in one fragment.
        _, event = await ftms.wait_event(lambda e: e.uuid16 == 0x2ACD and bool(e.value[1] & 0x20))
        record, diagnostics = TreadmillData.decode(event.value)
        assert record.step_count == 0
        assert diagnostics == ()


async def test_zero_frame_spam_sends_all_zero_frames_while_still() -> None:
    async with (
        sim_with(Quirk.ZERO_FRAME_SPAM) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        begin = len(ftms.events)
        await ftms.wait_event(lambda e: e.uuid16 == 0x2ACD, start=begin)
        await ftms.wait_event(lambda e: e.uuid16 == 0x2ACD, start=len(ftms.events))
        frames = ftms.received(0x2ACD, start=begin)
        assert frames
        assert all(f == bytes(len(f)) for f in frames)


async def test_no_inclination_range() -> None:
    async with (
        sim_with(Quirk.NO_INCLINATION_RANGE) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        assert 0x2AD5 not in ftms.characteristics
        assert await ftms.request(b"\x00") == bytes.fromhex("800001")
        assert await ftms.request(bytes.fromhex("03 0a 00")) == bytes.fromhex("800302")


async def test_training_status_read_fails() -> None:
    async with (
        sim_with(Quirk.TRAINING_STATUS_READ_FAILS) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        with pytest.raises(att.ATT_Error) as error:
            await ftms.read(0x2AD3)
        assert error.value.error_code == 0x0E


async def test_console_lock_while_controlled() -> None:
    async with (
        sim_with(Quirk.CONSOLE_LOCK_WHILE_CONTROLLED) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        await start(ftms)
        await wait_state(sim, lambda s: s.machine.belt_speed > 0)
        result = await sim.press_stop()
        assert not result.done
        assert sim.state().machine.phase.value == "running"
        assert (await sim.pull_safety_key()).done  # the safety key always works


async def test_no_service_data() -> None:
    async with sim_with(Quirk.NO_SERVICE_DATA) as sim, central(sim.link) as c:
        adv = await c.scan()
        assert adv.data.get_all(AdvertisingData.SERVICE_DATA_16_BIT_UUID, raw=True) == []


async def test_padded_status_frames() -> None:
    async with (
        sim_with(Quirk.PADDED_STATUS_FRAMES) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        begin = len(ftms.events)
        await start(ftms)
        assert ftms.received(0x2ADA, start=begin) == [bytes.fromhex("040000")]


async def test_empty_training_string() -> None:
    async with (
        sim_with(Quirk.EMPTY_TRAINING_STRING) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        assert await ftms.read(0x2AD3) == bytes.fromhex("0101")


async def test_permissive_control_and_start_while_running_succeeds() -> None:
    quirks = (Quirk.PERMISSIVE_CONTROL, Quirk.START_WHILE_RUNNING_SUCCEEDS)
    async with sim_with(*quirks) as sim, central(sim.link) as c, c.connect_ftms() as ftms:
        assert await ftms.request(b"\x07") == bytes.fromhex("800701")
        assert await ftms.request(b"\x07") == bytes.fromhex("800701")
