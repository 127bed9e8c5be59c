"""The daemon's side of the MQTT bridge: device values to the bridge's publishing calls, and
the bridge's requests to the devices' command handler.

Only the daemon imports both the control layer and the MQTT adapter; this is where they meet.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping

from treadctl.commands import JsonValue
from treadctl.control.session_states import SessionState
from treadctl.daemon.device import DeviceRuntime
from treadctl.daemon.known_devices import KnownDevices
from treadctl.history.journey import JourneySummary
from treadctl.mqtt.bridge import MqttBridge
from treadctl.mqtt.outbound import BridgeEvent, Caps, DeviceState, HeartRateState, ProfileSummary
from treadctl.observations import Reading
from treadctl.units import kmh_to_centi
from treadctl.workout.models import Profile


class MqttSink:
    """Implements :class:`treadctl.daemon.device.DeviceSink` on an :class:`MqttBridge`.

    ``known``: where the last known device info is kept (the bridge starts with what it holds);
    a treadmill's new info is written there, off the event loop, when it changes."""

    def __init__(self, bridge: MqttBridge, known: KnownDevices | None = None) -> None:
        self.bridge = bridge
        self.known = known

    async def availability(self, device: str, up: bool) -> None:
        await self.bridge.set_availability(device, up)

    async def telemetry(self, device: str, reading: Reading) -> None:
        await self.bridge.publish_telemetry(device, reading)

    async def event(
        self, device: str, kind: str, message: str, data: Mapping[str, JsonValue]
    ) -> None:
        await self.bridge.publish_event(device, BridgeEvent(kind, message, dict(data)))

    async def state(self, runtime: DeviceRuntime) -> None:
        state = device_state(runtime)
        known = self.bridge.known_info(runtime.id)
        await self.bridge.publish_state(runtime.id, state)
        if self.known is not None and state.info is not None and state.info != known:
            await asyncio.to_thread(self.known.save, runtime.id, state.info)

    async def journey(
        self, device: str, summary: JourneySummary, rating: Mapping[str, JsonValue]
    ) -> None:
        await self.bridge.publish_journey(device, journey_json(summary, rating))

    async def profiles(self, runtime: DeviceRuntime) -> None:
        await self.bridge.publish_profiles(
            runtime.id, [profile_summary(p) for p in runtime.catalog.all()]
        )


def journey_json(summary: JourneySummary, rating: Mapping[str, JsonValue]) -> dict[str, JsonValue]:
    """The retained ``<prefix>/<device>/journey`` payload (docs/home-assistant.md)."""
    return {
        "person": summary.person,
        "program": summary.program,
        "stage": summary.stage,
        "stage_name": summary.stage_name,
        "stage_count": summary.stage_count,
        "stage_label": f"{summary.stage_name} ({summary.stage} of {summary.stage_count})",
        "sessions_this_week": summary.sessions_this_week,
        "backward_min_this_week": summary.backward_min_this_week,
        "last_session": summary.last_session,
        "last_session_id": summary.last_session_id,
        "last_rated": summary.last_rated,
        "next_due": summary.next_due.isoformat(),
        "rating": dict(rating),
    }


def device_state(runtime: DeviceRuntime) -> DeviceState:
    snap = runtime.snapshot()
    gov = runtime.governed.state()
    now = runtime.clock.now()
    info = runtime.governed.info
    return DeviceState(
        session=snap.state.value,
        running=snap.state in (SessionState.STARTING, SessionState.RUNNING),
        profile=snap.profile,
        selected_profile=runtime.selected_profile,
        segment=snap.segment_name,
        segment_index=snap.segment_index,
        cue=snap.cue or None,
        target_speed=snap.target_speed,
        reported_speed=snap.reported_speed,
        target_incline=snap.target_incline,
        reported_incline=snap.reported_incline,
        caps=Caps(
            max_speed=gov.speed_cap,
            max_incline=gov.incline_cap if info.incline_range is not None else None,
        ),
        armed=runtime.arming.armed(now),
        armed_remaining_s=whole_seconds(runtime.arming.remaining_s(now)),
        last_error=runtime.last_error
        or (snap.reason if snap.state == SessionState.ABORTED else None),
        link_error=None if runtime.link_up else runtime.link_error,
        info=info if info.address else None,
        heart_rate=heart_rate_state(runtime),
    )


def heart_rate_state(runtime: DeviceRuntime) -> HeartRateState | None:
    """The configured source's heart rate and the guard's hold; without a configured source,
    the treadmill's own heart-rate field when it sends one (never a hold: no guard)."""
    if runtime.heart_rate is not None:
        return runtime.heart_rate.state()
    reading = runtime.last_reading
    if reading is None or reading.heart_rate_bpm is None:
        return None
    bpm = reading.heart_rate_bpm or None  # 0: no hands on the grips
    return HeartRateState(bpm=bpm, source="treadmill")


def whole_seconds(seconds: float | None) -> float | None:
    """A remaining time in whole seconds, rounded up (0.3 s left is 1 s, never 0 while armed).
    In the state so that it changes once a second, not with every telemetry record (each change
    is a retained state message, docs/benchmarks.md)."""
    return None if seconds is None else float(math.ceil(seconds))


def profile_summary(profile: Profile) -> ProfileSummary:
    speeds = [s.speed_kmh for s in profile.segments if s.speed_kmh is not None]
    return ProfileSummary(
        id=profile.name,
        title=profile.name.replace("-", " ").capitalize(),
        description=profile.description,
        duration_s=profile.duration_s,
        max_speed=kmh_to_centi(max(speeds)) if speeds else None,
        segments=len(profile.segments),
        extra={
            "level": profile.level.value,
            "needs_handrails": profile.needs_handrails,
            "cap_kmh": profile.cap_kmh,
        },
    )
