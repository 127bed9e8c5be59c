"""One treadmill's heart-rate source, wired to its governed treadmill (docs/heart-rate.md).

:class:`HeartRateFeed` owns the strap's reconnect supervisor (``[devices.heart_rate] source =
"strap"``) or takes the treadmill's own heart-rate field (``source = "treadmill"``), and hands
every sample to the governed treadmill, whose heart-rate guard decides. Per session it sets the
limits of the person the session is for. It publishes what MQTT shows (``heart_rate_*``) and the
hold events; the hard-limit stop is a governor latch, published like every safety event.

Nothing here can move the belt: the feed only informs the guard, which can only hold increases
or stop. A failure of the strap side is logged and treated as a lost signal (the guard holds);
it never ends the treadmill's tasks.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, NoReturn, Protocol

from treadctl.backoff import backoff_delay
from treadctl.ble.options import LinkOptions
from treadctl.ble.strap import StrapLink, StrapSupervisor
from treadctl.clock import Clock
from treadctl.commands import JsonValue
from treadctl.control.governed import GovernedTreadmill
from treadctl.hrs import (
    HeartRateItem,
    HeartRateSample,
    HeartRateSource,
    SensorContact,
    SensorStatus,
)
from treadctl.mqtt.outbound import HeartRateState
from treadctl.observations import Reading
from treadctl.safety.heart_rate import HR_MAX_RANGE, HeartRateGuard, HeartRateLimits
from treadctl.safety.phases import Phase

MONITOR_HR_MAX = HR_MAX_RANGE[1]
"""The monitor (no limits configured) only filters and counts; its thresholds are never used."""

BATTERY_LOW_PERCENT = 15
"""At or below this the strap's battery is reported as low (a warning, once per drop): a
strap that dies mid-session makes the guard hold. Project choice, docs/heart-rate.md."""

_CUES = {
    "above_soft": "heart_rate_hold",
    "contact_lost": "heart_rate_contact",
    "signal_lost": "heart_rate_signal",
    "sensor_disconnected": "heart_rate_signal",
}
"""The spoken cue (treadctl.speech.phrases) for each kind of hold."""


class EventSink(Protocol):
    async def event(
        self, device: str, kind: str, message: str, data: dict[str, JsonValue]
    ) -> None: ...


class HeartRateFeed:
    """See the module docstring. ``limits_for(person)`` gives a person's limits (None: the
    default person) or None when that person has neither ``age`` nor ``hr_max_bpm``."""

    def __init__(
        self,
        device_id: str,
        source: str,
        governed: GovernedTreadmill,
        *,
        clock: Clock,
        log: Callable[..., None],
        limits_for: Callable[[str | None], HeartRateLimits | None],
        strap_options: LinkOptions | None = None,
        reconnect_max_backoff_s: float = 30.0,
    ) -> None:
        if source not in ("strap", "treadmill"):
            raise ValueError(f"unknown heart-rate source {source!r}")
        self.id = device_id
        self.source = source
        self.governed = governed
        self.clock = clock
        self._log = log
        self._limits_for = limits_for
        self.supervisor: StrapSupervisor | None = None
        if source == "strap":
            options = strap_options or LinkOptions()
            self.supervisor = StrapSupervisor(
                lambda: StrapLink(options, clock=clock.now),
                clock=clock.now,
                backoff=functools.partial(backoff_delay, maximum_s=reconnect_max_backoff_s),
            )
        self.contact: str | None = None
        self.battery_percent: int | None = None
        self.connected = False
        self.changed = asyncio.Event()
        """Set whenever what :meth:`state` shows may have changed."""
        self.limits: HeartRateLimits | None = None
        self._monitor: HeartRateGuard | None = None
        self.cue: Callable[[str], None] | None = None
        """Told the cue kind when the guard starts holding a moving belt (spoken cues)."""

    # ----------------------------------------------------------------- sessions
    def begin(self, person: str | None) -> HeartRateLimits | None:
        """A session for ``person`` starts: guard it with that person's limits."""
        self.limits = self._limits_for(person)
        self.governed.set_heart_rate_limits(self.limits)
        # Without limits the heart rate is still shown and recorded: filtered the same way by
        # a guard that guards nothing (it is not the governor's, whose guard is then None).
        self._monitor = (
            None
            if self.limits is not None
            else HeartRateGuard(HeartRateLimits(MONITOR_HR_MAX), now=self.clock.now())
        )
        self._log(
            "heart_rate_limits",
            device=self.id,
            person=person,
            limits=self.limits.describe() if self.limits else "none (no age or hr_max_bpm)",
        )
        self.changed.set()
        return self.limits

    def summary(self) -> dict[str, JsonValue]:
        """Heart rate of the session so far: plausible values only (for the summary)."""
        guard = self.governed.heart_rate_guard
        guarded = guard is not None
        guard = guard or self._monitor
        if guard is None:
            return {"source": self.source, "guarded": False}
        stats = guard.stats
        average = stats.average_bpm
        if not guarded:
            return {
                "source": self.source,
                "guarded": False,
                "average_bpm": None if average is None else round(average, 1),
                "max_bpm": stats.max_bpm,
                "filtered": sum(guard.filtered.values()),
            }
        return {
            "source": self.source,
            "guarded": True,
            "average_bpm": None if average is None else round(average, 1),
            "max_bpm": stats.max_bpm,
            "above_soft_s": round(stats.above_soft_s, 1),
            "soft_bpm": guard.limits.soft_bpm,
            "hard_bpm": guard.limits.hard_bpm,
            "filtered": sum(guard.filtered.values()),
        }

    def state(self) -> HeartRateState:
        st = self.governed.state()
        bpm = st.heart_rate_bpm
        if self._monitor is not None:
            bpm = self._monitor.verdict(self.clock.now()).bpm
        return HeartRateState(
            bpm=bpm,
            source=self.source,
            contact=self.contact,
            holding=st.heart_rate_hold is not None,
            hold_reason=st.heart_rate_hold,
            battery_percent=self.battery_percent,
        )

    # ----------------------------------------------------------------- input
    def treadmill_reading(self, reading: Reading) -> None:
        """A Treadmill Data record: its heart-rate field is the source with ``treadmill``.
        0 is what hand grips send without hands on them (no contact)."""
        if self.source != "treadmill" or reading.heart_rate_bpm is None:
            return
        bpm = reading.heart_rate_bpm
        contact = SensorContact.NOT_DETECTED if bpm == 0 else SensorContact.NOT_SUPPORTED
        self._item(HeartRateSample(reading.at, bpm, contact, HeartRateSource.TREADMILL))

    def _item(self, item: HeartRateItem) -> None:
        item = self.governed.observe_heart_rate(item)
        if self._monitor is not None:
            self._monitor.observe(item)
        if isinstance(item, SensorStatus):
            self.connected = item.connected
            if item.battery_percent is not None:
                was = self.battery_percent
                self.battery_percent = item.battery_percent
                if item.battery_percent <= BATTERY_LOW_PERCENT and (
                    was is None or was > BATTERY_LOW_PERCENT
                ):
                    self._log(
                        "heart_rate_battery_low",
                        level="warning",
                        device=self.id,
                        battery_percent=item.battery_percent,
                    )
            if not item.connected:
                self.contact = None
        else:
            self.connected = True
            self.contact = item.contact.value
        self.changed.set()

    # ----------------------------------------------------------------- running
    async def run(self, sink: EventSink | None) -> None:
        """The strap (when it is the source) and the hold events, until cancelled."""
        async with asyncio.TaskGroup() as tasks:
            if self.supervisor is not None:
                tasks.create_task(self._strap(), name=f"{self.id}-strap")
            tasks.create_task(self._holds(sink), name=f"{self.id}-heart-rate-holds")

    async def _strap(self) -> None:
        supervisor = self.supervisor
        if supervisor is None:
            return
        async with asyncio.TaskGroup() as tasks:
            runner = tasks.create_task(self._supervise(supervisor))
            try:
                async for item in supervisor.readings():
                    self._item(item)
                    if isinstance(item, SensorStatus) and not item.connected:
                        self._log(
                            "heart_rate_sensor",
                            device=self.id,
                            connected=False,
                            reason=item.reason,
                            retry_in_s=item.retry_in_s,
                        )
                    elif isinstance(item, SensorStatus) and item.reason != "battery":
                        self._log(
                            "heart_rate_sensor",
                            device=self.id,
                            connected=True,
                            battery_percent=item.battery_percent,
                            location=item.location,
                        )
            finally:
                runner.cancel()

    async def _supervise(self, supervisor: StrapSupervisor) -> None:
        try:
            await supervisor.run()
        except Exception as exc:  # the strap must never take the treadmill down
            self._log("heart_rate_sensor_failed", level="error", device=self.id, error=repr(exc))
            self._item(SensorStatus(self.clock.now(), HeartRateSource.STRAP, False, repr(exc)))
            await asyncio.Event().wait()  # held: the guard sees a lost signal from now on

    async def _holds(self, sink: EventSink | None) -> NoReturn:
        """Publish each start, change of kind and end of a heart-rate hold (log line, MQTT
        event, spoken cue while the belt moves); not every new bpm value of the same hold."""
        event = self.governed.watch()
        kind_seen: str | None = None
        try:
            while True:
                event.clear()
                st = self.governed.state()
                kind_now = st.heart_rate_hold_kind
                if kind_now == "confirming" and kind_seen is not None:
                    kind_now = kind_seen  # still the same hold until the value is confirmed
                if kind_now != kind_seen:
                    kind_seen = kind_now
                    cue = _CUES.get(kind_seen or "")
                    if cue is not None and self.cue is not None and st.phase == Phase.RUNNING:
                        self.cue(cue)
                    name = "heart_rate_hold" if kind_seen else "heart_rate_hold_ended"
                    data: dict[str, Any] = {
                        "bpm": st.heart_rate_bpm,
                        "source": self.source,
                        "kind": kind_seen,
                    }
                    reason = st.heart_rate_hold
                    self._log(name, device=self.id, reason=reason, bpm=st.heart_rate_bpm)
                    self.changed.set()
                    if sink is not None:
                        await sink.event(self.id, name, reason or "", data)
                await event.wait()
        finally:
            self.governed.unwatch(event)
