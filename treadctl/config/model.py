"""The configuration model: what ``/etc/treadctl/config.toml`` may say, with its limits.

Every section forbids unknown keys (a misspelt safety setting must not be silently ignored) and
rejects NaN and infinities (a NaN passes every ``<=`` check). Speeds here are human km/h floats;
use :meth:`Config.cap_centi` for the exact integer units the safety code works in.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from treadctl.config import limits
from treadctl.config.mqtt import MqttConfig
from treadctl.config.section import Section
from treadctl.numbers import Number, WholeNumber
from treadctl.safety.heart_rate import HeartRateLimits, HeartRateSettingsError
from treadctl.units import kmh_to_centi

DEFAULT_CONFIG_PATH = Path("/etc/treadctl/config.toml")
DEFAULT_STATE_DIR = Path("/var/lib/treadctl")

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,47}\Z")
_TRANSPORT = re.compile(r"[a-z][a-z0-9-]*(:\S*)?\Z")

Backend = Literal["bluez", "bumble"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

_DEFAULTS = "docs/references.md#retro-defaults"
"""Where the safety defaults come from, named in the errors that cite them."""


def _at_most(limit: float, why: str) -> AfterValidator:
    """``value <= limit``, failing with the limit and where it comes from."""

    def check(value: float) -> float:
        if value > limit:
            raise ValueError(f"must be ≤ {limit} ({why})")
        return value

    return AfterValidator(check)


def _at_least(limit: float, why: str) -> AfterValidator:
    def check(value: float) -> float:
        if value < limit:
            raise ValueError(f"must be ≥ {limit} ({why})")
        return value

    return AfterValidator(check)


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(
            "must be a topic-safe id: 1-48 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return value


def _transport(value: str | None) -> str | None:
    if value is not None and not _TRANSPORT.match(value):
        raise ValueError(
            "must be a Bumble transport such as 'tcp-client:127.0.0.1:9000' or 'unix:/run/sim.sock'"
        )
    return value


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


UserCap = Annotated[
    Number,
    _at_least(limits.FINEST_SPEED_KMH, "the finest speed step"),
    _at_most(limits.ABSOLUTE_CAP_KMH, "absolute cap"),
    _at_most(limits.DEFAULT_USER_CAP_KMH, f"user cap, may only be lowered; {_DEFAULTS}"),
]
"""A speed cap in km/h. Above 4.0 the message names the absolute cap; above 3.0 the default
user cap, which may only be lowered (as ``treadctl.safety.limits.Limits`` requires)."""


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

    id: Annotated[str, AfterValidator(_slug)]
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
    transport: Annotated[str | None, AfterValidator(_transport)] = None
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


class BleConfig(Section):
    """``[ble]``: how treadmills are reached."""

    backend: Backend = "bluez"
    """``bluez`` (the system's Bluetooth, production) or ``bumble`` (simulator, USB dongles)."""
    transport: Annotated[str | None, AfterValidator(_transport)] = None
    """Bumble HCI transport, e.g. ``tcp-client:127.0.0.1:9000``; required with ``bumble``."""
    adapter: str | None = None
    """BlueZ adapter (``hci0``); the system default when absent."""
    connect_timeout_s: Annotated[Number, Field(gt=0, le=120)] = 20.0
    scan_timeout_s: Annotated[Number, Field(gt=0, le=120)] = 10.0
    control_point_deadline_s: Annotated[Number, Field(gt=0, le=10)] = 3.0
    """How long a control procedure waits for its indication (FTMS §4.16.3; 3 s default)."""
    idle_release_s: Annotated[Number, Field(gt=0)] = 60.0
    """Release control after this long without a session, so the console is not locked."""
    idle_release: Literal["reset", "disconnect"] = "reset"
    """How control is released: ``reset`` (FTMS Reset, ends the permission) or ``disconnect``
    (for treadmills that keep their console locked after a Reset)."""
    reconnect_max_backoff_s: Annotated[Number, Field(gt=0, le=600)] = 30.0
    connect_attempts: Annotated[WholeNumber, Field(ge=1, le=10)] = 3
    """Attempts inside one connect (bleak-retry-connector)."""
    gatt_timeout_s: Annotated[Number, Field(gt=0, le=60)] = 5.0
    """Deadline of each GATT read, subscription and disconnect during set-up and teardown."""
    first_reading_timeout_s: Annotated[Number, Field(gt=0, le=30)] = 3.0
    """Start waits this long for the first Treadmill Data after connecting."""
    cold_start_timeout_s: Annotated[Number, Field(gt=0, le=30)] = 8.0
    """After Start, speed changes wait until the belt reports movement or this long."""
    control_retry_base_s: Annotated[Number, Field(gt=0, le=60)] = 2.0
    """After a refused Request Control, no new request before this (doubling per refusal)."""
    mph_check: bool = True
    """Refuse speed-ups once the belt reports about 1.609 times the requested speed."""
    max_queued_readings: Annotated[WholeNumber, Field(ge=1, le=4096)] = 64
    """Readings held for a slow consumer before the oldest is dropped."""
    bumble_mtu: Annotated[WholeNumber, Field(ge=23, le=517)] | None = None
    """ATT MTU the Bumble backend asks for (23-517; Bumble's default, 247, when absent)."""


class SafetyConfig(Section):
    """``[safety]``: may only be made more conservative than the defaults (see ``limits``).

    Every field here reaches the governor (``treadctl.safety.limits.Limits``); the fixed rules
    (no speed-up in a block's first 3 minutes, +0.1 km/h per minute nudges, 10-minute blocks
    without handrails) live in the safety module and are not configurable.
    """

    user_cap_kmh: UserCap = limits.DEFAULT_USER_CAP_KMH
    """Highest speed for every treadmill (a treadmill's own cap may only lower it)."""
    no_handrails_cap_kmh: Annotated[
        Number,
        _at_least(limits.FINEST_SPEED_KMH, "the finest speed step"),
        _at_most(limits.NO_HANDRAILS_CAP_KMH, f"cap without handrails, {_DEFAULTS}"),
    ] = limits.NO_HANDRAILS_CAP_KMH
    acceleration_kmh_per_s: Annotated[
        Number,
        _at_least(limits.FINEST_SPEED_KMH, "the finest speed step per second"),
        _at_most(limits.ACCELERATION_LIMIT_KMH_PER_S, f"acceleration limit, {_DEFAULTS}"),
    ] = limits.ACCELERATION_LIMIT_KMH_PER_S
    max_incline_percent: Annotated[
        Number, Field(ge=0), _at_most(limits.INCLINE_CAP_PERCENT, f"incline cap, {_DEFAULTS}")
    ] = limits.INCLINE_CAP_PERCENT
    incline_ramp_percent_per_min: Annotated[
        Number,
        _at_least(limits.FINEST_INCLINE_PERCENT, "the finest incline step per minute"),
        _at_most(limits.INCLINE_RAMP_PERCENT_PER_MIN, "incline ramp limit"),
    ] = limits.INCLINE_RAMP_PERCENT_PER_MIN
    stale_telemetry_s: Annotated[
        Number,
        _at_most(limits.STALE_TELEMETRY_S, "stale-telemetry default; shorter is stricter"),
        _at_least(limits.STALE_TELEMETRY_FLOOR_S, "treadmills send data about once a second"),
    ] = limits.STALE_TELEMETRY_S


class LoggingConfig(Section):
    """``[logging]``."""

    level: Annotated[LogLevel, BeforeValidator(_upper)] = "INFO"
    format: Literal["auto", "json", "console"] = "auto"
    """``auto``: JSON lines when stdout is not a terminal (journald), readable on a terminal."""
    loggers: dict[str, Annotated[LogLevel, BeforeValidator(_upper)]] = Field(default_factory=dict)
    """Per-library levels, e.g. ``bumble = "DEBUG"`` (defaults in ``treadctl.log``)."""


class PersonConfig(Section):
    """One person who walks (``[[people]]``): the history and the program follow them."""

    id: Annotated[str, AfterValidator(_slug)]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    program: Annotated[str, Field(min_length=1, max_length=64)] = "retro-6-weeks"
    """The progression program (``treadctl program list``) this person follows."""
    default: bool = False
    """The person a session is for when a command names nobody (the only person is always
    the default)."""
    age: Annotated[WholeNumber, Field(ge=1, le=120)] | None = None
    """Without ``hr_max_bpm``: the heart-rate guard estimates the maximum as 220 - age
    (docs/heart-rate.md)."""
    hr_max_bpm: Annotated[WholeNumber, Field(ge=60, le=240)] | None = None
    """A measured maximum heart rate (always wins over an age estimate)."""
    hr_soft_fraction: Annotated[Number, Field(ge=0.3, le=0.95)] | None = None
    """Hold speed and incline increases from this fraction of the maximum (default 0.70); a
    therapist may lower it (docs/heart-rate.md)."""
    hr_hard_fraction: Annotated[Number, Field(ge=0.3, le=0.95)] | None = None
    """Ramp down and stop above this fraction for more than 5 s (default 0.80)."""

    @model_validator(mode="after")
    def _heart_rate_limits(self) -> PersonConfig:
        try:
            self.heart_rate_limits()
        except HeartRateSettingsError as exc:
            raise ValueError(str(exc)) from None
        return self

    def heart_rate_limits(self) -> HeartRateLimits | None:
        """This person's heart-rate limits; None without ``age`` or ``hr_max_bpm``."""
        return HeartRateLimits.for_person(
            hr_max=self.hr_max_bpm,
            age=self.age,
            soft_fraction=self.hr_soft_fraction,
            hard_fraction=self.hr_hard_fraction,
        )


class HistoryConfig(Section):
    """``[history]``: where sessions are recorded (docs/history.md)."""

    enabled: bool = True
    url: SecretStr | None = None
    """``postgresql://user:password@host/db`` for a shared server; absent: the SQLite file
    ``<state_dir>/history.sqlite3``. A secret (it may hold a password): never printed."""
    programs_dir: Path | None = None
    """Extra program files next to the bundled ones."""
    queue_size: Annotated[WholeNumber, Field(ge=10, le=100_000)] = 2000
    """Writes that may wait for a slow database before new ones are dropped (and reported)."""

    @field_validator("url")
    @classmethod
    def _url_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            text = value.get_secret_value()
            if not text.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://")):
                raise ValueError("must start with postgresql:// (or sqlite:/// for a file)")
        return value

    @field_validator("programs_dir")
    @classmethod
    def _programs_dir_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a directory")
        return value


_VOICE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]{0,63}\Z")


