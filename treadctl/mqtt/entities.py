"""The Home Assistant entities treadctl offers per treadmill, as tables (pure).

:mod:`treadctl.mqtt.discovery` turns these into the discovery payload; docs/home-assistant.md
lists them for people. Names never repeat the device name (Home Assistant puts it in front).
"""

from __future__ import annotations

from dataclasses import dataclass

STATE_LIMIT = 255
"""Home Assistant refuses entity states longer than this (docs/references.md#ha-discovery):
text sensors are cut to it; the cue also goes in full into an attribute."""

SESSION_STATES: tuple[str, ...] = (
    "idle", "arming", "starting", "running", "paused", "stopping", "finished", "aborted",
)  # fmt: skip
"""The session state names (``treadctl.control.session.SessionState``; a test keeps them equal):
the options of the session ``enum`` sensor."""

EVENT_TYPES: tuple[str, ...] = (
    "safety_key", "console_stop", "console_pause", "control_lost", "disconnected", "reset",
    "stale_telemetry", "overspeed", "mph_suspected", "command_failed", "start_timeout",
    "belt_moving_at_start", "block_time_limit", "emergency_stop", "restart_stop",
    "heart_rate", "heart_rate_hold", "heart_rate_hold_ended",
    "session_finished", "session_aborted",
)  # fmt: skip
"""Event kinds the ``event`` entity offers to automations: every published safety event
(``treadctl.safety.events``; a test keeps them covered), the restart stop, the heart-rate guard
and the end of a session (with its summary). Other kinds on the event topic (spoken cues,
diagnostics) render empty and the entity ignores them."""


@dataclass(frozen=True, slots=True)
class SensorSpec:
    key: str
    name: str
    field: str
    """Key of the state or telemetry JSON."""
    unit: str | None = None
    device_class: str | None = None
    state_class: str | None = None
    icon: str | None = None
    precision: int | None = None
    """``suggested_display_precision``: decimals shown."""
    telemetry: bool = True
    """From the telemetry topic; False: from the retained state."""
    diagnostic: bool = False

    @property
    def text(self) -> bool:
        return self.unit is None and self.device_class is None


_M, _T = "measurement", "total_increasing"

SENSORS: tuple[SensorSpec, ...] = (
    SensorSpec("speed", "Speed", "speed_kmh", "km/h", "speed", _M, precision=1),
    SensorSpec("distance", "Distance", "distance_m", "m", "distance", _T, precision=0),
    SensorSpec("incline", "Incline", "incline_percent", "%", None, _M, "mdi:slope-uphill", 1),
    SensorSpec("elapsed", "Elapsed time", "elapsed_s", "s", "duration", _M, precision=0),
    SensorSpec("remaining", "Remaining time", "remaining_s", "s", "duration", _M, precision=0),
    # Heart rate has no device class in Home Assistant: plain bpm (docs/references.md#ha-discovery).
    # From the state: the source the heart-rate guard follows (a strap, else the treadmill).
    SensorSpec(
        "heart_rate",
        "Heart rate",
        "heart_rate_bpm",
        "bpm",
        None,
        _M,
        "mdi:heart-pulse",
        0,
        telemetry=False,
    ),
    SensorSpec("energy", "Energy", "energy_kcal", "kcal", None, _T, "mdi:fire", 0),
    SensorSpec("steps", "Steps", "steps", "steps", None, _T, "mdi:shoe-print", 0),
    SensorSpec("segment", "Segment", "segment", icon="mdi:format-list-numbered", telemetry=False),
    SensorSpec(
        "last_error",
        "Last error",
        "last_error",
        icon="mdi:alert-circle-outline",
        telemetry=False,
        diagnostic=True,
    ),
    SensorSpec(
        "link_error",
        "Link problem",
        "link_error",
        icon="mdi:bluetooth-off",
        telemetry=False,
        diagnostic=True,
    ),
)
"""Plain sensors. The session (an ``enum``) and the cue (the full text in an attribute) are
built in the discovery module."""

BINARY_SENSORS: tuple[tuple[str, str, str, str | None, bool], ...] = (
    # key, name, state field, device class, diagnostic
    ("link", "Link", "link", "connectivity", True),
    ("running", "Running", "running", "running", False),
    ("heart_rate_hold", "Heart-rate guard holding", "heart_rate_holding", None, False),
)

BUTTONS: tuple[tuple[str, str, str], ...] = (
    # set/<key>, name, icon; the emergency stop first
    ("emergency_stop", "Emergency stop", "mdi:alert-octagon"),
    ("stop", "Stop", "mdi:stop"),
    ("pause", "Pause", "mdi:pause"),
    ("resume", "Resume", "mdi:play-pause"),
    ("start", "Start profile", "mdi:play"),
    ("skip_segment", "Skip segment", "mdi:skip-next"),
    ("arm", "Arm remote control", "mdi:shield-key"),
    ("disarm", "Disarm remote control", "mdi:shield-off"),
    ("reload_profiles", "Reload profiles", "mdi:reload"),
)
"""Buttons (payload ``PRESS`` to ``set/<key>``): every command without a value."""

OPTIONAL: dict[str, str] = {
    "profile": "select",
    "speed_setpoint": "number",
    "incline_setpoint": "number",
}
"""Components present only when they apply; otherwise sent in removal form (key → platform)."""

REMOVED: dict[str, str] = {"armed": "binary_sensor"}
"""Components of earlier versions, always sent in removal form (the ``remote_control`` switch
replaced the ``armed`` binary sensor)."""

COMMAND_PLATFORMS = frozenset({"button", "number", "select", "switch"})
"""Platforms that publish commands: each such component carries ``qos: 1``."""
