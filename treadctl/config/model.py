"""The configuration model: what ``/etc/treadctl/config.toml`` may say, with its limits.
:class:`Config` holds the sections (each in its module: ``devices``, ``ble``, ``mqtt``,
``safety``, ``logs``, ``people``, ``history``, ``speech``) and the checks spanning them.

Every section forbids unknown keys (a misspelt safety setting must not be silently ignored) and
rejects NaN and infinities (a NaN passes every ``<=`` check). Speeds here are human km/h floats;
use :meth:`Config.cap_centi` for the exact integer units the safety code works in.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict, Field, field_validator, model_validator

from treadctl.config import limits
from treadctl.config.ble import BleConfig
from treadctl.config.devices import DeviceConfig
from treadctl.config.fields import Backend
from treadctl.config.history import HistoryConfig
from treadctl.config.logs import LoggingConfig
from treadctl.config.mqtt import MqttConfig
from treadctl.config.people import PersonConfig
from treadctl.config.safety import SafetyConfig
from treadctl.config.section import Section
from treadctl.config.speech import SpeechConfig
from treadctl.units import kmh_to_centi

DEFAULT_CONFIG_PATH = Path("/etc/treadctl/config.toml")
DEFAULT_STATE_DIR = Path("/var/lib/treadctl")


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