def _voice(value: str) -> str:
    if not _VOICE.match(value):
        raise ValueError("must be an espeak-ng voice name such as 'en', 'en-gb', 'de' or 'en+f3'")
    return value


class SpeechConfig(Section):
    """``[speech]``: spoken cues on this machine (docs/speech.md). Off by default: a headless
    server has no loudspeaker; Home Assistant can speak the cues instead (``mqtt_events``)."""

    enabled: bool = False
    """Speak the cues here (render with the engine, play when a sound device exists)."""
    voice: Annotated[str, AfterValidator(_voice)] = "en"
    """espeak-ng voice (``espeak-ng --voices`` lists them): a language, optionally ``+variant``."""
    rate_wpm: Annotated[WholeNumber, Field(ge=80, le=300)] = 150
    """Speaking rate in words per minute (espeak-ng's own default is 175)."""
    volume: Annotated[WholeNumber, Field(ge=0, le=200)] = 100
    """espeak-ng amplitude, 0-200 (100: espeak-ng's default)."""
    player: Literal["auto", "aplay", "pw-play", "none"] = "auto"
    """``auto``: pw-play with a PipeWire socket, else aplay with an ALSA playback device, else
    none (cues are rendered to ``audio_dir`` only, and that is reported once)."""
    engine: Annotated[str, Field(min_length=1)] = "espeak-ng"
    """The engine program (a name on ``PATH`` or a path); it is given espeak-ng's options."""
    audio_dir: Path | None = None
    """Rendered cues (cached) and the journal ``spoken.jsonl``; ``<state_dir>/speech`` if unset."""
    render_timeout_s: Annotated[Number, Field(gt=0, le=60)] = 5.0
    """An engine that has not finished a phrase in this time is killed (the cue is skipped)."""
    queue_size: Annotated[WholeNumber, Field(ge=1, le=64)] = 8
    """Cues waiting at most; beyond it the oldest least urgent one is dropped."""
    mqtt_events: bool = True
    """Publish every cue as a ``cue`` event with a ``speak`` text (with MQTT enabled), whether
    or not it is spoken here."""


