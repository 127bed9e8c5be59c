"""What the bridge publishes: the values the daemon hands it and their JSON (pure).

Speeds and inclines are carried in wire units (0.01 km/h, 0.1 %) in these values and published
in km/h and percent for people and Home Assistant templates. Every key is always present in the
JSON (``null`` when unknown) so that Home Assistant templates never hit an undefined key; a
``null`` renders as ``None``, which Home Assistant shows as "unknown".
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from treadctl.commands import JsonValue
from treadctl.observations import DeviceInfo, InclineRange, Reading, SpeedRange
from treadctl.units import centi_to_kmh, deci_to_percent


@dataclass(frozen=True, slots=True)
class Caps:
    """The limits in force for a device (as the governor applies them)."""

    max_speed: int
    """0.01 km/h."""
    max_incline: int | None = None
    """0.1 %; None when incline is not commanded."""


@dataclass(frozen=True, slots=True)
class HeartRateState:
    """The heart rate the daemon follows for a device, and what the guard makes of it."""

    bpm: int | None
    """The last plausible value (None: none, or the signal is lost)."""
    source: str
    """``strap`` or ``treadmill``."""
    contact: str | None = None
    """``detected``, ``not_detected``, ``not_supported``; None before any sample."""
    holding: bool = False
    """The heart-rate guard holds speed and incline increases."""
    hold_reason: str | None = None
    battery_percent: int | None = None


@dataclass(frozen=True, slots=True)
class DeviceState:
    """One device's state as the daemon sees it. The link comes from ``set_availability``."""

    session: str = "idle"
    """The session state name (the workout engine's vocabulary, e.g. idle, running, paused)."""
    running: bool = False
    """The belt is meant to be moving (a session is running)."""
    profile: str | None = None
    """The profile of the current session."""
    selected_profile: str | None = None
    """The profile a Home Assistant "start" would start."""
    segment: str | None = None
    segment_index: int | None = None
    cue: str | None = None
    target_speed: int | None = None
    reported_speed: int | None = None
    target_incline: int | None = None
    reported_incline: int | None = None
    caps: Caps | None = None
    armed: bool = False
    armed_remaining_s: float | None = None
    last_error: str | None = None
    link_error: str | None = None
    """Why the treadmill is not connected (the last failed attempt, explained), else None."""
    info: DeviceInfo | None = None
    heart_rate: HeartRateState | None = None
    """None when the device has no heart-rate source."""


@dataclass(frozen=True, slots=True)
class ProfileSummary:
    """A profile as listed on ``<prefix>/<device>/profiles`` and in the Home Assistant select."""

    id: str
    title: str = ""
    description: str = ""
    duration_s: int | None = None
    max_speed: int | None = None
    """0.01 km/h."""
    segments: int | None = None
    extra: Mapping[str, JsonValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BridgeEvent:
    """A notable event (safety key, console stop, control lost, overspeed stop, session finished
    with its summary in ``data``)."""

    kind: str
    message: str = ""
    data: Mapping[str, JsonValue] = field(default_factory=dict)


def dumps(value: JsonValue) -> bytes:
    """Compact JSON; NaN and infinities are refused (they are not JSON)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False, sort_keys=False).encode()


def _kmh(centi: int | None) -> float | None:
    return None if centi is None else centi_to_kmh(centi)


def _percent(deci: int | None) -> float | None:
    return None if deci is None else deci_to_percent(deci)


def speed_range_json(r: SpeedRange | None) -> JsonValue:
    if r is None:
        return None
    return {
        "min_kmh": centi_to_kmh(r.minimum),
        "max_kmh": centi_to_kmh(r.maximum),
        "step_kmh": centi_to_kmh(r.increment),
    }


def incline_range_json(r: InclineRange | None) -> JsonValue:
    if r is None:
        return None
    return {
        "min_percent": deci_to_percent(r.minimum),
        "max_percent": deci_to_percent(r.maximum),
        "step_percent": deci_to_percent(r.increment),
    }


def device_info_json(info: DeviceInfo | None) -> JsonValue:
    if info is None:
        return None
    return {
        "address": info.address,
        "name": info.name,
        "speed_range": speed_range_json(info.speed_range),
        "incline_range": incline_range_json(info.incline_range),
    }


def state_json(state: DeviceState, *, link: bool) -> dict[str, JsonValue]:
    caps: JsonValue = None
    if state.caps is not None:
        caps = {
            "max_speed_kmh": centi_to_kmh(state.caps.max_speed),
            "max_incline_percent": _percent(state.caps.max_incline),
        }
    return {
        "link": link,
        "session": state.session,
        "running": state.running,
        "profile": state.profile,
        "selected_profile": state.selected_profile,
        "segment": state.segment,
        "segment_index": state.segment_index,
        "cue": state.cue,
        "target_speed_kmh": _kmh(state.target_speed),
        "speed_kmh": _kmh(state.reported_speed),
        "target_incline_percent": _percent(state.target_incline),
        "incline_percent": _percent(state.reported_incline),
        "caps": caps,
        "armed": state.armed,
        "armed_remaining_s": state.armed_remaining_s,
        "last_error": state.last_error,
        "link_error": None if link else state.link_error,
        "device": device_info_json(state.info),
        **heart_rate_json(state.heart_rate),
    }


def heart_rate_json(hr: HeartRateState | None) -> dict[str, JsonValue]:
    """The ``heart_rate_*`` keys of the state (all present, null without a source)."""
    return {
        "heart_rate_bpm": hr.bpm if hr is not None else None,
        "heart_rate_source": hr.source if hr is not None else None,
        "heart_rate_contact": hr.contact if hr is not None else None,
        "heart_rate_holding": hr.holding if hr is not None else False,
        "heart_rate_hold_reason": hr.hold_reason if hr is not None else None,
        "heart_rate_battery_percent": hr.battery_percent if hr is not None else None,
    }


def telemetry_json(reading: Reading, *, wall_time: float) -> dict[str, JsonValue]:
    """One merged Treadmill Data record (``Reading.at`` is monotonic, so the wall time is sent)."""
    return {
        "ts": round(wall_time, 3),
        "speed_kmh": _kmh(reading.speed),
        "incline_percent": _percent(reading.incline),
        "distance_m": reading.distance_m,
        "elapsed_s": reading.elapsed_s,
        "remaining_s": reading.remaining_s,
        "energy_kcal": reading.energy_kcal,
        "heart_rate_bpm": reading.heart_rate_bpm,
        "steps": reading.steps,
    }


def event_json(event: BridgeEvent, *, wall_time: float) -> dict[str, JsonValue]:
    return {
        "ts": round(wall_time, 3),
        "kind": event.kind,
        "message": event.message,
        "data": dict(event.data),
    }


def profiles_json(profiles: Sequence[ProfileSummary]) -> list[JsonValue]:
    return [
        {
            "id": p.id,
            "title": p.title,
            "description": p.description,
            "duration_s": p.duration_s,
            "max_speed_kmh": _kmh(p.max_speed),
            "segments": p.segments,
            **dict(p.extra),
        }
        for p in profiles
    ]


@dataclass(slots=True)
class TelemetryThrottle:
    """Admits at most one telemetry message per ``min_interval_s`` (0: every record)."""

    min_interval_s: float
    _last: float | None = None

    def admit(self, now: float) -> bool:
        if self._last is not None and now - self._last < self.min_interval_s:
            return False
        self._last = now
        return True
