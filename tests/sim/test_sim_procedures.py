"""Control point procedures and result codes over GATT (FTMS v1.0 §4.16, §4.17, §4.10),
with the generic (spec-strict) preset, seen by a plain Bumble client."""

from __future__ import annotations

import io
import json

import pytest
from bumble import att

from harness.simulator import AttEvent, FtmsClient, central, in_process_simulator, wait_state

SPEEDUP = 50.0


async def started(ftms: FtmsClient) -> None:
    assert await ftms.request(b"\x00") == bytes.fromhex("800001")
    assert await ftms.request(b"\x07") == bytes.fromhex("800701")


@pytest.mark.parametrize(
    ("request_hex", "response_hex"),
    [
        ("04 10", "80 04 02"),  # Set Target Resistance: not a treadmill procedure
        ("30", "80 30 02"),  # op code outside Table 4.15
        ("02 b1 04", "80 02 03"),  # 12.01 km/h > 12.00 maximum
        ("02 31 00", "80 02 03"),  # 0.49 km/h < 0.50 minimum
        ("02 96", "80 02 03"),  # parameter one byte short
        ("08 03", "80 08 03"),  # neither stop (1) nor pause (2)
        ("03 65 00", "80 03 03"),  # 10.1 % > 10.0 % maximum incline
        ("08 01", "80 08 04"),  # Stop while stopped: Operation Failed
        ("0d 3c 00", "80 0d 01"),  # Set Targeted Training Time
    ],
)
async def test_result_codes(request_hex: str, response_hex: str) -> None:
    async with (
        in_process_simulator(preset="generic", speedup=SPEEDUP) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        assert await ftms.request(b"\x00") == bytes.fromhex("800001")
        assert await ftms.request(bytes.fromhex(request_hex)) == bytes.fromhex(response_hex)


async def test_start_speed_stop_notify_status_and_training_status() -> None:
    async with (
        in_process_simulator(preset="generic", speedup=SPEEDUP) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        begin = len(ftms.events)
        await started(ftms)
        assert await ftms.request(b"\x07") == bytes.fromhex("800704")  # already started
        await wait_state(sim, lambda s: s.machine.belt_speed > 0)
        assert await ftms.request(bytes.fromhex("02 c8 00")) == bytes.fromhex("800201")
        assert await ftms.request(bytes.fromhex("03 32 00")) == bytes.fromhex("800301")
        assert await ftms.request(bytes.fromhex("08 02")) == bytes.fromhex("800801")
        assert await ftms.request(b"\x07") == bytes.fromhex("800701")  # resume
        assert await ftms.request(bytes.fromhex("08 01")) == bytes.fromhex("800801")
        assert await ftms.request(b"\x01") == bytes.fromhex("800101")
        assert ftms.received(0x2ADA, start=begin) == [
            bytes.fromhex(h) for h in ("04", "05c800", "063200", "0202", "04", "0201", "01")
        ]
        assert ftms.received(0x2AD3, start=begin) == [
            bytes.fromhex(h) for h in ("000e", "000d", "000f", "0001")
        ]
        # Reset ended control permission (§4.16.2.2).
        assert await ftms.request(b"\x07") == bytes.fromhex("800705")


async def test_targeted_distance_and_time_are_acknowledged_with_status() -> None:
    async with (
        in_process_simulator(preset="generic", speedup=SPEEDUP) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        await ftms.request(b"\x00")
        begin = len(ftms.events)
        assert await ftms.request(bytes.fromhex("0c e8 03 00")) == bytes.fromhex("800c01")
        assert await ftms.request(bytes.fromhex("0d 3c 00")) == bytes.fromhex("800d01")
        # Status 0x0D Targeted Distance Changed (u24 m), 0x0E Training Time (u16 s), §4.17.
        assert ftms.received(0x2ADA, start=begin) == [
            bytes.fromhex("0de80300"),
            bytes.fromhex("0e3c00"),
        ]
        state = await wait_state(sim, lambda s: s.machine.remaining_s == 60)
        assert state.machine.remaining_s == 60


async def test_spec_order_write_response_before_indication() -> None:
    async with (
        in_process_simulator(preset="generic", speedup=SPEEDUP) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        start = len(ftms.events)
        await ftms.request(b"\x00")
        kinds = [e.kind for e in ftms.events[start:] if e.uuid16 != 0x2ACD]
        assert kinds == ["write_response", "indication"]


async def test_write_while_a_procedure_is_pending_is_att_error_fe() -> None:
    async with (
        in_process_simulator(preset="generic", speedup=SPEEDUP) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        await sim.delay_next_indication(60.0)  # the indication of the next write stays pending
        await ftms.write(b"\x00")  # spec order: the write response comes at once
        with pytest.raises(att.ATT_Error) as error:
            await ftms.write(b"\x07")
        assert error.value.error_code == 0xFE
        assert sim.state().procedure_pending


async def test_empty_write_is_att_error_invalid_length() -> None:
    async with (
        in_process_simulator(preset="generic", speedup=SPEEDUP) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        with pytest.raises(att.ATT_Error) as error:
            await ftms.write(b"")
        assert error.value.error_code == 0x0D


async def test_trace_records_every_write_and_belt_change() -> None:
    sink = io.StringIO()
    async with (
        in_process_simulator(preset="generic", speedup=SPEEDUP, trace=sink) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        await started(ftms)
        await wait_state(sim, lambda s: s.machine.belt_speed == 50)
        await ftms.request(bytes.fromhex("02 96 00"))
        await wait_state(sim, lambda s: s.machine.belt_speed == 150)
    records = [json.loads(line) for line in sink.getvalue().splitlines()]
    writes = [(r["hex"], r["result"]) for r in records if r["kind"] == "write"]
    assert writes == [("00", 1), ("07", 1), ("029600", 1)]
    belt = [r["speed"] for r in records if r["kind"] == "belt"]
    assert belt == sorted(belt)
    assert belt[-1] == 150
    assert {50, 150} <= set(belt)
    times = [r["t"] for r in records]
    assert times == sorted(times)


async def test_treadmill_data_is_split_per_more_data_at_mtu_23() -> None:
    """The gym preset's record (24 bytes) does not fit one 20-byte notification (§4.19)."""
    async with (
        in_process_simulator(preset="gym-treadmill", speedup=SPEEDUP, walker=True) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        await started(ftms)
        await wait_state(sim, lambda s: s.machine.belt_speed > 0)
        begin = len(ftms.events)

        def is_data(e: AttEvent) -> bool:
            return e.uuid16 == 0x2ACD

        i, first = await ftms.wait_event(lambda e: is_data(e) and e.value[0] & 1 == 1, start=begin)
        _, last = await ftms.wait_event(is_data, start=i + 1)
        assert len(first.value) <= 20
        assert len(last.value) <= 20
        assert last.value[0] & 1 == 0  # the last fragment carries the speed (More Data = 0)
        flags = int.from_bytes(first.value[:2], "little") | int.from_bytes(last.value[:2], "little")
        # Together: avg speed, distance, incline, elevation, energy, HR, elapsed, remaining.
        assert flags & 0x0D9E == 0x0D9E
