"""Gap 5 of Bumble's virtual controller, fixed in SimController: an active scan hears the
advertiser's scan response (and a passive scan does not), so a name too long for the
advertisement ("CITYSPORTS-Linker", the citysports-wp8 preset) is heard and found by name."""

from __future__ import annotations

import asyncio

from bumble.core import AdvertisingData
from bumble.device import Advertisement
from bumble.link import LocalLink

from harness.simulator import central, in_process_simulator
from simulators.treadsim import SimController
from simulators.treadsim.presets import load_preset
from simulators.treadsim.wire import advertising_data
from treadctl.ble.backend import select
from treadctl.ble.bumble_host import register_local_link
from treadctl.ble.discovery import find_treadmill, scan

LONG_NAME = "CITYSPORTS-Linker"


def _name(advertisement: Advertisement) -> str | None:
    value = advertisement.data.get(AdvertisingData.COMPLETE_LOCAL_NAME)
    return value if isinstance(value, str) else None


def test_the_long_name_is_only_in_the_scan_response() -> None:
    adv, scan_response = advertising_data(load_preset("citysports-wp8"), LONG_NAME)
    assert LONG_NAME.encode() not in adv
    assert LONG_NAME.encode() in scan_response


async def test_an_active_scan_hears_the_scan_response() -> None:
    async with in_process_simulator(preset="citysports-wp8") as sim, central(sim.link) as c:
        heard = await c.scan(lambda a: a.is_scan_response or _name(a) is not None)
    assert heard.is_scannable
    assert heard.is_connectable
    assert _name(heard) == LONG_NAME


async def test_a_passive_scan_hears_the_advertisement_only() -> None:
    reports: list[Advertisement] = []
    three = asyncio.Event()

    def heard(advertisement: Advertisement) -> None:
        reports.append(advertisement)
        if len(reports) >= 3:
            three.set()

    async with in_process_simulator(preset="citysports-wp8") as sim, central(sim.link) as c:
        c.device.on(c.device.EVENT_ADVERTISEMENT, heard)
        await c.device.start_scanning(active=False, filter_duplicates=False)
        async with asyncio.timeout(5.0):
            await three.wait()
        await c.device.stop_scanning()
    assert not any(a.is_scan_response for a in reports)
    assert all(_name(a) is None for a in reports)


async def test_bleak_finds_the_treadmill_by_its_long_name() -> None:
    link = LocalLink()  # type: ignore[no-untyped-call]
    with register_local_link(
        "long-name", link, controller=lambda name, lnk: SimController(name, link=lnk)
    ) as spec:
        async with in_process_simulator(preset="citysports-wp8", link=link) as sim:
            scanner, _client = select("bumble", spec)
            found = await find_treadmill(scanner, name=LONG_NAME, timeout_s=5.0)
            listed = await scan(scanner, timeout_s=0.5)
    assert found.address == sim.address
    assert found.name == LONG_NAME
    assert [c.name for c in listed] == [LONG_NAME]
