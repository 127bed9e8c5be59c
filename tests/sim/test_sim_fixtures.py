"""The shared pytest fixtures of harness/simulator.py work as documented."""

from __future__ import annotations

import pytest

from harness.simulator import SimProcess, central, treadsim, treadsim_process
from simulators.treadsim import Simulator

__all__ = ["treadsim", "treadsim_process"]  # fixtures, used by name below


async def test_in_process_fixture(treadsim: Simulator) -> None:
    async with central(treadsim.link) as c, c.connect_ftms() as ftms:
        assert await ftms.request(b"\x00") == bytes.fromhex("800001")
    assert treadsim.preset.name == "generic"


@pytest.mark.crossprocess
async def test_process_fixture(treadsim_process: SimProcess) -> None:
    async with central(hci_spec=treadsim_process.hci_client_spec) as c, c.connect_ftms() as ftms:
        assert await ftms.request(b"\x00") == bytes.fromhex("800001")
    records = treadsim_process.trace_records()
    assert records[0]["kind"] == "start"
    assert records[0]["preset"] == "generic"
