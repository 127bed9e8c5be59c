"""A bridge in its own process, for the will test: ``python bridge_runner.py HOST PORT``.

Connects one device ``tm1`` with its link up, prints ``ready`` on stdout once connected, answers
every request with ok, and runs until it is killed. Logs go to stderr.
"""

from __future__ import annotations

import asyncio
import sys

import structlog

from treadctl.commands import CommandResult
from treadctl.config.mqtt import MqttConfig
from treadctl.mqtt.bridge import BridgeDevice, MqttBridge


async def main(host: str, port: int) -> None:
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    settings = MqttConfig(host=host, port=port, client_id="treadctl-runner", keepalive_s=5)
    async with MqttBridge(settings, [BridgeDevice("tm1", "Treadmill")]) as bridge:
        await bridge.set_availability("tm1", True)
        await bridge.wait_connected()
        print("ready", flush=True)
        async for request in bridge.requests():
            await request.reply(CommandResult.success())


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
