"""The simulator's GATT server seen by a plain Bumble client on the same LocalLink.

FTMS v1.0 §4 (characteristics), §4.16 (control point procedures and result codes), §4.17.
"""

from __future__ import annotations

import pytest
from bumble import att
from bumble.core import UUID, AdvertisingData

from harness.simulator import central, in_process_simulator, wait_state

SPEEDUP = 50.0


async def test_advertises_ftms_uuid_and_treadmill_service_data() -> None:
    async with (
        in_process_simulator(preset="generic", speedup=SPEEDUP) as sim,
        central(sim.link) as c,
    ):
        adv = await c.scan()
        assert str(adv.address) == sim.address
        uuids = adv.data.get(AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS)
        assert uuids is not None
        assert UUID.from_16_bits(0x1826) in uuids
        service_data = adv.data.get_all(AdvertisingData.SERVICE_DATA_16_BIT_UUID, raw=True)
        # 26 18 = UUID 0x1826, then flags 0x01 (available) and machine type 0x0001 (treadmill).
        assert service_data == [bytes.fromhex("2618010100")]
        assert adv.is_connectable


async def test_characteristics_and_reads_of_generic_preset() -> None:
    async with (
        in_process_simulator(preset="generic", speedup=SPEEDUP) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        assert set(ftms.characteristics) >= {
            0x2ACC,
            0x2ACD,
            0x2AD3,
            0x2AD4,
            0x2AD5,
            0x2AD9,
            0x2ADA,
        }
        # 0.50 .. 12.00 km/h in 0.10 steps (u16 x3, 0.01 km/h).
        assert await ftms.read(0x2AD4) == bytes.fromhex("3200 b004 0a00")
        # 0.0 .. 10.0 % in 0.5 steps (s16, s16, u16, 0.1 %).
        assert await ftms.read(0x2AD5) == bytes.fromhex("0000 6400 0500")
        assert await ftms.read(0x2AD3) == bytes.fromhex("0001")  # no string, Idle
        assert await ftms.read(0x2ACC) == bytes.fromhex("0c120000 03000000")


async def test_control_point_needs_request_control_then_succeeds() -> None:
    async with (
        in_process_simulator(preset="generic", speedup=SPEEDUP) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        assert await ftms.request(bytes.fromhex("07")) == bytes.fromhex("800705")
        assert await ftms.request(bytes.fromhex("00")) == bytes.fromhex("800001")
        assert await ftms.request(bytes.fromhex("07")) == bytes.fromhex("800701")
        state = await wait_state(sim, lambda s: s.machine.belt_speed > 0)
        assert state.machine.target_speed == 50  # the generic preset starts at its minimum


async def test_write_without_indications_enabled_is_att_error_fd() -> None:
    async with (
        in_process_simulator(preset="generic", speedup=SPEEDUP) as sim,
        central(sim.link) as c,
        c.connect_ftms(subscribe=False) as ftms,
    ):
        with pytest.raises(att.ATT_Error) as error:
            await ftms.write(bytes.fromhex("00"))
        assert error.value.error_code == 0xFD
        assert sim.state().machine.controlled is False
