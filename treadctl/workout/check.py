"""Safety checks of a whole profile against the limits, and against one device.

Each rule returns :class:`Problem` values naming the field (a path such as
``("segments", 2, "speed_kmh")``) and the reason; the loader adds the file and line. The
numbers come from ``treadctl.safety.limits`` (each names its source). Pure module.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from treadctl.observations import InclineRange, SpeedRange
from treadctl.safety import limits as L
from treadctl.safety.device import fit_down
from treadctl.workout.models import Direction, Profile, RestBelt, Segment, SegmentKind

FieldPath = tuple[str | int, ...]

MAX_BACKWARD_BLOCK_S = 30 * 60
"""docs/references.md#retro-defaults: block length progression "max 30 min" (Chang et
al. 2021: 30 min)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a profile is refused. ``line`` is filled in by the loader when known."""

    field: FieldPath
    reason: str
    file: str | None = None
    line: int | None = None

    def where(self) -> str:
        place = self.file or "<profile>"
        if self.line is not None:
            place += f":{self.line}"
        path = ".".join(str(p) for p in self.field)
        return f"{place}: {path}" if path else place

    def __str__(self) -> str:
        return f"{self.where()}: {self.reason}"


def _kmh(centi: int) -> str:
    return f"{centi / 100:g} km/h"


def check_profile(profile: Profile, limits: L.Limits | None = None) -> list[Problem]:
    """Every way this profile could exceed a cap or a ramp limit. Empty means safe to run."""
    limits = limits or L.Limits()
    return [*_caps(profile, limits), *_shape(profile), *_ramps(profile), *_blocks(profile, limits)]


def _caps(profile: Profile, limits: L.Limits) -> Iterator[Problem]:
    cap = profile.cap
    if cap > L.ABSOLUTE_SPEED_CAP:
        yield Problem(("cap_kmh",), f"{_kmh(cap)} is above the absolute cap 4 km/h")
    elif cap > limits.user_speed_cap:
        user = _kmh(limits.user_speed_cap)
        yield Problem(("cap_kmh",), f"{_kmh(cap)} is above the user cap {user}")
    if not profile.needs_handrails and cap > L.HANDRAIL_FREE_SPEED_CAP:
        yield Problem(
            ("cap_kmh",),
            f"a profile without handrails must cap at {_kmh(L.HANDRAIL_FREE_SPEED_CAP)} or less",
        )
    if profile.needs_handrails and not limits.handrails:
        yield Problem(("needs_handrails",), "this profile needs handrails; the treadmill has none")
    effective = min(cap, limits.speed_cap)
    for i, seg in enumerate(profile.segments):
        speed = seg.speed
        if speed is not None and speed > effective:
            which = "profile" if effective == cap else "user/handrail-free"
            yield Problem(
                ("segments", i, "speed_kmh"),
                f"{_kmh(speed)} is above the {which} cap {_kmh(effective)}",
            )
        if seg.incline > limits.incline_cap:
            yield Problem(
                ("segments", i, "incline_percent"),
                f"{seg.incline / 10:g} % is above the incline cap {limits.incline_cap / 10:g} %",
            )


def _shape(profile: Profile) -> Iterator[Problem]:
    segs = profile.segments
    if segs[0].kind == SegmentKind.REST:
        yield Problem(("segments", 0, "kind"), "a session cannot begin with a rest")
    if segs[-1].kind == SegmentKind.REST:
        yield Problem(("segments", len(segs) - 1, "kind"), "a session cannot end with a rest")
    if not any(s.kind == SegmentKind.BACKWARD for s in segs):
        yield Problem(("segments",), "no backward block")
    for i in range(1, len(segs)):
        if segs[i].kind == SegmentKind.REST and segs[i - 1].kind == SegmentKind.REST:
            yield Problem(("segments", i, "kind"), "two rests in a row; merge them")
    # Turning around on a moving belt is a fall risk: a direction change needs a stopped rest.
    facing: Direction | None = None
    stopped_since = True
    for i, seg in enumerate(segs):
        if seg.kind == SegmentKind.REST:
            stopped_since = stopped_since or seg.rest_belt == RestBelt.STOPPED
            continue
        if facing is not None and seg.facing != facing and not stopped_since:
            yield Problem(
                ("segments", i, "direction"),
                "turning around needs a rest with the belt stopped before this segment",
            )
        facing = seg.facing
        stopped_since = False


def _ramps(profile: Profile) -> Iterator[Problem]:
    rate = L.ACCELERATION_CENTI_PER_S
    incline_per_s = L.INCLINE_RAMP_DECI_PER_MIN / 60
    prev_speed = 0
    prev_incline = 0
    for i, seg in enumerate(profile.segments):
        if seg.kind == SegmentKind.REST:
            # Stopped: the next segment starts at the start speed. At the device minimum
            # (unknown here, possibly 0.1 km/h): assume the longest ramp, from 0.
            prev_speed = 0 if seg.rest_belt == RestBelt.STOPPED else -1
            continue
        speed = seg.speed or 0
        start_from = min(L.START_SPEED, speed) if prev_speed == 0 else max(prev_speed, 0)
        need_speed = abs(speed - start_from) / rate
        need_incline = abs(seg.incline - prev_incline) / incline_per_s
        if speed > start_from and seg.incline > prev_incline:
            yield Problem(
                ("segments", i),
                "raises speed and incline together; "
                "never raise both in the same minute (docs/references.md#retro-defaults): "
                "split the segment",
            )
        if need_speed > seg.duration:
            yield Problem(
                ("segments", i, "duration"),
                f"reaching {_kmh(speed)} from {_kmh(start_from)} at 0.1 km/h per second takes "
                f"{need_speed:g} s; the segment lasts {seg.duration} s",
            )
        if need_incline > seg.duration:
            yield Problem(
                ("segments", i, "duration"),
                f"changing incline by {abs(seg.incline - prev_incline) / 10:g} % at "
                f"{L.INCLINE_RAMP_DECI_PER_MIN / 10:g} % per minute takes {need_incline:g} s; "
                f"the segment lasts {seg.duration} s",
            )
        prev_speed, prev_incline = speed, seg.incline


def _blocks(profile: Profile, limits: L.Limits) -> Iterator[Problem]:
    segs = profile.segments
    no_rails = not profile.needs_handrails or not limits.handrails
    # Backward blocks: consecutive backward segments.
    i = 0
    while i < len(segs):
        if segs[i].kind != SegmentKind.BACKWARD:
            i += 1
            continue
        start = i
        elapsed = 0
        block_speed = segs[i].speed or 0
        while i < len(segs) and segs[i].kind == SegmentKind.BACKWARD:
            speed = segs[i].speed or 0
            if i > start and speed > block_speed and elapsed < L.NO_INCREASE_AT_BLOCK_START_S:
                yield Problem(
                    ("segments", i, "speed_kmh"),
                    f"speeds up {elapsed} s into a backward block; no speed increase in the "
                    f"first {L.NO_INCREASE_AT_BLOCK_START_S // 60} minutes of a block",
                )
            block_speed = max(block_speed, speed)
            elapsed += segs[i].duration
            i += 1
        if elapsed > MAX_BACKWARD_BLOCK_S:
            yield Problem(
                ("segments", start),
                f"backward block of {elapsed // 60} min is longer than "
                f"{MAX_BACKWARD_BLOCK_S // 60} min",
            )
    # Continuous belt-moving time without handrails.
    if no_rails:
        moving = 0
        for i, seg in enumerate(segs):
            if not seg.moving:
                moving = 0
                continue
            moving += seg.duration
            if moving > L.HANDRAIL_FREE_BLOCK_MAX_S:
                yield Problem(
                    ("segments", i, "duration"),
                    f"without handrails the belt may run at most "
                    f"{L.HANDRAIL_FREE_BLOCK_MAX_S // 60} min between stopped rests "
                    f"(here {moving // 60} min {moving % 60} s)",
                )
                moving = 0  # report once per block


def check_profile_for_device(
    profile: Profile, speed_range: SpeedRange, incline_range: InclineRange | None = None
) -> list[Problem]:
    """Problems running this profile on a device with these ranges (FTMS 0x2AD4/0x2AD5).

    A segment below the device minimum is refused, never rounded up; a speed between
    increments is fine (it is rounded down) and not reported.
    """
    problems: list[Problem] = []
    for i, seg in enumerate(profile.segments):
        problems.extend(_device_segment(i, seg, speed_range, incline_range))
    return problems


def _device_segment(
    i: int, seg: Segment, speed_range: SpeedRange, incline_range: InclineRange | None
) -> Iterator[Problem]:
    speed = seg.speed
    if speed is not None:
        if fit_down(speed, speed_range) is None:
            yield Problem(
                ("segments", i, "speed_kmh"),
                f"{_kmh(speed)} is below this treadmill's minimum {_kmh(speed_range.minimum)}; "
                "it cannot go that slowly (not rounded up): use a profile made for it",
            )
        elif speed > speed_range.maximum:
            yield Problem(
                ("segments", i, "speed_kmh"),
                f"{_kmh(speed)} is above this treadmill's maximum {_kmh(speed_range.maximum)}",
            )
    if seg.incline > 0:
        if incline_range is None:
            yield Problem(
                ("segments", i, "incline_percent"),
                "this treadmill reports no incline range; the profile needs incline",
            )
        elif fit_down(seg.incline, incline_range) is None or seg.incline > incline_range.maximum:
            yield Problem(
                ("segments", i, "incline_percent"),
                f"{seg.incline / 10:g} % is outside this treadmill's incline range "
                f"{incline_range.minimum / 10:g}-{incline_range.maximum / 10:g} %",
            )
