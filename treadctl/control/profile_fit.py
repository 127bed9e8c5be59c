"""Whether a profile can run on this treadmill, and each segment's values for it.

The session runner (:class:`treadctl.control.session.SessionRunner`) arms a profile only if it
fits the limits in force and the connected device (:func:`check_profile`,
:func:`check_profile_for_device`), and sends each segment's speed and incline as fitted here.
"""

from __future__ import annotations

from treadctl.errors import TreadctlError
from treadctl.observations import DeviceInfo
from treadctl.safety.errors import InvariantError
from treadctl.safety.limits import Limits
from treadctl.workout.check import Problem, check_profile, check_profile_for_device
from treadctl.workout.engine import PlannedSegment
from treadctl.workout.models import Profile, SegmentKind


class ProfileRefusedError(TreadctlError):
    """``arm`` refused a profile for these limits or this device."""

    def __init__(self, profile: str, problems: list[Problem]) -> None:
        self.profile = profile
        self.problems = problems
        text = "; ".join(str(p) for p in problems)
        super().__init__(f"profile {profile!r} cannot run here: {text}")


def check_fits(profile: Profile, limits: Limits, info: DeviceInfo) -> None:
    """Raise :class:`ProfileRefusedError` unless ``profile`` fits ``limits`` and the device."""
    problems = check_profile(profile, limits)
    if info.speed_range is None:
        problems.append(Problem((), "the treadmill reported no speed range"))
    else:
        problems += check_profile_for_device(profile, info.speed_range, info.incline_range)
    if problems:
        raise ProfileRefusedError(profile.name, problems)


def segment_speed(planned: PlannedSegment, info: DeviceInfo) -> int:
    if planned.speed is not None:
        return planned.speed
    rng = info.speed_range
    if rng is None:  # unreachable: arm() refused a device without one
        raise InvariantError("SessionRunner._segment_speed", "no device speed range")
    return rng.minimum  # a rest at the belt minimum


def segment_incline(planned: PlannedSegment, info: DeviceInfo) -> int | None:
    if info.incline_range is None:
        return None  # arm() refused profiles that need incline on this device
    if planned.kind == SegmentKind.REST:
        return None
    return planned.incline
