"""MQTT bridge (Home Assistant first).

Pure modules: :mod:`~treadctl.mqtt.topics`, :mod:`~treadctl.mqtt.requests` (incoming commands,
replies), :mod:`~treadctl.mqtt.payloads` (what each command payload means),
:mod:`~treadctl.mqtt.outbound` (state, telemetry, events, profiles),
:mod:`~treadctl.mqtt.discovery` with :mod:`~treadctl.mqtt.entities`,
:mod:`~treadctl.mqtt.transactions`, :mod:`~treadctl.mqtt.inbox` (which command runs, which is
refused) and :mod:`~treadctl.mqtt.outbox` (what is published, in which order).
The aiomqtt adapter is :mod:`treadctl.mqtt.bridge` (``MqttBridge``, the daemon's side) with
:mod:`treadctl.mqtt.connection` (one broker connection after the other) and
:mod:`treadctl.mqtt.client` (client, subscriptions, batches); its settings are
:class:`treadctl.config.mqtt.MqttConfig` (the `[mqtt]` configuration section itself).
Reconnect delays: :mod:`treadctl.backoff`.
This package file imports nothing so that the pure modules stay free of aiomqtt.
"""
