"""What the payload of each command topic means (pure): the JSON body of ``request/<command>``
and the plain payload of ``set/<key>``, turned into :class:`~treadctl.commands.Command` values.

Only the value's *type and form* are checked here (finite numbers, not booleans, non-negative
speed, the FTMS wire range, known fields); :func:`treadctl.mqtt.requests.interpret` decides
everything about the message around it (topic, size, age, transaction).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import TypeAlias, cast

from treadctl.commands import (
    RATING_DIFFICULTIES,
    Arm,
    Command,
    CommandName,
    Disarm,
    EmergencyStop,
    ErrorCode,
    JsonValue,
    Pause,
    RateSession,
    RatingDraft,
    ReloadProfiles,
    Resume,
    SelectProfile,
    SetIncline,
    SetSpeed,
    SkipSegment,
    StartNext,
    StartProfile,
    Stop,
    SubmitRating,
)

Transaction: TypeAlias = str | int

MAX_TRANSACTION_CHARS = 128
MAX_PROFILE_CHARS = 128
PRESS = "PRESS"  # Home Assistant MQTT button default payload_press


class PayloadError(Exception):
    """A payload that does not make a command: the error code and message to reply with."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def is_number(value: object) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer too large for a float
        return False


def json_object(text: str) -> dict[str, JsonValue]:
    if not text.strip():
        return {}
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise PayloadError(ErrorCode.MALFORMED, f"payload is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise PayloadError(ErrorCode.MALFORMED, "payload must be a JSON object")
    return cast(dict[str, JsonValue], value)


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number")


def transaction_of(body: dict[str, JsonValue]) -> Transaction | None:
    value = body.pop("transaction", None)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PayloadError(ErrorCode.INVALID_VALUE, "transaction must be a string or an integer")
    if isinstance(value, str) and not 0 < len(value) <= MAX_TRANSACTION_CHARS:
        raise PayloadError(
            ErrorCode.INVALID_VALUE, f"transaction must be 1..{MAX_TRANSACTION_CHARS} characters"
        )
    return value


def _number(body: Mapping[str, JsonValue], key: str) -> float:
    if key not in body:
        raise PayloadError(ErrorCode.INVALID_VALUE, f"missing field {key!r}")
    value = body[key]
    if not is_number(value):
        raise PayloadError(ErrorCode.INVALID_VALUE, f"{key} must be a finite number")
    return float(cast(float, value))


def _profile(body: Mapping[str, JsonValue]) -> str:
    value = body.get("profile")
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(ErrorCode.INVALID_VALUE, "profile must be a non-empty string")
    return _profile_name(value)


def _profile_name(value: str) -> str:
    if len(value) > MAX_PROFILE_CHARS or not value.isprintable():
        raise PayloadError(
            ErrorCode.INVALID_VALUE, f"profile must be 1..{MAX_PROFILE_CHARS} printable characters"
        )
    return value


def _value_error(build: Callable[[], Command]) -> Command:
    try:
        return build()
    except ValueError as exc:
        raise PayloadError(ErrorCode.INVALID_VALUE, str(exc)) from None


def _build_arm(body: Mapping[str, JsonValue]) -> Command:
    if "duration_s" not in body:
        return Arm()
    duration = _number(body, "duration_s")
    if duration <= 0:
        raise PayloadError(ErrorCode.INVALID_VALUE, "duration_s must be positive")
    return Arm(duration_s=duration)


def _build_start(body: Mapping[str, JsonValue]) -> Command:
    options = body.get("options", {})
    if not isinstance(options, dict):
        raise PayloadError(ErrorCode.INVALID_VALUE, "options must be a JSON object")
    return StartProfile(profile=_profile(body), options=options)


MAX_ID_CHARS = 64


def _optional_id(body: Mapping[str, JsonValue], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_CHARS or not value.isprintable():
        raise PayloadError(
            ErrorCode.INVALID_VALUE, f"{key} must be 1..{MAX_ID_CHARS} printable characters"
        )
    return value


def _build_rate(body: Mapping[str, JsonValue]) -> Command:
    pain = body.get("pain")
    if isinstance(pain, bool) or not isinstance(pain, int):
        raise PayloadError(ErrorCode.INVALID_VALUE, "pain must be a whole number 0-10")
    difficulty = body.get("difficulty")
    if not isinstance(difficulty, str):
        raise PayloadError(ErrorCode.INVALID_VALUE, "difficulty must be easy, ok or hard")
    near_fall = body.get("near_fall", False)
    if not isinstance(near_fall, bool):
        raise PayloadError(ErrorCode.INVALID_VALUE, "near_fall must be true or false")
    session, person = _optional_id(body, "session"), _optional_id(body, "person")
    return _value_error(
        lambda: RateSession(
            pain=pain, difficulty=difficulty, near_fall=near_fall, session=session, person=person
        )
    )


_REQUESTS: dict[str, tuple[frozenset[str], Callable[[Mapping[str, JsonValue]], Command]]] = {
    CommandName.ARM: (frozenset({"duration_s"}), _build_arm),
    CommandName.DISARM: (frozenset(), lambda _: Disarm()),
    CommandName.START_PROFILE: (frozenset({"profile", "options"}), _build_start),
    CommandName.SELECT_PROFILE: (
        frozenset({"profile"}),
        lambda b: SelectProfile(profile=_profile(b)),
    ),
    CommandName.PAUSE: (frozenset(), lambda _: Pause()),
    CommandName.RESUME: (frozenset(), lambda _: Resume()),
    CommandName.STOP: (frozenset(), lambda _: Stop()),
    CommandName.EMERGENCY_STOP: (frozenset(), lambda _: EmergencyStop()),
    CommandName.SET_SPEED: (
        frozenset({"kmh"}),
        lambda b: _value_error(lambda: SetSpeed(kmh=_number(b, "kmh"))),
    ),
    CommandName.SET_INCLINE: (
        frozenset({"percent"}),
        lambda b: _value_error(lambda: SetIncline(percent=_number(b, "percent"))),
    ),
    CommandName.SKIP_SEGMENT: (frozenset(), lambda _: SkipSegment()),
    CommandName.RELOAD_PROFILES: (frozenset(), lambda _: ReloadProfiles()),
    CommandName.START_NEXT: (
        frozenset({"person"}),
        lambda b: StartNext(person=_optional_id(b, "person")),
    ),
    CommandName.RATE_SESSION: (
        frozenset({"pain", "difficulty", "near_fall", "session", "person"}),
        _build_rate,
    ),
}


def from_request(name: str, body: Mapping[str, JsonValue]) -> Command:
    entry = _REQUESTS.get(name)
    if entry is None:
        raise PayloadError(ErrorCode.UNKNOWN_COMMAND, f"unknown command {name!r}")
    allowed, build = entry
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise PayloadError(ErrorCode.INVALID_VALUE, f"unknown field(s) for {name}: {unknown}")
    return build(body)


SET_KEYS_PRESS: dict[str, Callable[[], Command]] = {
    "start": lambda: StartProfile(profile=None),
    "pause": Pause,
    "resume": Resume,
    "stop": Stop,
    "emergency_stop": EmergencyStop,
    "arm": Arm,
    "disarm": Disarm,
    "skip_segment": SkipSegment,
    "reload_profiles": ReloadProfiles,
    "start_next": StartNext,
    "rate_session": SubmitRating,
}
"""``set/<key>`` topics that Home Assistant buttons press (payload ``PRESS``)."""


def _decimal(text: str, what: str) -> float:
    text = text.strip()
    if not _DECIMAL.match(text):
        raise PayloadError(
            ErrorCode.INVALID_VALUE, f"{what} must be a decimal number, got {text!r}"
        )
    return float(text)


def from_set(key: str, text: str) -> Command:
    if key in SET_KEYS_PRESS:
        if text.strip() != PRESS:
            raise PayloadError(ErrorCode.INVALID_VALUE, f"set/{key} expects {PRESS!r}")
        return SET_KEYS_PRESS[key]()
    if key == "speed":
        kmh = _decimal(text, "speed")
        return _value_error(lambda: SetSpeed(kmh=kmh))
    if key == "incline":
        percent = _decimal(text, "incline")
        return _value_error(lambda: SetIncline(percent=percent))
    if key == "profile":
        if not text.strip():
            raise PayloadError(ErrorCode.INVALID_VALUE, "profile must be a non-empty string")
        return SelectProfile(profile=_profile_name(text.strip()))
    if key == "rating_pain":
        pain = _decimal(text, "pain")
        if not pain.is_integer() or not 0 <= pain <= 10:
            raise PayloadError(ErrorCode.INVALID_VALUE, "pain must be a whole number 0-10")
        return RatingDraft(pain=int(pain))
    if key == "rating_difficulty":
        value = text.strip().lower()
        if value not in RATING_DIFFICULTIES:
            raise PayloadError(ErrorCode.INVALID_VALUE, "difficulty must be easy, ok or hard")
        return RatingDraft(difficulty=value)
    if key == "rating_near_fall":
        flag = text.strip().upper()
        if flag not in ("ON", "OFF"):
            raise PayloadError(ErrorCode.INVALID_VALUE, "set/rating_near_fall expects ON or OFF")
        return RatingDraft(near_fall=flag == "ON")
    if key == "armed":
        value = text.strip().upper()
        if value == "ON":
            return Arm()
        if value == "OFF":
            return Disarm()
        raise PayloadError(ErrorCode.INVALID_VALUE, "set/armed expects ON or OFF")
    raise PayloadError(ErrorCode.UNKNOWN_COMMAND, f"unknown setting {key!r}")