class Config(Section):
    """The whole configuration. Build it with :func:`treadctl.config.load_config`.

    A plain model: ``Config.model_validate(mapping)`` validates a mapping alone (no file, no
    environment), e.g. for the demo or tests.
    """

    model_config = ConfigDict(validate_default=True)

    devices: list[DeviceConfig] = Field(default_factory=list)
    ble: BleConfig = BleConfig()
    mqtt: MqttConfig = MqttConfig()
    safety: SafetyConfig = SafetyConfig()
    profiles_dir: Path | None = None
    """Extra profiles (``*.yaml``/``*.toml``) next to the bundled ones."""
    state_dir: Path = DEFAULT_STATE_DIR
    """Writable state (session history); systemd's ``StateDirectory=``."""
    logging: LoggingConfig = LoggingConfig()
    history: HistoryConfig = HistoryConfig()
    people: list[PersonConfig] = Field(default_factory=list)
    speech: SpeechConfig = SpeechConfig()

    @field_validator("devices")
    @classmethod
    def _some_devices(cls, value: list[DeviceConfig]) -> list[DeviceConfig]:
        if not value:
            raise ValueError("configure at least one treadmill ([[devices]] with id, address)")
        return value

    @field_validator("profiles_dir")
    @classmethod
    def _profiles_dir_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a directory")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Config:
        """Checks spanning sections; each problem is one ``key: reason`` line."""
        problems: list[str] = []
        seen_ids: dict[str, int] = {}
        seen_addresses: dict[str, int] = {}
        for index, device in enumerate(self.devices):
            if device.id in seen_ids:
                problems.append(
                    f"devices.{index}.id: duplicate id {device.id!r} "
                    f"(also devices.{seen_ids[device.id]}.id)"
                )
            seen_ids.setdefault(device.id, index)
            if device.address is not None:
                key = device.address.upper()
                if key in seen_addresses:
                    problems.append(
                        f"devices.{index}.address: {device.address} is also "
                        f"devices.{seen_addresses[key]}.address"
                    )
                seen_addresses.setdefault(key, index)
            if device.user_cap_kmh is not None and device.user_cap_kmh > self.safety.user_cap_kmh:
                problems.append(
                    f"devices.{index}.user_cap_kmh: {device.user_cap_kmh} is above "
                    f"safety.user_cap_kmh ({self.safety.user_cap_kmh}); a treadmill's cap may "
                    "only lower it"
                )
            if self.backend_for(device) == "bumble" and self.transport_for(device) is None:
                problems.append(
                    f"devices.{index}.transport: the bumble backend needs a transport "
                    "(set ble.transport or this device's transport)"
                )
        problems += self._people_checks()
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _people_checks(self) -> list[str]:
        problems = []
        seen: dict[str, int] = {}
        for index, person in enumerate(self.people):
            if person.id in seen:
                first = seen[person.id]
                problems.append(
                    f"people.{index}.id: duplicate id {person.id!r} (also people.{first}.id)"
                )
            seen.setdefault(person.id, index)
        defaults = [i for i, p in enumerate(self.people) if p.default]
        if len(defaults) > 1:
            problems.append(
                f"people.{defaults[1]}.default: only one person may be the default "
                f"(also people.{defaults[0]}.default)"
            )
        return problems

    def person(self, person_id: str | None) -> PersonConfig | None:
        """The person with this id; None asks for the default person (None when there is no
        default: several people and none marked ``default = true``). KeyError: unknown id."""
        if person_id is None:
            if len(self.people) == 1:
                return self.people[0]
            return next((p for p in self.people if p.default), None)
        for person in self.people:
            if person.id == person_id:
                return person
        raise KeyError(person_id)

    def history_url(self) -> str:
        """The history database URL: ``history.url`` or the SQLite file in the state dir."""
        if self.history.url is not None:
            return self.history.url.get_secret_value()
        return f"sqlite:///{self.state_dir / 'history.sqlite3'}"

    def device(self, device_id: str) -> DeviceConfig:
        """The treadmill with this id (KeyError when none)."""
        for device in self.devices:
            if device.id == device_id:
                return device
        raise KeyError(device_id)

    def backend_for(self, device: DeviceConfig) -> Backend:
        return device.backend or self.ble.backend

    def transport_for(self, device: DeviceConfig) -> str | None:
        return device.transport or self.ble.transport

    def cap_kmh(self, device: DeviceConfig) -> float:
        """The user cap in force for ``device``: the lowest of its own cap, the safety section's
        user cap, the no-handrails cap when it has none, and the absolute cap."""
        caps = [self.safety.user_cap_kmh, limits.ABSOLUTE_CAP_KMH]
        if device.user_cap_kmh is not None:
            caps.append(device.user_cap_kmh)
        if not device.has_handrails:
            caps.append(self.safety.no_handrails_cap_kmh)
        return min(caps)

    def cap_centi(self, device: DeviceConfig) -> int:
        """:meth:`cap_kmh` in 0.01 km/h, rounded down (never raises the cap)."""
        return kmh_to_centi(self.cap_kmh(device))
