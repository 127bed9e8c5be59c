"""``treadctl scan`` as a process, against a treadsim process, and its usage errors."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from harness.simulator import REPO_ROOT, simulator_process
from treadctl.cli.main import EXIT_USAGE, main


async def _scan(*args: str) -> tuple[int, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "treadctl.cli.main",
        "scan",
        *args,
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(30):
        out, _err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


@pytest.mark.crossprocess
@pytest.mark.parametrize(
    ("args", "service_data"), [((), True), (("--quirk", "no-service-data"), False)]
)
async def test_scan_lists_the_simulated_treadmill(
    tmp_path: Path, args: tuple[str, ...], service_data: bool
) -> None:
    async with simulator_process(tmp_path, *args, preset="generic", speedup=20) as proc:
        code, out = await _scan(
            "--backend", "bumble", "--transport", proc.hci_client_spec, "--timeout", "1", "--json"
        )
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert len(rows) == 1
    row = rows[0]
    assert row["address"] == "F0:F1:F2:F3:F4:F5"
    assert row["name"] == "treadsim"
    assert row["ftms_uuid"] is True
    if service_data:
        assert (row["machine_type"], row["available"], row["treadmill"]) == (
            "treadmill",
            True,
            True,
        )
    else:
        assert (row["machine_type"], row["available"], row["treadmill"]) == ("unknown", None, None)


def test_bumble_without_a_transport_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--backend", "bumble"]) == EXIT_USAGE
    assert "needs ble.transport" in capsys.readouterr().err


def test_a_nonpositive_timeout_is_a_usage_error() -> None:
    assert main(["scan", "--timeout", "0"]) == EXIT_USAGE


@pytest.mark.crossprocess
async def test_scan_hears_a_name_carried_only_in_the_scan_response(tmp_path: Path) -> None:
    async with simulator_process(tmp_path, preset="citysports-wp8", speedup=20) as proc:
        code, out = await _scan(
            "--backend", "bumble", "--transport", proc.hci_client_spec, "--timeout", "1", "--json"
        )
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [row["name"] for row in rows] == ["CITYSPORTS-Linker"]
