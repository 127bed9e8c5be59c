"""The simulator as a separate process, reached over ``tcp-server`` / ``unix-server`` HCI
transports by plain Bumble clients, driven through its control socket, checked by its trace."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from bumble import att, core, hci
from bumble.core import AdvertisingData

from harness.simulator import (
    REPO_ROOT,
    ControlError,
    central,
    simulator_process,
    stop_process,
)
from simulators.treadsim import Quirk
from simulators.treadsim.cli import main

pytestmark = pytest.mark.crossprocess

SPEEDUP = "50"


async def test_ready_line_discovery_and_procedures_over_tcp(tmp_path: Path) -> None:
    async with simulator_process(tmp_path, preset="citysports-wp8", speedup=50) as proc:
        assert proc.ready["event"] == "ready"
        assert proc.port > 0
        assert proc.ready["preset"] == "citysports-wp8"
        async with central(hci_spec=proc.hci_client_spec) as c:
            adv = await c.scan()
            assert adv.data.get_all(AdvertisingData.SERVICE_DATA_16_BIT_UUID, raw=True) == [
                bytes.fromhex("2618010100")
            ]
            async with c.connect_ftms(str(adv.address)) as ftms:
                assert await ftms.request(b"\x00") == bytes.fromhex("800001")
                assert await ftms.request(b"\x07") == bytes.fromhex("800701")
                await proc.wait({"machine.belt_speed": 100})
                assert await ftms.request(bytes.fromhex("029600")) == bytes.fromhex("800201")
                await proc.wait({"machine.belt_speed": 150})
                assert await ftms.request(bytes.fromhex("0801")) == bytes.fromhex("800801")
                await proc.wait({"machine.belt_speed": 0})
        await proc.wait({"connected": False})
        writes = [(r["hex"], r["result"]) for r in proc.trace_records("write")]
        assert writes == [("00", 1), ("07", 1), ("029600", 1), ("0801", 1)]
        speeds = [r["speed"] for r in proc.trace_records("belt")]
        assert speeds[0] == 100
        assert 150 in speeds
        assert speeds[-1] == 0
        stamps = [r["t"] for r in proc.trace_records()]
        assert stamps == sorted(stamps)


async def test_control_socket_console_and_faults(tmp_path: Path) -> None:
    async with simulator_process(tmp_path, speedup=50) as proc:
        async with central(hci_spec=proc.hci_client_spec) as c, c.connect_ftms() as ftms:
            await ftms.request(b"\x00")
            result = await proc.command("answer_next_with", result=3)
            assert result["done"]
            assert await ftms.request(b"\x07") == bytes.fromhex("800703")
            assert (await proc.command("press_start"))["done"]
            await proc.wait({"machine.phase": "running", "machine.belt_speed": {"min": 50}})
            begin = len(ftms.events)
            assert (await proc.command("take_control"))["done"]
            await ftms.wait_event(lambda e: e.uuid16 == 0x2ADA and e.value == b"\xff", start=begin)
            assert (await proc.command("pull_safety_key"))["done"]
            await ftms.wait_event(lambda e: e.uuid16 == 0x2ADA and e.value == b"\x03", start=begin)
            state = await proc.wait({"machine.belt_speed": 0, "machine.safety_key_inserted": False})
            assert state["machine"]["phase"] == "idle"
            assert (await proc.command("disconnect_now"))["done"]
            await ftms.disconnected.wait()
        with pytest.raises(ControlError):
            await proc.command("no_such_action")
        with pytest.raises(ControlError):
            await proc.wait({"machine.belt_speed": 999}, within=0.2)
        kinds = {(r["kind"], r.get("action")) for r in proc.trace_records()}
        assert ("console", "take_control") in kinds
        assert ("fault", "answer_next_with") in kinds


async def test_sigkilled_client_process_frees_the_treadmill(tmp_path: Path) -> None:
    async with simulator_process(tmp_path, speedup=50) as proc:
        env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
        client = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.sim.client_process",
            proc.hci_client_spec,
            cwd=REPO_ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            assert client.stdout is not None
            async with asyncio.timeout(20):
                assert await client.stdout.readline() == b"ready\n"
            state = await proc.wait({"connected": True, "machine.controlled": True})
            assert state["machine"]["phase"] in ("starting", "running")
            client.send_signal(signal.SIGKILL)
            await client.wait()
        finally:
            await stop_process(client)
        # The dead host's link and control are gone; the belt keeps going (real machines do).
        await proc.wait({"connected": False, "machine.controlled": False})
        async with central(hci_spec=proc.hci_client_spec) as c, c.connect_ftms() as ftms:
            assert await ftms.request(b"\x00") == bytes.fromhex("800001")
            assert await ftms.request(bytes.fromhex("0801")) == bytes.fromhex("800801")
        disconnects = [r for r in proc.trace_records("connection") if r["event"] == "disconnected"]
        assert disconnects[0]["reason"] == 0x08  # the link timed out, as over the air


async def test_unix_server_transport_and_second_host_refused(tmp_path: Path) -> None:
    hci_path = tmp_path / "hci.sock"
    async with simulator_process(tmp_path, speedup=50, hci=[f"unix-server:{hci_path}"]) as proc:
        assert proc.hci_specs == [f"unix-server:{hci_path}"]
        async with central(hci_spec=f"unix:{hci_path}") as c:
            reader, writer = await asyncio.open_unix_connection(str(hci_path))
            try:
                async with asyncio.timeout(10):
                    assert await reader.read() == b""  # refused: closed at once
            finally:
                writer.close()
                await writer.wait_closed()
            async with c.connect_ftms() as ftms:
                assert await ftms.request(b"\x00") == bytes.fromhex("800001")


async def test_bad_arguments_exit_with_an_error(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulators.treadsim",
        "--preset",
        "no-such-preset",
        "--no-prompt",
        cwd=REPO_ROOT,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode == 2
    assert b"unknown preset" in stderr
    assert stdout == b""


def test_list_presets_and_quirks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list-quirks"]) == 0
    assert set(capsys.readouterr().out.split()) == {q.value for q in Quirk}
    assert main(["--list-presets"]) == 0
    names = {line.split(":")[0] for line in capsys.readouterr().out.splitlines()}
    assert names == {"generic", "citysports-wp8", "kingsmith-z1d", "gym-treadmill"}


RESULT_CODES = [
    ("07", "800705"),  # before Request Control
    ("00", "800001"),
    ("04 10", "800402"),  # resistance: not a treadmill procedure
    ("30", "803002"),  # unknown op code
    ("02 b1 04", "800203"),  # above 12.00 km/h
    ("08 03", "800803"),  # bad stop parameter
    ("08 01", "800804"),  # stop while stopped
    ("07", "800701"),
    ("07", "800704"),  # start while started
    ("03 32 00", "800301"),
    ("01", "800101"),  # reset ends control
    ("07", "800705"),
]


async def test_result_codes_and_controller_fixes_across_processes(tmp_path: Path) -> None:
    async with simulator_process(tmp_path, speedup=50) as proc:
        async with central(hci_spec=proc.hci_client_spec) as c:
            # LE Create Connection Cancel completes across the process boundary.
            with pytest.raises(core.TimeoutError):
                await c.device.connect(hci.Address("F9:F9:F9:F9:F9:F9"), timeout=0.2)
            async with c.connect_ftms() as ftms:
                for request, response in RESULT_CODES:
                    assert await ftms.request(bytes.fromhex(request)) == bytes.fromhex(response)
                assert await ftms.request(b"\x00") == bytes.fromhex("800001")
                # HCI Reset from the client's host drops its link to the treadmill.
                await c.device.host.send_sync_command(hci.HCI_Reset_Command())
                await proc.wait({"connected": False, "machine.controlled": False})
        results = [(r["hex"], r["result"]) for r in proc.trace_records("write")]
        assert results[: len(RESULT_CODES)] == [
            (req.replace(" ", ""), int(resp[-2:], 16)) for req, resp in RESULT_CODES
        ]


async def test_kingsmith_quirks_across_processes(tmp_path: Path) -> None:
    async with simulator_process(tmp_path, preset="kingsmith-z1d", speedup=5) as proc:
        async with central(hci_spec=proc.hci_client_spec) as c, c.connect_ftms() as ftms:
            idle = await ftms.next_value(0x2ACD)
            assert idle == bytes(len(idle))  # zero-frame-spam
            begin = len(ftms.events)
            assert await ftms.request(b"\x00") == bytes.fromhex("800001")
            assert await ftms.request(b"\x07") == bytes.fromhex("800701")
            assert ftms.received(0x2ADA, start=begin) == [bytes.fromhex("040000")]  # padded
            await proc.wait({"machine.belt_speed": 100})
            assert not (await proc.command("press_stop"))["done"]  # console locked
            assert await ftms.request(bytes.fromhex("02 32 00")) == bytes.fromhex("800201")
            assert (await proc.state())["machine"]["target_speed"] == 100  # min revert
            begin = len(ftms.events)
            assert await ftms.request(b"\x07") == bytes.fromhex("800701")  # toggle: stops
            assert bytes.fromhex("020100") in ftms.received(0x2ADA, start=begin)
            await proc.wait({"machine.belt_speed": 0})
            # Cold start: a speed written during the start countdown drops the link.
            assert await ftms.request(b"\x07") == bytes.fromhex("800701")
            with pytest.raises((asyncio.CancelledError, core.ConnectionError, att.ATT_Error)):
                await ftms.write(bytes.fromhex("02 96 00"))
            await ftms.disconnected.wait()
        disconnected = [r for r in proc.trace_records("write") if r.get("disconnected")]
        assert [r["hex"] for r in disconnected] == ["029600"]


async def test_sigterm_with_a_client_connected_exits_cleanly(tmp_path: Path) -> None:
    async with (
        simulator_process(tmp_path, speedup=20) as proc,
        central(hci_spec=proc.hci_client_spec) as c,
        c.connect_ftms() as ftms,
    ):
        assert await ftms.request(b"\x00") == bytes.fromhex("800001")
        # Right after an indication: its confirmation races with the shutdown.
        assert await stop_process(proc.process) == 0  # not -9: no SIGKILL needed
        await ftms.disconnected.wait()
