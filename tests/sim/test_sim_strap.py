"""The simulated heart-rate strap: its heart model, its GATT server and its faults.

A plain Bumble central on the simulator's link connects to the strap (a second peripheral) and
decodes what it is notified with the shared codec (treadctl.hrs).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bumble.core import UUID, AdvertisingData

from harness.simulator import (
    Central,
    FtmsClient,
    central,
    in_process_simulator,
    simulator_process,
    wait_state,
)
from simulators.treadsim.heart import Heart, HeartParams
from simulators.treadsim.prompt import parse_line
from simulators.treadsim.simulator import Simulator
from simulators.treadsim.strap import STRAP_ADDRESS, StrapOptions
from treadctl.hrs import BatteryLevel, BodySensorLocation, HeartRateMeasurement, SensorContact

SPEEDUP = 20.0
HRM = 0x2A37
QUIET = HeartParams(noise_bpm=0.0, tau_rise_s=10.0, tau_fall_s=10.0)


# ----------------------------------------------------------------------------- the model
def test_heart_rises_with_its_time_constant_and_falls_slower() -> None:
    heart = Heart(HeartParams(noise_bpm=0, tau_rise_s=30, tau_fall_s=45))
    target = heart.target(300, 0, True)
    assert target == pytest.approx(70 + 14 * 3)
    heart.advance(30.0, 300, 0, True)  # one time constant: 63 % of the way
    assert heart.exact_bpm == pytest.approx(70 + 42 * (1 - math.exp(-1)))
    heart.advance(300.0, 300, 0, True)
    assert heart.exact_bpm == pytest.approx(target, abs=0.01)
    heart.advance(345.0, 0, 0, True)  # falls with tau 45 s
    assert heart.exact_bpm == pytest.approx(70 + 42 * math.exp(-1), abs=0.01)


def test_heart_ignores_the_belt_without_a_walker_and_counts_incline() -> None:
    heart = Heart(HeartParams(noise_bpm=0))
    assert heart.target(400, 100, False) == 70
    assert heart.target(400, 100, True) == pytest.approx(70 + 56 + 20)
    assert heart.target(400, -30, True) == pytest.approx(70 + 56)


def test_noise_is_seeded() -> None:
    first = [Heart(HeartParams(seed=7)).reading() for _ in range(3)]
    again = Heart(HeartParams(seed=7))
    assert [again.reading()] == first[:1]
    assert len({Heart(HeartParams(seed=s)).reading() for s in range(40)}) > 1


def test_params_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown"):
        HeartParams().updated(pulse=3)
    with pytest.raises(ValueError, match="rest_bpm"):
        HeartParams(rest_bpm=5)
    assert HeartParams().updated(rest_bpm="60", seed="3") == HeartParams(rest_bpm=60, seed=3)


# ----------------------------------------------------------------------------- GATT
@contextlib.asynccontextmanager
async def strap_client(
    **options: object,
) -> AsyncIterator[tuple[Simulator, Central, FtmsClient]]:
    strap = StrapOptions(params=options.pop("params", QUIET))  # type: ignore[arg-type]
    async with (
        in_process_simulator(speedup=SPEEDUP, walker=True, strap=strap, **options) as sim,
        central(sim.link) as c,
        c.connect_ftms(STRAP_ADDRESS, subscribe=False) as client,
    ):
        await client.subscribe(HRM)
        yield sim, c, client


async def next_measurement(client: FtmsClient) -> HeartRateMeasurement:
    value, diagnostics = HeartRateMeasurement.decode(await client.next_value(HRM))
    assert diagnostics == ()
    return value


async def test_strap_advertises_heart_rate_and_battery() -> None:
    async with (
        in_process_simulator(speedup=SPEEDUP, strap=StrapOptions()) as sim,
        central(sim.link) as c,
    ):
        adv = await c.scan(lambda a: str(a.address) == STRAP_ADDRESS)
        uuids = adv.data.get(AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS)
        assert uuids is not None
        assert {UUID.from_16_bits(0x180D), UUID.from_16_bits(0x180F)} <= set(uuids)
        assert adv.data.get(AdvertisingData.COMPLETE_LOCAL_NAME) == "treadsim-HRM"


async def test_measurements_location_battery_and_rising_heart_rate() -> None:
    async with strap_client() as (sim, _c, client):
        assert {0x2A37, 0x2A38, 0x2A39, 0x2A19} <= set(client.characteristics)
        assert BodySensorLocation.from_bytes(await client.read(0x2A38)).name == "chest"
        assert BatteryLevel.from_bytes(await client.read(0x2A19)).percent == 90
        rest = await next_measurement(client)
        assert rest.heart_rate == 70
        assert rest.contact is SensorContact.DETECTED
        assert rest.rr_intervals == (round(60 / 70 * 1024),)
        assert not rest.wide
        await sim.press_start()
        await sim.console_set_speed(400)  # 4.0 km/h: steady state 70 + 56
        state = await wait_state(
            sim, lambda s: s.strap is not None and (s.strap.sent_bpm or 0) >= 115, within=10
        )
        assert state.machine.belt_speed > 0
        assert state.strap is not None
        assert state.strap.model_bpm <= 126.01


async def test_treadmill_and_strap_serve_at_once() -> None:
    async with (
        strap_client() as (sim, _c, strap),
        central(sim.link, address="C0:00:00:00:00:02") as other,
        other.connect_ftms() as ftms,
    ):
        data = await ftms.next_value(0x2ACD)
        assert data
        assert (await next_measurement(strap)).heart_rate > 0


async def test_contact_lost_spike_freeze_and_raw_bytes() -> None:
    async with strap_client() as (sim, _c, client):
        assert sim.strap is not None
        await next_measurement(client)
        await sim.command("strap_contact", detected=False)
        lost = await next_measurement(client)
        assert (lost.heart_rate, lost.contact) == (0, SensorContact.NOT_DETECTED)
        await sim.command("strap_contact", detected=True)
        await sim.command("strap_spike", bpm=255)
        spike = await next_measurement(client)
        assert spike.heart_rate == 255
        assert not spike.wide  # a u8 255, as a faulty strap sends it
        assert (await next_measurement(client)).heart_rate < 200  # once only
        await sim.command("strap_freeze", bpm=99)
        frozen = [await next_measurement(client) for _ in range(3)]
        assert {m.heart_rate for m in frozen} == {99}
        await sim.command("strap_unfreeze")
        await sim.command("strap_notify_raw", hex="0150")  # truncated u16 frame
        assert await client.next_value(HRM) == bytes.fromhex("0150")


async def test_dropout_battery_and_disconnect() -> None:
    async with strap_client() as (sim, _c, client):
        assert sim.strap is not None
        await next_measurement(client)
        await client.subscribe(0x2A19)
        before = sim.state().strap
        assert before is not None
        await sim.command("strap_dropout", seconds=5.0)
        start = len(client.events)
        await wait_state(sim, lambda s: s.strap is not None and s.strap.frames >= before.frames + 4)
        assert client.received(HRM, start=start) == []
        await wait_state(sim, lambda s: s.strap is not None and s.strap.notifying)
        await next_measurement(client)
        await sim.command("strap_battery", percent=5)
        assert await client.next_value(0x2A19, start=start) == bytes([5])
        result = await sim.command("strap_disconnect")
        assert result["done"]
        async with asyncio.timeout(5):
            await client.disconnected.wait()


async def test_u16_format_option() -> None:
    strap = StrapOptions(params=QUIET, wide=True)
    async with (
        in_process_simulator(speedup=SPEEDUP, strap=strap) as sim,
        central(sim.link) as c,
        c.connect_ftms(STRAP_ADDRESS, subscribe=False) as client,
    ):
        await client.subscribe(HRM)
        data = await client.next_value(HRM)
        assert data[0] & 0x01
        assert HeartRateMeasurement.from_bytes(data).heart_rate == 70


async def test_unknown_strap_command_and_no_strap() -> None:
    async with in_process_simulator(speedup=SPEEDUP) as sim:
        assert "strap" not in sim.state().to_dict()
        with pytest.raises(ValueError, match="unknown command"):
            await sim.command("strap_spike", bpm=255)


@pytest.mark.crossprocess
async def test_strap_in_a_process_through_the_control_socket(tmp_path: Path) -> None:
    async with simulator_process(
        tmp_path, "--strap", "--strap-model", "noise_bpm=0", "--walker", speedup=SPEEDUP
    ) as proc:
        assert proc.ready["strap"] == {"address": STRAP_ADDRESS, "name": "treadsim-HRM"}
        async with (
            central(hci_spec=proc.hci_client_spec) as c,
            c.connect_ftms(STRAP_ADDRESS, subscribe=False) as client,
        ):
            await client.subscribe(HRM)
            assert HeartRateMeasurement.from_bytes(await client.next_value(HRM)).heart_rate == 70
            await proc.command("strap_spike", bpm=255)
            state = await proc.wait({"strap.sent_bpm": 255})
            assert state["strap"]["contact"] is True
        records = proc.trace_records("strap")
        spikes = [r for r in records if r["bpm"] == 255]
        assert len(spikes) == 1
        assert spikes[0]["hex"].startswith("16ff")  # contact detected, RR, u8 255


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        ("hr spike 255", ("strap_spike", {"bpm": 255})),
        ("hr contact off", ("strap_contact", {"detected": False})),
        ("hr freeze", ("strap_freeze", {})),
        ("hr freeze 130", ("strap_freeze", {"bpm": 130})),
        ("hr drop 5", ("strap_dropout", {"seconds": 5.0})),
        ("hr battery 5", ("strap_battery", {"percent": 5})),
        ("hr disconnect", ("strap_disconnect", {})),
    ],
)
def test_prompt_words_for_the_strap(line: str, parsed: tuple[str, dict[str, object]]) -> None:
    assert parse_line(line) == parsed


def test_prompt_refuses_a_bad_contact_word() -> None:
    with pytest.raises(ValueError, match="on or off"):
        parse_line("hr contact maybe")
