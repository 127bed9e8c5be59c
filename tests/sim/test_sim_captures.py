"""The citysports-wp8 preset against the real CITYSPORTS CS-WP8 captures.

Driving the captured command sequence (Request Control, Start, 1.5 km/h, 2.0 km/h, Stop)
must give the captured bytes in the captured order: status and training status
notifications, then the indication, then the ATT Write Response ("observed_exchange" of each
control point write in tests/data/citysports-cs-wp8.jsonl); and the captured reads and
Treadmill Data layout.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from harness.simulator import AttEvent, FtmsClient, central, in_process_simulator, wait_state

CAPTURE = Path(__file__).resolve().parents[1] / "data" / "citysports-cs-wp8.jsonl"
SPEEDUP = 5.0
"""Slow enough that the 3 s start countdown (0.6 s of wall time) never ends inside the Start
exchange, even on a loaded machine."""
_EXCHANGE = re.compile(
    r"^(?:(?P<uuid>[0-9A-F]{4}) (?P<kind>notification|indication) (?P<hex>[0-9a-f]+)"
    r"|ATT Write Response) @"
)


def capture() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CAPTURE.read_text(encoding="utf-8").splitlines()]


def expected_exchange(record: dict[str, Any]) -> list[tuple[str, int | None, bytes]]:
    """The captured reply to one write, as (kind, uuid16, bytes) in order."""
    out: list[tuple[str, int | None, bytes]] = []
    for item in record["observed_exchange"]:
        match = _EXCHANGE.match(item)
        assert match, item
        if match["uuid"] is None:
            out.append(("write_response", None, b""))
        else:
            out.append((match["kind"], int(match["uuid"], 16), bytes.fromhex(match["hex"])))
    return out


def observed(events: list[AttEvent]) -> list[tuple[str, int | None, bytes]]:
    """What the client received, Treadmill Data left out (it streams in between)."""
    return [
        (e.kind, e.uuid16, e.value if e.kind != "write_response" else b"")
        for e in events
        if e.uuid16 != 0x2ACD and e.kind in ("notification", "indication", "write_response")
    ]


async def exchange(ftms: FtmsClient, data: bytes) -> list[tuple[str, int | None, bytes]]:
    start = len(ftms.events)
    await ftms.write(data)  # returns once the write response arrived (indication first here)
    return observed(ftms.events[start:])


async def test_control_session_reproduces_the_captured_bytes_and_order() -> None:
    records = capture()
    writes = [r for r in records if r["characteristic"] == "2ad9" and "write" in r["direction"]]
    assert [bytes.fromhex(r["hex"]) for r in writes] == [
        b"\x00",
        b"\x07",
        bytes.fromhex("029600"),
        bytes.fromhex("02c800"),
        bytes.fromhex("0801"),
    ]
    async with (
        in_process_simulator(preset="citysports-wp8", speedup=SPEEDUP) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        for record in writes:
            data = bytes.fromhex(record["hex"])
            assert await exchange(ftms, data) == expected_exchange(record), record["hex"]
            if data == b"\x07":
                # Capture frames 240-241: Manual Mode after the countdown, then 1.00 km/h.
                begin = len(ftms.events)
                assert await ftms.next_value(0x2AD3, start=begin) == bytes.fromhex("010d")
                _, frame = await ftms.wait_event(
                    lambda e: e.uuid16 == 0x2ACD and e.value[2:4] != b"\0\0", start=begin
                )
                assert frame.value == bytes.fromhex(records[41]["hex"])
                await wait_state(sim, lambda s: s.machine.belt_speed == 100)


async def test_reads_and_idle_frame_match_the_capture() -> None:
    records = capture()
    by_index = {i: bytes.fromhex(r["hex"]) for i, r in enumerate(records)}
    async with (
        in_process_simulator(preset="citysports-wp8", speedup=SPEEDUP) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        assert await ftms.read(0x2AD4) == by_index[31]  # 64 00 58 02 32 00: 1.0-6.0 by 0.5
        assert await ftms.read(0x2AD3) == by_index[32]  # 01 01: Idle, empty string
        assert await ftms.read(0x2ACC) == by_index[35]  # 44 12 00 00 01 00 00 00
        assert 0x2AD5 not in ftms.characteristics
        assert await ftms.next_value(0x2ACD) == by_index[29]  # idle frame, energy n/a


async def test_walking_frame_layout_matches_the_capture() -> None:
    """With a walker at 2.0 km/h the frames have the captured layout: flags 84 24, speed,
    u24 distance, energy 'n/a' per hour/minute, elapsed seconds, u24 vendor step count."""
    async with (
        in_process_simulator(preset="citysports-wp8", speedup=100, walker=True) as sim,
        central(sim.link) as c,
        c.connect_ftms() as ftms,
    ):
        await ftms.request(b"\x00")
        await ftms.request(b"\x07")
        await wait_state(sim, lambda s: s.machine.belt_speed > 0)
        await ftms.request(bytes.fromhex("02c800"))
        await wait_state(sim, lambda s: s.machine.belt_speed == 200 and s.machine.distance_m >= 20)
        frame = await ftms.next_value(0x2ACD)
        assert len(frame) == 17
        assert frame[:4] == bytes.fromhex("8424c800")
        assert frame[9:12] == b"\xff\xff\xff"
        distance = int.from_bytes(frame[4:7], "little")
        elapsed = int.from_bytes(frame[12:14], "little")
        steps = int.from_bytes(frame[14:17], "little")
        assert distance >= 20
        assert elapsed > 0
        assert steps == int(distance / 0.52) or steps == int(distance / 0.52) + 1
