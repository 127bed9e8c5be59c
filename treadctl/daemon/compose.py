"""Configuration to the parts' own option types (pure mapping; no I/O).

The daemon is the only place where the configuration meets the adapters, so these small
functions are the only code that knows both shapes. (The MQTT bridge takes the ``[mqtt]``
section itself, :class:`treadctl.config.mqtt.MqttConfig`: there is nothing to map.)
"""

from __future__ import annotations

import dataclasses

from treadctl.ble.options import LinkOptions
from treadctl.config.ble import BleConfig
from treadctl.config.devices import DeviceConfig
from treadctl.config.model import Config
from treadctl.safety.heart_rate import HeartRateLimits
from treadctl.safety.limits import Limits
from treadctl.units import kmh_to_centi, percent_to_deci


def link_options(device: DeviceConfig, ble: BleConfig) -> LinkOptions:
    """How to find and drive one treadmill: every field of ``LinkOptions`` comes from the
    ``[ble]`` section or the device (tests/config/test_config_settings.py checks that none is
    left at a default the configuration cannot change)."""
    return LinkOptions(
        backend=device.backend or ble.backend,
        transport=device.transport or ble.transport,
        adapter=ble.adapter,
        address=device.address,
        name=device.name,
        scan_timeout_s=ble.scan_timeout_s,
        connect_timeout_s=ble.connect_timeout_s,
        connect_attempts=ble.connect_attempts,
        gatt_timeout_s=ble.gatt_timeout_s,
        control_timeout_s=ble.control_point_deadline_s,
        first_reading_timeout_s=ble.first_reading_timeout_s,
        cold_start_timeout_s=ble.cold_start_timeout_s,
        idle_release_s=ble.idle_release_s,
        idle_release=ble.idle_release,
        control_retry_base_s=ble.control_retry_base_s,
        mph_check=ble.mph_check,
        max_queued_readings=ble.max_queued_readings,
        bumble_mtu=ble.bumble_mtu,
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


def strap_options(device: DeviceConfig, ble: BleConfig) -> LinkOptions | None:
    """How to reach this treadmill's heart-rate strap (None: no strap configured): the same
    ``[ble]`` settings and transport as the treadmill, the strap's own address or name."""
    source = device.heart_rate
    if source is None or source.source != "strap":
        return None
    return dataclasses.replace(link_options(device, ble), address=source.address, name=source.name)


def heart_rate_limits(config: Config, person_id: str | None) -> HeartRateLimits | None:
    """A person's heart-rate limits (None or an id not in ``[[people]]``: the default person);
    None when that person has neither ``age`` nor ``hr_max_bpm``."""
    try:
        person = config.person(person_id)
    except KeyError:
        # Without [[people]] sessions belong to the placeholder "default" person.
        person = config.person(None)
    return None if person is None else person.heart_rate_limits()
