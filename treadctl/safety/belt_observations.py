"""The governor's intake of belt readings and device events (sans-IO).

Readings (FTMS Treadmill Data §4.4) and events (Fitness Machine Status §4.17), as reduced by
``treadctl.observations``, update what the governor knows of the belt and latch it on overspeed,
a device target above the cap, or a safety event that is not the echo of our own command.
"""

from __future__ import annotations

from treadctl.observations import DeviceEvent, EventKind, Observation, Reading
from treadctl.safety.events import LATCH_FOR_EVENT, LatchReason
from treadctl.safety.governor_core import GovernorCore
from treadctl.safety.phases import Phase, PhaseEvent
from treadctl.safety.procedures import STATUS_OF_EVENT


class BeltObservations(GovernorCore):
    """The observation part of :class:`treadctl.safety.governor.Governor`."""

    __slots__ = ()

    # ----------------------------------------------------------------- observations

    def observe(self, obs: Observation) -> None:
        """Feed one reading or event (in arrival order)."""
        if isinstance(obs, Reading):
            self._observe_reading(obs)
        else:
            self._observe_event(obs)

    def _observe_reading(self, r: Reading) -> None:
        self.last_reading_at = r.at
        if r.incline is not None:
            self.belt_incline = r.incline
        if r.speed is None:
            return
        self.belt_speed = r.speed
        if r.speed > self.overspeed_threshold and self.latch is not LatchReason.OVERSPEED:
            self._latch(
                LatchReason.OVERSPEED,
                r.at,
                f"belt reports {r.speed} > cap {self.speed_cap} + one increment",
            )
            return
        if self.phase == Phase.STARTING and self._start is not None:
            if self._start.start_sent_at is not None and r.speed > 0:
                self._to(PhaseEvent.BELT_MOVED)
                self.running_since = r.at
                self._manual.belt_moving(r.at)
                self._start = None
                # Ramp and the speed/incline minute count from the moment the belt moves.
                self._speed.last_write_at = r.at
                self._speed.last_raise_at = r.at
                self._note(r.at, f"belt moving at {r.speed}")
        elif self.phase == Phase.STOPPING and r.speed == 0 and self._stop is None:
            self._to(PhaseEvent.BELT_STILL)
            self.running_since = None

    def _observe_event(self, e: DeviceEvent) -> None:
        if e.kind == EventKind.CONNECTED:
            self.connected = True
            self._control.withdraw()  # a new connection holds no control permission
            self._note(e.at, "connected")
            return
        if e.kind == EventKind.DISCONNECTED:
            self.connected = False
            self._control.withdraw()
        status = STATUS_OF_EVENT.get(e.kind)
        # Our own procedure's echo: tagged by the link (which also sees what it sends on its
        # own, e.g. the idle Reset), or recognised from the commands sent here.
        echo = e.echo
        if status is not None:
            echo = self._control.status(status, e.at).echo_of is not None or echo
        if e.kind == EventKind.TARGET_SPEED_CHANGED and e.value is not None:
            if e.value > self.speed_cap and self.latch is not LatchReason.OVERSPEED:
                self._latch(LatchReason.OVERSPEED, e.at, f"device target {e.value} above cap")
            return
        reason = LATCH_FOR_EVENT.get(e.kind)
        if reason is not None and echo:
            self._note(e.at, f"{e.kind.value} status is the echo of our own command")
            reason = None
        if reason is not None:
            self._latch(reason, e.at, f"device event {e.kind.value}")
        if e.kind == EventKind.DISCONNECTED:
            self.belt_speed = None  # unknown until a reading on the next connection
