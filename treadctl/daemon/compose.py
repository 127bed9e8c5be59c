"""Configuration to the parts' own option types (pure mapping; no I/O).

The daemon is the only place where the configuration meets the adapters, so these small
functions are the only code that knows both shapes.
"""

from __future__ import annotations

from treadctl.ble.options import LinkOptions
from treadctl.config.model import BleConfig, Config, DeviceConfig, MqttConfig
from treadctl.mqtt.settings import MqttSettings, MqttTls
from treadctl.safety.limits import Limits
from treadctl.units import kmh_to_centi, percent_to_deci


def link_options(device: DeviceConfig, ble: BleConfig) -> LinkOptions:
    """How to find and drive one treadmill."""
    return LinkOptions(
        backend=device.backend or ble.backend,
        transport=device.transport or ble.transport,
        adapter=ble.adapter,
        address=device.address,
        name=device.name,
        scan_timeout_s=ble.scan_timeout_s,
        connect_timeout_s=ble.connect_timeout_s,
        control_timeout_s=ble.control_point_deadline_s,
        idle_release_s=ble.idle_release_s,
    )


def device_limits(config: Config, device: DeviceConfig) -> Limits:
    """The safety limits for one treadmill: the user cap (device's own if lower), handrails,
    acceleration, incline and stale-telemetry settings. ``Limits`` refuses anything looser than
    the safety defaults (treadctl.safety.limits)."""
    safety = config.safety
    return Limits(
        user_speed_cap=config.cap_centi(device),
        handrails=device.has_handrails,
        acceleration_centi_per_s=max(1, kmh_to_centi(safety.acceleration_kmh_per_s)),
        incline_cap=percent_to_deci(safety.max_incline_percent),
        incline_ramp_deci_per_min=max(1, percent_to_deci(safety.incline_ramp_percent_per_min)),
        stale_telemetry_s=safety.stale_telemetry_s,
    )


def mqtt_settings(mqtt: MqttConfig) -> MqttSettings:
    """The bridge's settings from the ``[mqtt]`` section."""
    tls = None
    if mqtt.tls.enabled:
        tls = MqttTls(
            ca_file=mqtt.tls.ca_file, cert_file=mqtt.tls.cert_file, key_file=mqtt.tls.key_file
        )
    return MqttSettings(
        host=mqtt.host,
        port=mqtt.port,
        protocol=mqtt.protocol,
        client_id=mqtt.client_identifier()[:64],
        username=mqtt.username,
        password=mqtt.password,
        tls=tls,
        keepalive_s=mqtt.keepalive_s,
        prefix=mqtt.topic_prefix,
        discovery=mqtt.discovery,
        discovery_prefix=mqtt.discovery_prefix,
        telemetry_interval_s=mqtt.telemetry_min_interval_s,
        max_command_age_s=mqtt.command_max_age_s,
    )
