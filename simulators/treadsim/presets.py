"""Treadmill presets: the data files in ``presets/*.toml`` as typed values.

A preset describes one machine: its advertised name, speed and incline ranges, motor, data
layout, Fitness Machine Feature bits and quirk flags. See docs/simulator.md for the file format.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from simulators.treadsim.quirks import Quirk, parse_quirks

DATA_FIELDS = frozenset(
    {
        "average_speed",
        "distance",
        "inclination",
        "elevation_gain",
        "energy",
        "heart_rate",
        "elapsed",
        "remaining",
    }
)
"""Treadmill Data fields a preset may list (FTMS v1.0 §4.4.1); speed is always sent."""


@dataclass(frozen=True, slots=True)
class Range:
    """A supported range in wire units (speed 0.01 km/h, incline 0.1 %)."""

    minimum: int
    maximum: int
    increment: int

    def __post_init__(self) -> None:
        if self.increment <= 0 or self.minimum > self.maximum:
            raise ValueError(f"bad range {self}")


@dataclass(frozen=True, slots=True)
class Preset:
    """One simulated machine."""

    name: str
    device_name: str
    description: str
    speed: Range
    incline: Range | None
    acceleration: int
    """Motor acceleration (and deceleration to a lower target), 0.01 km/h per second."""
    rundown: int
    """Belt run-down after Stop or Pause, 0.01 km/h per second (real pad: ~0.3 km/h/s)."""
    safety_stop: int
    """Belt deceleration after the safety key is pulled, 0.01 km/h per second."""
    start_speed: int
    """Speed the belt goes to after Start when no target was set, 0.01 km/h."""
    launch: bool
    """The belt jumps to its start speed when it starts (instead of accelerating from 0)."""
    start_countdown: float
    """Seconds from Start (Pre-Workout) to the belt moving (Manual Mode)."""
    data_interval: float
    """Seconds between Treadmill Data notifications."""
    data_fields: frozenset[str]
    machine_features: int
    target_features: int
    stride_m: float
    """Metres per step, for the vendor step count."""
    kcal_per_km: float
    quirks: frozenset[Quirk] = field(default_factory=frozenset)
    identity: dict[str, str] = field(default_factory=dict)
    """Device Information Service (0x180A) strings by characteristic: ``manufacturer``,
    ``model_number``, ``serial_number``, ``hardware_revision``, ``firmware_revision``,
    ``software_revision`` (the preset's ``[identity]`` table; defaults in :func:`identity`)."""

    def with_quirks(self, add: frozenset[Quirk], remove: frozenset[Quirk]) -> Preset:
        """A copy with quirk flags added and removed."""
        return replace(self, quirks=(self.quirks | add) - remove)

    @property
    def has_incline(self) -> bool:
        """Whether the machine reports and accepts an incline."""
        return self.incline is not None and Quirk.NO_INCLINATION_RANGE not in self.quirks


IDENTITY_KEYS = (
    "manufacturer",
    "model_number",
    "serial_number",
    "hardware_revision",
    "firmware_revision",
    "software_revision",
)


def identity(name: str, table: dict[str, Any]) -> dict[str, str]:
    """The Device Information strings: the preset's ``[identity]`` over the defaults."""
    unknown = set(table) - set(IDENTITY_KEYS)
    if unknown:
        raise ValueError(f"preset {name}: unknown identity keys {sorted(unknown)}")
    defaults = {
        "manufacturer": "treadsim",
        "model_number": f"treadsim {name}",
        "serial_number": "TS-000001",
        "hardware_revision": "sim",
        "firmware_revision": "1.0",
    }
    return {**defaults, **{k: str(v) for k, v in table.items()}}


def _range(table: dict[str, Any]) -> Range:
    return Range(int(table["minimum"]), int(table["maximum"]), int(table["increment"]))


def preset_from_toml(name: str, text: str) -> Preset:
    """Parse one preset file (raises ValueError/KeyError on a malformed file)."""
    data = tomllib.loads(text)
    speed = data["speed"]
    fields = frozenset(data["data"]["fields"])
    unknown = fields - DATA_FIELDS
    if unknown:
        raise ValueError(f"preset {name}: unknown data fields {sorted(unknown)}")
    speed_range = _range(speed)
    return Preset(
        name=name,
        device_name=str(data["device_name"]),
        description=str(data.get("description", "")),
        speed=speed_range,
        incline=_range(data["incline"]) if "incline" in data else None,
        acceleration=int(speed["acceleration"]),
        rundown=int(speed["rundown"]),
        safety_stop=int(speed["safety_stop"]),
        start_speed=int(speed.get("start", speed_range.minimum)),
        launch=bool(speed.get("launch", False)),
        start_countdown=float(data.get("start_countdown", 3.0)),
        data_interval=float(data["data"]["interval"]),
        data_fields=fields,
        machine_features=int(data["feature"]["machine"]),
        target_features=int(data["feature"]["target"]),
        stride_m=float(data["walker"]["stride_m"]),
        kcal_per_km=float(data["walker"]["kcal_per_km"]),
        quirks=parse_quirks(data.get("quirks", [])),
        identity=identity(name, data.get("identity", {})),
    )


def preset_names() -> list[str]:
    """Names of the bundled presets."""
    folder = resources.files("simulators.treadsim") / "presets"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def load_preset(name_or_path: str) -> Preset:
    """A bundled preset by name (``generic``) or a preset file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.is_file():
        return preset_from_toml(path.stem, path.read_text(encoding="utf-8"))
    folder = resources.files("simulators.treadsim") / "presets"
    candidate = folder / f"{name_or_path}.toml"
    if not candidate.is_file():
        raise ValueError(f"unknown preset {name_or_path!r}; bundled: {', '.join(preset_names())}")
    return preset_from_toml(name_or_path, candidate.read_text(encoding="utf-8"))
