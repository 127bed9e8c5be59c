"""``[[devices]]``: the treadmills, each with its cap, discovery and heart-rate source."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from treadctl.config import limits
from treadctl.config.fields import Backend, UserCap, check_slug, check_transport
from treadctl.config.section import Section
from treadctl.numbers import Number


class HeartRateSourceConfig(Section):
    """``[devices.heart_rate]``: where this treadmill's walker's heart rate comes from
    (docs/heart-rate.md). Without it nothing about heart rate changes."""

    source: Literal["strap", "treadmill"] = "strap"
    """``strap``: a Bluetooth Heart Rate Service sensor (chest strap, arm band), reached with
    the ``[ble]`` settings; ``treadmill``: the treadmill's own heart-rate field (hand grips)."""
    address: str | None = None
    """The strap's Bluetooth address; with neither address nor name, the first sensor
    advertising the Heart Rate Service is taken."""
    name: str | None = None
    """The strap's advertised name."""

    @model_validator(mode="after")
    def _strap_only(self) -> HeartRateSourceConfig:
        if self.source == "treadmill" and (self.address or self.name):
            raise ValueError("address and name are for source = 'strap'")
        return self


class DeviceConfig(Section):
    """One treadmill (``[[devices]]``)."""

    id: Annotated[str, AfterValidator(check_slug)]
    """Used in MQTT topics and logs: ``treadctl/<id>/state``."""
    address: str | None = None
    """Bluetooth address (BlueZ: ``AA:BB:CC:DD:EE:FF``); found by ``name`` when absent."""
    name: str | None = None
    """Advertised name, used for discovery when no address is given."""
    has_handrails: bool
    """Required: a treadmill without handrails gets the 2.0 km/h cap
    (docs/references.md#retro-defaults)."""
    user_cap_kmh: UserCap | None = None
    """Lowers ``safety.user_cap_kmh`` for this treadmill; never raises it."""
    simulator: bool = False
    """True for the bundled simulator. Time compression (``--speedup``) is refused otherwise."""
    speedup: Annotated[Number, Field(ge=1, le=1000)] = 1.0
    """Time compression for ``treadctl run`` against a simulator started with the same
    ``--speedup``: the daemon's clock for this treadmill runs this many times faster (ramps,
    segments, stale-telemetry and arming times in simulated seconds). Only with
    ``simulator = true``: on a real belt it would multiply the real acceleration (issue 7)."""
    backend: Backend | None = None
    """Overrides ``ble.backend`` for this treadmill."""
    transport: Annotated[str | None, AfterValidator(check_transport)] = None
    """Overrides ``ble.transport`` (each simulator process has its own transport)."""
    heart_rate: HeartRateSourceConfig | None = None
    """The heart-rate source of whoever walks on this treadmill; the limits are the person's
    (``[[people]]`` ``age`` / ``hr_max_bpm``)."""

    @field_validator("address", "name")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value:
            raise ValueError("must not be empty (leave it out instead)")
        return value

    @field_validator("user_cap_kmh")
    @classmethod
    def _handrail_cap(cls, value: float | None, info: ValidationInfo) -> float | None:
        no_handrails = info.data.get("has_handrails") is False
        if no_handrails and value is not None and value > limits.NO_HANDRAILS_CAP_KMH:
            raise ValueError(
                f"must be ≤ {limits.NO_HANDRAILS_CAP_KMH} for a treadmill without handrails "
                "(no support within reach; set has_handrails = true only if it has them)"
            )
        return value

    @model_validator(mode="after")
    def _address_or_name(self) -> DeviceConfig:
        if self.address is None and self.name is None:
            raise ValueError("give the treadmill's address or its advertised name")
        if self.speedup != 1.0 and not self.simulator:
            # Time compression multiplies the real acceleration of a real belt (issue 7).
            raise ValueError(
                "speedup: only for a treadmill with simulator = true (on a real belt it would "
                "multiply the acceleration)"
            )
        return self
