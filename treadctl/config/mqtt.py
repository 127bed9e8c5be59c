"""``[mqtt]``: the one model of the MQTT bridge's settings.

The configuration file, the environment (``TREADCTL_MQTT__HOST``, ...) and the bridge read the
same object: :class:`treadctl.mqtt.bridge.MqttBridge` takes an :class:`MqttConfig` as it is, so
every setting the bridge has can be set from the configuration (docs/configuration.md).
"""

from __future__ import annotations

import re
import socket
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, FilePath, SecretStr, model_validator

from treadctl.config.section import Section
from treadctl.numbers import Number, WholeNumber

_TOPIC_LEVEL = re.compile(r"[^/+#\x00\s]+\Z")
_URL = re.compile(r"https?://[^\s/]+\S*\Z")
CLIENT_ID_MAX = 64
"""Longest client identifier we send (MQTT 3.1.1 only guarantees 23; brokers accept more)."""


def _topic_prefix(value: str) -> str:
    levels = value.split("/")
    if not value or not all(_TOPIC_LEVEL.match(level) for level in levels):
        raise ValueError(
            "must be an MQTT topic prefix without wildcards (+ #), spaces, "
            "empty levels or a leading/trailing '/'"
        )
    return value


def _url(value: str | None) -> str | None:
    if value is not None and not _URL.match(value):
        raise ValueError("must be an http:// or https:// address")
    return value


def _mqtt_protocol(value: Any) -> Any:
    # TOML users write `protocol = 5`; the environment gives strings.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


TopicPrefix = Annotated[str, AfterValidator(_topic_prefix)]
Url = Annotated[str | None, AfterValidator(_url)]


class MqttTlsConfig(Section):
    """``[mqtt.tls]``: TLS to the broker. With no ``ca_file`` the system's trusted CAs."""

    enabled: bool = False
    ca_file: FilePath | None = None
    """CA bundle for the broker's certificate; the system's CAs when absent."""
    cert_file: FilePath | None = None
    """Client certificate (PEM), for brokers that require one (``require_certificate true``)."""
    key_file: FilePath | None = None
    insecure: bool = False
    """Skip the host name check (never the chain check). For tests and IP-only setups."""

    @model_validator(mode="after")
    def _consistent(self) -> MqttTlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (a client certificate needs both)")
        files = (self.ca_file, self.cert_file, self.key_file)
        if not self.enabled and (any(f is not None for f in files) or self.insecure):
            raise ValueError("TLS settings are given but enabled = false")
        return self


class MqttConfig(Section):
    """``[mqtt]``: the broker (Home Assistant's, usually) and how the bridge behaves."""

    enabled: bool = False
    host: str = "localhost"
    port: Annotated[WholeNumber, Field(ge=1, le=65535)] = 1883
    protocol: Annotated[Literal["5", "3.1.1"], BeforeValidator(_mqtt_protocol)] = "5"
    client_id: Annotated[str | None, Field(min_length=1, max_length=CLIENT_ID_MAX)] = None
    """Stable MQTT client identifier; ``treadctl-<hostname>`` when absent."""
    username: str | None = None
    password: SecretStr | None = None
    """Better from ``$CREDENTIALS_DIRECTORY/mqtt_password`` or ``TREADCTL_MQTT__PASSWORD``."""
    keepalive_s: Annotated[WholeNumber, Field(ge=5, le=600)] = 30
    """The will fires about 1.5 times this after the host freezes; at once when it is killed."""
    connect_timeout_s: Annotated[Number, Field(gt=0, le=120)] = 10.0
    tls: MqttTlsConfig = MqttTlsConfig()

    topic_prefix: TopicPrefix = "treadctl"
    discovery: bool = True
    """Publish Home Assistant MQTT discovery."""
    discovery_prefix: TopicPrefix = "homeassistant"
    birth_topic: TopicPrefix = "homeassistant/status"
    """Home Assistant's birth (and will) topic: discovery is re-published when it says
    ``online``. Independent of ``discovery_prefix`` (Home Assistant's own default is the same
    whatever the discovery prefix)."""
    origin_url: Url = None
    """Support address shown by Home Assistant for the software (discovery ``o.url``)."""
    device_url: Url = None
    """A link Home Assistant shows on the treadmill's device page (``configuration_url``),
    e.g. a help page for the people who use it."""

    telemetry_min_interval_s: Annotated[Number, Field(ge=0, le=60)] = 0.0
    """Rate limit: at most one telemetry message per device per interval (0: every record)."""
    max_payload_bytes: Annotated[WholeNumber, Field(ge=64, le=262144)] = 4096
    """Larger command payloads are refused with ``too_large``."""
    command_max_age_s: Annotated[Number, Field(gt=0, le=60)] = 10.0
    """Commands older than this (timestamp field or message expiry) or waiting longer in the
    bridge are refused: a stale command no longer reflects what the person wants."""
    max_clock_skew_s: Annotated[Number, Field(ge=0, le=60)] = 2.0
    """How far in the future a command's timestamp may be (the sender's clock may differ)."""
    max_pending_requests: Annotated[WholeNumber, Field(ge=1, le=1024)] = 32
    """Commands waiting for the daemon per bridge; more are refused with ``busy``."""
    transaction_cache: Annotated[WholeNumber, Field(ge=1, le=65536)] = 256
    """Transaction ids remembered (a repeat gets the first answer, never a second run)."""
    backoff_initial_s: Annotated[Number, Field(gt=0, le=60)] = 0.5
    backoff_max_s: Annotated[Number, Field(gt=0, le=600)] = 30.0
    """Reconnect delays double from ``backoff_initial_s`` up to this (with jitter)."""
    birth_delay_max_s: Annotated[Number, Field(ge=0, le=60)] = 2.0
    """Discovery is re-published a random 0..this many seconds after Home Assistant's birth."""
    arming_expiry_s: Annotated[Number, Field(gt=0, le=3600)] = 120.0
    """Remote control stays armed this long after ``arm`` (and is disarmed by safety events)."""

    @model_validator(mode="after")
    def _backoff_order(self) -> MqttConfig:
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("backoff_max_s must be ≥ backoff_initial_s")
        return self

    def client_identifier(self) -> str:
        """``client_id``, or ``treadctl-<hostname>``: stable across restarts, as brokers expect."""
        return self.client_id or f"treadctl-{socket.gethostname()}"[:CLIENT_ID_MAX]
