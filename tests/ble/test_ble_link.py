"""TreadmillLink against a Bumble FTMS peripheral over an in-process LocalLink (fast tier).

Every assertion is about the bytes the treadmill received (``cp_writes``), what it had reported
when they arrived (``speed_at_write``), or what the link reported (observations, errors).
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

import pytest
from bumble.link import LocalLink

from harness.peripheral import FtmsPeripheral, peripheral
from treadctl.ble.errors import (
    BeltMoving,
    BeltStateUnknown,
    ConnectFailed,
    ControlRefused,
    ControlResponseMismatch,
    ControlTimeout,
    DeviceNotFound,
    InclineOutOfRange,
    MphSuspected,
    NotATreadmill,
    NotConnected,
    SpeedOutOfRange,
)
from treadctl.ble.link import TreadmillLink
from treadctl.ble.options import LinkOptions
from treadctl.control.governed import GovernedTreadmill
from treadctl.observations import DeviceEvent, EventKind, Observation, Reading

DEADLINE = 5.0


def options(spec: str, **overrides: object) -> LinkOptions:
    base: dict[str, object] = {
        "backend": "bumble",
        "transport": spec,
        "idle_release_s": None,
        "scan_timeout_s": 5.0,
    }
    base.update(overrides)
    return LinkOptions(**base)  # type: ignore[arg-type]


async def next_matching(
    link: TreadmillLink, wanted: type[Reading] | EventKind, *, where: object = None
) -> Observation:
    async with asyncio.timeout(DEADLINE):
        async for item in link.observations():
            if isinstance(wanted, EventKind):
                if isinstance(item, DeviceEvent) and item.kind is wanted:
                    return item
            elif isinstance(item, wanted) and (where is None or item.speed == where):
                return item
    raise AssertionError(f"stream ended before {wanted}")


async def reported(tread: FtmsPeripheral, link: TreadmillLink, speed: int) -> None:
    """The peripheral reports ``speed`` and the link has seen it."""
    await tread.notify_speed(speed)
    await next_matching(link, Reading, where=speed)


@pytest.fixture
async def tread(link: LocalLink) -> AsyncIterator[FtmsPeripheral]:
    async with peripheral(link) as p:
        yield p


@pytest.fixture
async def tl(tread: FtmsPeripheral, spec: str) -> AsyncIterator[TreadmillLink]:
    async with TreadmillLink(options(spec)) as link:
        yield link


# -- discovery and set-up ----------------------------------------------------------------------


async def test_connect_reads_ranges_and_announces_itself(tl: TreadmillLink) -> None:
    assert tl.connected
    assert tl.info.address == "F1:F2:F3:F4:F5:F6"
    assert tl.info.name == "TestTread"
    assert (tl.info.speed_range.minimum, tl.info.speed_range.maximum) == (50, 600)  # type: ignore[union-attr]
    assert tl.info.incline_range is not None
    first = await anext(tl.observations())
    assert isinstance(first, DeviceEvent)
    assert first.kind is EventKind.CONNECTED


@pytest.mark.parametrize(
    "config",
    [
        {"service_data": False},  # UUID only: the fallback
        {"service_data": True, "advertise_uuid": False},  # Service Data only
    ],
)
async def test_discovery_with_and_without_service_data(
    link: LocalLink, spec: str, config: dict[str, bool]
) -> None:
    async with peripheral(link, **config), TreadmillLink(options(spec, scan_timeout_s=5)) as tl:
        assert tl.info.address == "F1:F2:F3:F4:F5:F6"


async def test_discovery_by_name_of_a_device_that_advertises_nothing_ftms(
    link: LocalLink, spec: str
) -> None:
    async with (
        peripheral(link, service_data=False, advertise_uuid=False),
        TreadmillLink(options(spec, name="TestTread")) as tl,
    ):
        assert tl.connected


async def test_without_treadmill_data_the_device_is_refused_after_connecting(
    link: LocalLink, spec: str
) -> None:
    async with peripheral(link, treadmill_data=False) as tread:
        with pytest.raises(NotATreadmill):
            async with TreadmillLink(options(spec, name="TestTread")):
                pass
        assert tread.connection is None  # the link let go


async def test_a_link_lost_during_set_up_is_connect_failed(link: LocalLink, spec: str) -> None:
    async with peripheral(link, drop_on_range_read=True) as tread:
        with pytest.raises(ConnectFailed):
            async with TreadmillLink(options(spec)):
                pass
        assert tread.connection is None


async def test_closing_the_link_reports_why(tread: FtmsPeripheral, spec: str) -> None:
    link = TreadmillLink(options(spec))
    async with link:
        pass
    items = [item async for item in link.observations()]
    last = items[-1]
    assert isinstance(last, DeviceEvent)
    assert (last.kind, last.detail) == (EventKind.DISCONNECTED, "closed by the daemon")
    assert not link.connected


async def test_nothing_advertising_is_device_not_found(spec: str) -> None:
    with pytest.raises(DeviceNotFound):
        async with TreadmillLink(options(spec, scan_timeout_s=0.3)):
            pass


async def test_missing_incline_range_and_failing_training_status_degrade(
    link: LocalLink, spec: str
) -> None:
    config = {"incline_range": None, "training_read_fails": True}
    async with peripheral(link, **config) as tread, TreadmillLink(options(spec)) as tl:
        assert tl.info.incline_range is None
        assert tl.info.speed_range is not None
        assert tl.stats["read_failed_2ad3"] == 1
        with pytest.raises(InclineOutOfRange):
            await tl.set_target_incline(10)
        assert tread.cp_writes == []


# -- control procedures ------------------------------------------------------------------------


async def test_control_is_requested_once_before_the_first_command(
    tread: FtmsPeripheral, tl: TreadmillLink
) -> None:
    await reported(tread, tl, 0)
    await tl.start()
    await reported(tread, tl, 100)
    await tl.set_target_speed(200)
    await tl.set_target_incline(15)
    await tl.pause()
    await tl.stop()
    assert tread.cp_writes == [
        b"\x00",
        b"\x07",
        b"\x02" + struct.pack("<H", 200),
        b"\x03" + struct.pack("<h", 15),
        b"\x08\x02",
        b"\x08\x01",
    ]


@pytest.mark.parametrize("status", [b"\x01", b"\xff"])
async def test_control_is_requested_again_after_reset_or_control_lost(
    tread: FtmsPeripheral, tl: TreadmillLink, status: bytes
) -> None:
    await tl.stop()
    tread.has_control = False
    await tread.notify_status(status)
    await next_matching(tl, EventKind.RESET if status == b"\x01" else EventKind.CONTROL_LOST)
    assert not tl.has_control
    await tl.stop()
    assert tread.cp_writes == [b"\x00", b"\x08\x01", b"\x00", b"\x08\x01"]


COMMANDS = {
    "speed": (lambda tl: tl.set_target_speed(300), 0x02),
    "incline": (lambda tl: tl.set_target_incline(20), 0x03),
    "stop": (lambda tl: tl.stop(), 0x08),
    "pause": (lambda tl: tl.pause(), 0x08),
}


@pytest.mark.parametrize("result", [0x02, 0x03, 0x04, 0x05])
@pytest.mark.parametrize("command", sorted(COMMANDS))
async def test_every_result_code_becomes_a_typed_refusal(
    tread: FtmsPeripheral, tl: TreadmillLink, command: str, result: int
) -> None:
    call, op = COMMANDS[command]
    tread.results[op] = result
    with pytest.raises(ControlRefused) as caught:
        await call(tl)  # type: ignore[no-untyped-call]
    assert (caught.value.result_code, caught.value.op_code) == (result, op)
    assert tread.cp_writes[-1][0] == op
    assert tl.has_control is (result != 0x05)


@pytest.mark.parametrize("result", [0x02, 0x03, 0x04, 0x05])
async def test_a_refused_start_carries_its_result_code(
    tread: FtmsPeripheral, tl: TreadmillLink, result: int
) -> None:
    await reported(tread, tl, 0)
    tread.results[0x07] = result
    with pytest.raises(ControlRefused) as caught:
        await tl.start()
    assert (caught.value.result_code, caught.value.op_code) == (result, 0x07)


async def test_a_refused_request_control_backs_off_without_writing(
    tread: FtmsPeripheral, tl: TreadmillLink
) -> None:
    tread.results[0x00] = 0x04
    with pytest.raises(ControlRefused) as first:
        await tl.stop()
    with pytest.raises(ControlRefused) as second:
        await tl.stop()
    assert first.value.op_code == second.value.op_code == 0x00
    assert tread.cp_writes == [b"\x00"]  # the second refusal came from the backoff, unsent


@pytest.mark.parametrize("mode", ["indicate-first", "bare"])
async def test_indication_first_and_bare_result_byte_are_accepted(
    tread: FtmsPeripheral, tl: TreadmillLink, mode: str
) -> None:
    tread.mode = mode  # type: ignore[assignment]
    await tl.set_target_speed(120)
    assert tread.cp_writes == [b"\x00", b"\x02" + struct.pack("<H", 120)]


async def test_a_response_to_another_op_is_a_protocol_error(
    tread: FtmsPeripheral, tl: TreadmillLink
) -> None:
    tread.mode = "wrong-op"
    with pytest.raises(ControlResponseMismatch) as caught:
        await tl.request_control()
    assert (caught.value.expected_op, caught.value.got_op) == (0x00, 0x01)


async def test_a_control_point_that_never_indicates_hits_the_deadline(
    tread: FtmsPeripheral, spec: str
) -> None:
    tread.mode = "silent"
    async with TreadmillLink(options(spec, control_timeout_s=0.2)) as tl:
        with pytest.raises(ControlTimeout) as caught:
            await tl.request_control()
        assert caught.value.op_code == 0x00
        assert caught.value.deadline_s == 0.2


async def test_disconnect_mid_procedure_fails_it_with_not_connected(
    tread: FtmsPeripheral, spec: str
) -> None:
    tread.mode = "silent"
    async with TreadmillLink(options(spec, control_timeout_s=30)) as tl:
        pending = asyncio.create_task(tl.request_control())
        async with asyncio.timeout(DEADLINE):
            await tread.next_write()
            await tread.drop_connection()
            with pytest.raises(NotConnected):
                await pending
        assert not tl.connected
        event = await next_matching(tl, EventKind.DISCONNECTED)
        assert isinstance(event, DeviceEvent)
        with pytest.raises(NotConnected):
            await tl.stop()


# -- real-device rules -------------------------------------------------------------------------


async def test_start_is_never_sent_while_the_belt_moves(
    tread: FtmsPeripheral, tl: TreadmillLink
) -> None:
    await reported(tread, tl, 80)
    with pytest.raises(BeltMoving) as caught:
        await tl.start()
    assert caught.value.speed == 80
    assert b"\x07" not in tread.cp_writes


async def test_start_without_any_reported_speed_is_refused(
    tread: FtmsPeripheral, spec: str
) -> None:
    async with TreadmillLink(options(spec, first_reading_timeout_s=0.1)) as tl:
        with pytest.raises(BeltStateUnknown):
            await tl.start()
    assert tread.cp_writes == []


async def test_after_start_speed_is_written_only_once_the_belt_moves(
    tread: FtmsPeripheral, tl: TreadmillLink
) -> None:
    await reported(tread, tl, 0)
    await tl.start()
    setting = asyncio.create_task(tl.set_target_speed(150))
    for _ in range(3):
        await reported(tread, tl, 0)  # spinning up: still 0
    assert not setting.done()
    await tread.notify_speed(60)
    async with asyncio.timeout(DEADLINE):
        await setting
    assert tread.cp_writes[-1] == b"\x02" + struct.pack("<H", 150)
    assert tread.speed_at_write[-1] == 60


async def test_after_the_cold_start_timeout_the_speed_write_is_allowed(
    tread: FtmsPeripheral, spec: str
) -> None:
    async with TreadmillLink(options(spec, cold_start_timeout_s=0.1)) as tl:
        await reported(tread, tl, 0)
        await tl.start()
        await tl.set_target_speed(150)
    assert tread.cp_writes[-1] == b"\x02" + struct.pack("<H", 150)


async def test_speeds_round_down_and_never_leave_the_device_range(
    tread: FtmsPeripheral, tl: TreadmillLink
) -> None:
    # device range 0.50-6.00 km/h, increment 0.10 km/h
    await tl.set_target_speed(259)
    await tl.set_target_speed(9999)
    with pytest.raises(SpeedOutOfRange) as caught:
        await tl.set_target_speed(49)  # below minimum: refused, never rounded up to 0.50
    assert caught.value.minimum == 50
    assert tread.cp_writes == [
        b"\x00",
        b"\x02" + struct.pack("<H", 250),
        b"\x02" + struct.pack("<H", 600),
    ]


async def test_an_mph_device_is_flagged_and_speed_ups_refused(
    tread: FtmsPeripheral, tl: TreadmillLink
) -> None:
    await tl.set_target_speed(200)
    for _ in range(3):
        await tread.notify_speed(322)  # 2.00 "mph" = 3.22 km/h
    event = await next_matching(tl, EventKind.MPH_SUSPECTED)
    assert isinstance(event, DeviceEvent)
    assert event.value == 322
    with pytest.raises(MphSuspected):
        await tl.set_target_speed(210)
    await tl.set_target_speed(150)  # slowing down stays allowed
    tl.clear_mph_suspicion()
    await tl.set_target_speed(160)
    assert tread.cp_writes[1:] == [b"\x02" + struct.pack("<H", s) for s in (200, 150, 160)]


async def test_a_belt_ramping_through_the_ratio_is_not_flagged(
    tread: FtmsPeripheral, tl: TreadmillLink
) -> None:
    await tl.set_target_speed(200)
    for speed in (400, 360, 322, 290, 250, 220, 200, 200, 200):  # slowing down from 4 km/h
        await reported(tread, tl, speed)
    assert tl.mph_suspected is None


# -- telemetry ---------------------------------------------------------------------------------


async def test_more_data_fragments_merge_into_one_reading(
    tread: FtmsPeripheral, tl: TreadmillLink
) -> None:
    # fragment 1: More Data set, distance only; fragment 2: speed (FTMS §4.19)
    await tread.notify(tread.data_char, struct.pack("<H", 0x0005) + (1234).to_bytes(3, "little"))
    await tread.notify(tread.data_char, struct.pack("<HH", 0x0000, 250))
    reading = await next_matching(tl, Reading)
    assert isinstance(reading, Reading)
    assert (reading.speed, reading.distance_m) == (250, 1234)


async def test_machine_status_becomes_events(tread: FtmsPeripheral, tl: TreadmillLink) -> None:
    frames = [b"\x03", b"\x02\x01", b"\x02\x02\x00", b"\x04\x00\x00", b"\x05\xc8\x00", b"\xff"]
    for frame in frames:
        await tread.notify_status(frame)
    await tread.notify_status(b"\x01")
    seen: list[tuple[EventKind, int | None]] = []
    async with asyncio.timeout(DEADLINE):
        async for item in tl.observations():
            if isinstance(item, DeviceEvent) and item.kind not in (
                EventKind.CONNECTED,
                EventKind.TRAINING_STATUS,
            ):
                seen.append((item.kind, item.value))
                if item.kind is EventKind.RESET:
                    break
    assert seen == [
        (EventKind.SAFETY_KEY, None),
        (EventKind.CONSOLE_STOP, None),
        (EventKind.CONSOLE_PAUSE, None),
        (EventKind.CONSOLE_START, None),
        (EventKind.TARGET_SPEED_CHANGED, 200),
        (EventKind.CONTROL_LOST, None),
        (EventKind.RESET, None),
    ]


async def test_a_slow_consumer_loses_old_readings_but_no_safety_event(
    tread: FtmsPeripheral, spec: str
) -> None:
    async with TreadmillLink(options(spec, max_queued_readings=4)) as tl:
        for speed in range(100, 120):
            await tread.notify_speed(speed)
        await tread.notify_status(b"\x03")
        await tread.notify_speed(500)
        items: list[Observation] = []
        async with asyncio.timeout(DEADLINE):
            async for item in tl.observations():
                items.append(item)
                if isinstance(item, Reading) and item.speed == 500:
                    break
        assert tl.dropped_readings >= 15
        kinds = [i.kind for i in items if isinstance(i, DeviceEvent)]
        assert EventKind.SAFETY_KEY in kinds
        speeds = [i.speed for i in items if isinstance(i, Reading) and i.speed is not None]
        assert speeds == sorted(speeds)  # order kept
        assert speeds[0] >= 115  # the oldest were dropped, not the newest


# -- control release ---------------------------------------------------------------------------


async def test_control_is_released_by_reset_when_idle_and_stopped(
    tread: FtmsPeripheral, spec: str
) -> None:
    async with TreadmillLink(options(spec, idle_release_s=0.1)) as tl:
        await reported(tread, tl, 0)
        await tl.stop()
        async with asyncio.timeout(DEADLINE):
            while tread.cp_writes[-1] != b"\x01":
                await tread.next_write()
        await tl.stop()  # control was given back: it is requested again
    assert tread.cp_writes[:5] == [b"\x00", b"\x08\x01", b"\x01", b"\x00", b"\x08\x01"]
    assert set(tread.cp_writes[5:]) <= {b"\x01"}  # released again if the test ran slowly


async def test_our_idle_reset_is_no_safety_event_for_the_governor(
    tread: FtmsPeripheral, spec: str
) -> None:
    """Issue 12, defect 3: the link releases control with Reset when idle; the device answers
    with status 0x01 (Reset). That is the echo of our own procedure: the governor neither
    latches nor reports it as a ``reset`` safety event (which disarmed remote control)."""
    async with (
        TreadmillLink(options(spec, idle_release_s=0.1)) as tl,
        GovernedTreadmill(tl) as belt,
    ):
        stream = tl.observations()

        async def feed_until(kind: EventKind | None) -> None:
            async with asyncio.timeout(DEADLINE):
                async for item in stream:
                    belt.observe(item)
                    if kind is None and isinstance(item, Reading):
                        return
                    if isinstance(item, DeviceEvent) and item.kind is kind:
                        return

        await tread.notify_speed(0)
        await feed_until(None)
        belt.stop(reason="before the idle release")
        async with asyncio.timeout(DEADLINE):
            while not tread.cp_writes or tread.cp_writes[-1] != b"\x01":
                await tread.next_write()
        await tread.notify_status(b"\x01")  # the device's status for our Reset
        await feed_until(EventKind.RESET)
        assert belt.state().latch is None
        assert [n for n in belt.drain_notices() if n.latch is not None] == []
        assert not tl.has_control
        assert not belt.state().control


async def test_control_is_released_by_disconnecting_when_configured(
    tread: FtmsPeripheral, spec: str
) -> None:
    async with TreadmillLink(options(spec, idle_release_s=0.1, idle_release="disconnect")) as tl:
        await reported(tread, tl, 0)
        await tl.stop()
        async with asyncio.timeout(DEADLINE):
            assert await tl.wait_disconnected() == "control released by disconnecting"
    assert tread.cp_writes == [b"\x00", b"\x08\x01"]


async def test_the_link_is_not_reusable(tread: FtmsPeripheral, spec: str) -> None:
    link = TreadmillLink(options(spec))
    async with link:
        pass
    with pytest.raises(RuntimeError):
        async with link:
            pass
