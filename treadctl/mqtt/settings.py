"""Settings of the MQTT bridge (a pydantic model the daemon's configuration nests).

Every field can come from the TOML configuration or the environment through the daemon's
pydantic-settings source (``TREADCTL_MQTT__HOST``, ``TREADCTL_MQTT__PASSWORD``, ...).
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from treadctl.mqtt.requests import Limits
from treadctl.mqtt.topics import check_prefix


class MqttTls(BaseModel):
    """TLS to the broker. With no ``ca_file`` the system's trusted CAs are used."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ca_file: Path | None = None
    cert_file: Path | None = None
    """Client certificate (PEM), for brokers that require one (``require_certificate true``)."""
    key_file: Path | None = None
    insecure: bool = False
    """Skip the host name check (never the chain check). For tests and IP-only setups."""


def _default_client_id() -> str:
    return f"treadctl-{socket.gethostname()}"[:64]


class MqttSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "localhost"
    port: int = Field(default=1883, ge=1, le=65535)
    protocol: Literal["5", "3.1.1"] = "5"
    client_id: str = Field(default_factory=_default_client_id, min_length=1, max_length=64)
    username: str | None = None
    password: SecretStr | None = None
    tls: MqttTls | None = None
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    """The will fires this long (times 1.5) after the host freezes; at once when it is killed."""
    connect_timeout_s: float = Field(default=10.0, gt=0)

    prefix: str = "treadctl"
    discovery: bool = True
    discovery_prefix: str = "homeassistant"
    origin_url: str | None = None
    """Support address shown by Home Assistant for the discovered device (discovery ``o.url``)."""

    telemetry_interval_s: float = Field(default=1.0, ge=0)
    """At most one telemetry message per device per this many seconds (0: every record)."""
    max_payload_bytes: int = Field(default=4096, ge=64, le=262144)
    max_command_age_s: float = Field(default=10.0, gt=0, le=3600)
    """Commands older than this (``timestamp`` field) or waiting longer in the bridge are
    refused."""
    max_clock_skew_s: float = Field(default=2.0, ge=0)
    max_pending_requests: int = Field(default=32, ge=1)
    transaction_cache: int = Field(default=256, ge=1)
    backoff_initial_s: float = Field(default=0.5, gt=0)
    backoff_max_s: float = Field(default=30.0, gt=0)
    birth_delay_max_s: float = Field(default=2.0, ge=0)
    """Discovery is re-published a random 0..this many seconds after Home Assistant's birth."""

    @field_validator("prefix", "discovery_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return check_prefix(value)

    @property
    def limits(self) -> Limits:
        return Limits(
            max_payload_bytes=self.max_payload_bytes,
            max_age_s=self.max_command_age_s,
            max_clock_skew_s=self.max_clock_skew_s,
        )
