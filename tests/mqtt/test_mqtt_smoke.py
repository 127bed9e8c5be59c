from __future__ import annotations

from treadctl.commands import CommandResult, Pause
from treadctl.mqtt.bridge import BridgeDevice, MqttBridge


async def test_smoke(mosquitto, settings_for, watch) -> None:
    async with MqttBridge(settings_for(mosquitto), [BridgeDevice("tm1", "Treadmill")]) as bridge:
        await bridge.wait_connected()
        assert (await watch.expect("treadctl/bridge/state")).payload == b"online"
        await bridge.set_availability("tm1", True)
        await watch.expect("treadctl/tm1/availability", lambda m: m.payload == b"online")
        await watch.publish("treadctl/tm1/request/pause", '{"transaction": 7}')
        async for req in bridge.requests():
            assert req.command == Pause()
            await req.reply(CommandResult.success({"x": 1}))
            break
        reply = await watch.expect_json("treadctl/tm1/response/pause")
        assert reply == {"status": "ok", "data": {"x": 1}, "error": None, "transaction": 7}
    assert await watch.expect("treadctl/bridge/state", lambda m: m.payload == b"offline")
