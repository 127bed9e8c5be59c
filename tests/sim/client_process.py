"""A client *process* for the cross-process tests: connects to a simulator process over
``tcp-client:...``, takes control, starts the belt, prints ``ready`` and waits to be killed.

    python -m tests.sim.client_process tcp-client:127.0.0.1:PORT
"""

from __future__ import annotations

import asyncio
import sys

from harness.simulator import central


async def main(spec: str) -> None:
    async with central(hci_spec=spec, address="C0:00:00:00:00:0A") as c, c.connect_ftms() as ftms:
        assert await ftms.request(b"\x00") == bytes.fromhex("800001")
        assert await ftms.request(b"\x07") == bytes.fromhex("800701")
        print("ready", flush=True)
        await asyncio.Event().wait()  # until SIGKILL


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
