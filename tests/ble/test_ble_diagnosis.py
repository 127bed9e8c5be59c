"""Why a connection or scan fails, in words a person can act on (``treadctl.ble.diagnosis``).

The failures are real: a system bus that does not exist, a private bus where nobody owns
``org.bluez``, a Bumble transport nobody listens on, a scan that hears no such name.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason
from bumble.link import LocalLink

from harness.simulator import REPO_ROOT
from simulators.bluez_twin.bus import private_bus
from simulators.treadsim.simulator import Simulator
from treadctl.ble.backend import select
from treadctl.ble.bumble_host import register_local_link
from treadctl.ble.diagnosis import explain
from treadctl.ble.discovery import find_treadmill
from treadctl.ble.errors import DeviceNotFound
from treadctl.daemon.children import free_port


async def _scan(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    environ = dict(os.environ, PYTHONPATH=str(REPO_ROOT), **(env or {}))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "treadctl.cli.main",
        "scan",
        "--timeout",
        "1",
        *args,
        cwd=REPO_ROOT,
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        _out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, err.decode()


@pytest.mark.crossprocess
async def test_scan_without_a_system_bus_says_bluez_is_not_reachable(tmp_path: Path) -> None:
    code, err = await _scan(env={"DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path}/no-bus"})
    assert code == 1
    assert "scan failed: BlueZ not reachable on the system D-Bus" in err
    assert "bluetoothd" in err
    assert "Traceback" not in err


@pytest.mark.crossprocess
async def test_scan_on_a_bus_without_bluetoothd_says_nobody_owns_org_bluez(
    tmp_path: Path,
) -> None:
    async with private_bus(tmp_path / "bus") as address:
        code, err = await _scan(env={"DBUS_SYSTEM_BUS_ADDRESS": address})
    assert code == 1
    assert "nobody owns org.bluez" in err
    assert "is bluetoothd running?" in err


@pytest.mark.crossprocess
async def test_scan_on_a_refused_bumble_transport_names_the_transport() -> None:
    spec = f"tcp-client:127.0.0.1:{free_port()}"
    code, err = await _scan("--backend", "bumble", "--transport", spec)
    assert code == 1
    assert f"scan failed: Bumble transport {spec} refused" in err
    assert "check ble.transport" in err


async def test_a_name_nobody_advertises_is_explained_with_the_scan_hint() -> None:
    link = LocalLink()  # type: ignore[no-untyped-call]
    with register_local_link("diagnosis", link) as spec:
        async with Simulator(link=link, preset="generic"):
            scanner, _client = select("bumble", spec)
            with pytest.raises(DeviceNotFound) as caught:
                await find_treadmill(scanner, name="NoSuchTreadmill", timeout_s=0.5)
    problem = explain(caught.value, backend="bumble")
    assert problem.code == "not_found"
    assert problem.message == (
        "no treadmill named 'NoSuchTreadmill' heard in 0.5 s (switched on, not connected to "
        "another app?); `treadctl scan` lists what is heard"
    )


@pytest.mark.parametrize(
    ("reason", "code", "words"),
    [
        (
            BleakBluetoothNotAvailableReason.POWERED_OFF,
            "adapter_off",
            "adapter hci0 is powered off",
        ),
        (BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM, "bluez_denied", "`bluetooth` group"),
        (BleakBluetoothNotAvailableReason.NO_BLUETOOTH, "no_adapter", "`bluetoothctl list`"),
    ],
)
def test_bleaks_not_available_reasons_are_told_apart(
    reason: BleakBluetoothNotAvailableReason, code: str, words: str
) -> None:
    problem = explain(BleakBluetoothNotAvailableError("bleak's text", reason), adapter="hci0")
    assert problem.code == code
    assert words in problem.message


def test_an_unknown_failure_keeps_its_type_and_text() -> None:
    problem = explain(RuntimeError("odd"))
    assert (problem.code, problem.message) == ("other", "RuntimeError: odd")
