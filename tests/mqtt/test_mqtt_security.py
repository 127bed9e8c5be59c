"""Username/password with an ACL, and TLS with certificates made at test time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path

import aiomqtt
import pytest
from pydantic import SecretStr

from harness.mosquitto import Mosquitto, make_pki
from tests.mqtt.mqtt_watch import watcher
from treadctl.commands import CommandResult, Pause, Stop
from treadctl.config.mqtt import MqttConfig, MqttTlsConfig
from treadctl.mqtt.bridge import BridgeDevice, MqttBridge, Request
from treadctl.mqtt.outbound import BridgeEvent

pytestmark = pytest.mark.crossprocess

HANG_GUARD_S = 10.0
DEVICES = [BridgeDevice("tm1", "Treadmill one"), BridgeDevice("tm2", "Treadmill two")]
ACL = """\
user bridge
topic readwrite treadctl/#
topic readwrite homeassistant/#

user alice
topic readwrite treadctl/tm1/#
topic read treadctl/bridge/state
"""


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[Mosquitto]:
    with Mosquitto(
        tmp_path / "broker",
        allow_anonymous=False,
        passwords={"bridge": "bridge-secret", "alice": "alice-secret"},
        acl=ACL,
    ) as broker:
        yield broker


async def next_request(requests: AsyncGenerator[Request, None]) -> Request:
    async with asyncio.timeout(HANG_GUARD_S):
        return await anext(requests)


async def test_acl_limits_a_client_to_one_device(secured: Mosquitto) -> None:
    settings = MqttConfig(
        host=secured.host,
        port=secured.port,
        client_id="treadctl-acl",
        username="bridge",
        password=SecretStr("bridge-secret"),
    )
    async with MqttBridge(settings, DEVICES) as bridge:
        await bridge.wait_connected()
        await bridge.set_availability("tm1", True)
        await bridge.set_availability("tm2", True)
        requests = bridge.requests()
        async with watcher(
            secured, "treadctl/#", username="alice", password="alice-secret"
        ) as alice:
            await alice.expect("treadctl/bridge/state", lambda m: m.payload == b"online")
            # Alice may not command tm2: the broker drops it, the bridge never sees it.
            await alice.publish("treadctl/tm2/request/stop", "{}")
            await alice.publish("treadctl/tm1/request/pause", '{"transaction": "a"}')
            request = await next_request(requests)
            assert (request.device, request.command) == ("tm1", Pause())
            await request.reply(CommandResult.success())
            await alice.expect("treadctl/tm1/response/pause")
            # Alice does not receive tm2's messages either (events are published in order).
            await bridge.publish_event("tm2", BridgeEvent("safety_key"))
            await bridge.publish_event("tm1", BridgeEvent("safety_key"))
            await alice.expect("treadctl/tm1/event")
            assert alice.drain_pending("treadctl/tm2/event") == []
            assert [m for m in alice.all if m.topic.startswith("treadctl/tm2/")] == []
        await requests.aclose()


async def test_wrong_or_missing_credentials_are_refused(secured: Mosquitto) -> None:
    with pytest.raises(aiomqtt.MqttError):
        async with watcher(secured, "#"):
            pass
    with pytest.raises(aiomqtt.MqttError):
        async with watcher(secured, "#", username="alice", password="wrong"):
            pass


async def test_tls_with_client_certificates(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki", clients=("bridge", "script"))
    with Mosquitto(tmp_path / "broker", tls=pki.server_tls(require_certificate=True)) as broker:
        cert, key = pki.clients["bridge"]
        settings = MqttConfig(
            host=broker.host,
            port=broker.port,
            client_id="treadctl-tls",
            tls=MqttTlsConfig(enabled=True, ca_file=pki.ca_file, cert_file=cert, key_file=key),
        )
        script_cert, script_key = pki.clients["script"]
        script_tls = aiomqtt.TLSParameters(
            ca_certs=str(pki.ca_file), certfile=str(script_cert), keyfile=str(script_key)
        )
        async with MqttBridge(settings, DEVICES[:1]) as bridge:
            await bridge.wait_connected()
            await bridge.set_availability("tm1", True)
            requests = bridge.requests()
            async with watcher(broker, "treadctl/#", tls_params=script_tls) as script:
                await script.expect("treadctl/bridge/state", lambda m: m.payload == b"online")
                await script.publish("treadctl/tm1/request/stop", '{"transaction": 1}')
                request = await next_request(requests)
                assert request.command == Stop()
                await request.reply(CommandResult.success())
                reply = await script.expect_json("treadctl/tm1/response/stop")
                assert reply["transaction"] == 1
            await requests.aclose()
        # Without a client certificate, or in plain TCP, there is no connection (the refused
        # handshake surfaces as no CONNACK before the deadline).
        no_cert = aiomqtt.TLSParameters(ca_certs=str(pki.ca_file))
        with pytest.raises(aiomqtt.MqttError):
            async with watcher(broker, "#", tls_params=no_cert, connect_deadline_s=2):
                pass
        with pytest.raises(aiomqtt.MqttError):
            async with watcher(broker, "#", connect_deadline_s=2):  # plain TCP to TLS
                pass
