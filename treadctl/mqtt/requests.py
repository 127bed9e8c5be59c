"""Turning incoming MQTT command messages into command values, and replies into bytes (pure).

:func:`interpret` takes what arrived (:class:`Inbound`) and returns exactly one of

* :class:`Accepted`: a :class:`~treadctl.commands.Command` with its reply addressing and how long
  it may wait before it is too old to act on;
* :class:`Rejected`: an error :class:`~treadctl.commands.CommandResult` to reply with (where a
  reply can be addressed), nothing to act upon;
* :class:`Ignored`: nothing to act upon and nothing to answer (retained messages, topics that are
  not commands), with the reason for the log.

Two ways in (see ``docs/home-assistant.md``):

* ``<prefix>/<device>/set/<key>``: plain payloads from Home Assistant entities (``PRESS``, a
  number, an option, ``ON``/``OFF``);
* ``<prefix>/<device>/request/<command>``: a JSON object with the command's arguments and the
  optional ``transaction`` (string or integer, echoed in the reply) and ``timestamp`` (Unix
  seconds; refused when older than the configured age).

Only the value's *type and form* are checked here (finite numbers, non-negative speed, the FTMS
wire range). Caps are the governor's: an over-cap speed is accepted here and refused there.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TypeAlias, cast

from treadctl.commands import (
    RATING_DIFFICULTIES,
    Arm,
    Command,
    CommandName,
    CommandResult,
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
from treadctl.mqtt.topics import Channel, Topics

Transaction: TypeAlias = str | int

MAX_TRANSACTION_CHARS = 128
MAX_PROFILE_CHARS = 128
PRESS = "PRESS"  # Home Assistant MQTT button default payload_press


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what the bridge accepts (from ``treadctl.config.mqtt.MqttConfig``)."""

    max_payload_bytes: int = 4096
    max_age_s: float = 10.0
    """Longest a command may be old (timestamp field) or wait in the bridge before it runs."""
    max_clock_skew_s: float = 2.0
    """How far in the future a timestamp may be (clocks of the sender and this host differ)."""


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message as it arrived on a command topic."""

    topic: str
    payload: bytes
    retain: bool = False
    expiry_s: float | None = None
    """MQTT v5 Message Expiry Interval as received (the broker sends what is left of it)."""
    response_topic: str | None = None
    correlation_data: bytes | None = None


@dataclass(frozen=True, slots=True)
class ReplyTo:
    """Where and how to answer one command."""

    device: str
    command: str
    """The ``request/<command>`` or ``set/<key>`` name: replies go to ``response/<command>``."""
    transaction: Transaction | None = None
    response_topic: str | None = None
    """The MQTT v5 Response Topic (already checked by :meth:`Topics.response_topic_allowed`)."""
    correlation_data: bytes | None = None


@dataclass(frozen=True, slots=True)
class Accepted:
    reply_to: ReplyTo
    command: Command
    max_wait_s: float
    """Seconds from receipt after which the command must be refused instead of executed."""
    stale_code: ErrorCode
    """The error code to use when ``max_wait_s`` runs out (``expired`` or ``too_old``)."""


@dataclass(frozen=True, slots=True)
class Rejected:
    reply_to: ReplyTo | None
    result: CommandResult


@dataclass(frozen=True, slots=True)
class Ignored:
    reason: str


Interpretation: TypeAlias = Accepted | Rejected | Ignored


class _Invalid(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def interpret(
    inbound: Inbound,
    *,
    topics: Topics,
    devices: Collection[str],
    limits: Limits,
    wall_now: float,
) -> Interpretation:
    """Decide what one incoming command message means. ``wall_now`` is Unix time (seconds)."""
    if inbound.retain:
        # A retained command would replay on every (re)connect (issue 6, "Safety").
        return Ignored("retained message on a command topic")
    parsed = topics.parse_command(inbound.topic)
    if parsed is None:
        return Ignored("not a command topic")
    response_topic = inbound.response_topic
    bad_response_topic = response_topic is not None and not topics.response_topic_allowed(
        response_topic
    )
    reply_to = ReplyTo(
        device=parsed.device,
        command=parsed.name,
        response_topic=None if bad_response_topic else response_topic,
        correlation_data=inbound.correlation_data,
    )

    def reject(code: ErrorCode, message: str) -> Rejected:
        return Rejected(reply_to, CommandResult.failure(code, message))

    if parsed.device not in devices:
        return reject(ErrorCode.UNKNOWN_DEVICE, f"no treadmill {parsed.device!r} is configured")
    if len(inbound.payload) > limits.max_payload_bytes:
        return reject(
            ErrorCode.TOO_LARGE,
            f"payload of {len(inbound.payload)} bytes exceeds {limits.max_payload_bytes}",
        )
    try:
        text = inbound.payload.decode("utf-8")
    except UnicodeDecodeError:
        return reject(ErrorCode.MALFORMED, "payload is not UTF-8")
    if bad_response_topic:
        return reject(ErrorCode.INVALID_VALUE, f"response topic {response_topic!r} not allowed")

    max_wait = limits.max_age_s
    stale_code = ErrorCode.EXPIRED
    if inbound.expiry_s is not None:
        if inbound.expiry_s <= 0:
            return reject(ErrorCode.EXPIRED, "message expiry interval has run out")
        max_wait = min(max_wait, inbound.expiry_s)

    if parsed.channel is Channel.SET:
        try:
            command = _from_set(parsed.name, text)
        except _Invalid as exc:
            return reject(exc.code, exc.message)
        return Accepted(reply_to, command, max_wait, stale_code)

    try:
        body = _json_object(text)
    except _Invalid as exc:
        return reject(exc.code, exc.message)
    try:
        transaction = _transaction(body)
    except _Invalid as exc:
        return reject(exc.code, exc.message)
    reply_to = ReplyTo(
        device=reply_to.device,
        command=reply_to.command,
        transaction=transaction,
        response_topic=reply_to.response_topic,
        correlation_data=reply_to.correlation_data,
    )

    def reject_tx(code: ErrorCode, message: str) -> Rejected:
        return Rejected(reply_to, CommandResult.failure(code, message))

    timestamp = body.pop("timestamp", None)
    if timestamp is not None:
        if not _is_number(timestamp):
            return reject_tx(ErrorCode.INVALID_VALUE, "timestamp must be a number (Unix seconds)")
        age = wall_now - float(cast(float, timestamp))
        if age > limits.max_age_s:
            return reject_tx(
                ErrorCode.TOO_OLD,
                f"command is {age:.1f} s old; the limit is {limits.max_age_s:g} s",
            )
        if -age > limits.max_clock_skew_s:
            return reject_tx(
                ErrorCode.INVALID_VALUE,
                f"timestamp is {-age:.1f} s in the future; check the sender's clock",
            )
        left = limits.max_age_s - max(age, 0.0)
        if left < max_wait:
            max_wait, stale_code = left, ErrorCode.TOO_OLD
    try:
        command = _from_request(parsed.name, body)
    except _Invalid as exc:
        return reject_tx(exc.code, exc.message)
    return Accepted(reply_to, command, max_wait, stale_code)


def encode_reply(result: CommandResult, transaction: Transaction | None) -> bytes:
    """The reply: ``{"status", "data", "error": {"code", "message"} | null, "transaction"}``."""
    body: dict[str, JsonValue] = {
        "status": "ok" if result.ok else "error",
        "data": dict(result.data) if result.data is not None else None,
        "error": (
            {"code": result.error.code, "message": result.error.message}
            if result.error is not None
            else None
        ),
        "transaction": transaction,
    }
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode()


# --- helpers -------------------------------------------------------------------------------------

_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def _is_number(value: object) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer too large for a float
        return False


def _json_object(text: str) -> dict[str, JsonValue]:
    if not text.strip():
        return {}
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise _Invalid(ErrorCode.MALFORMED, f"payload is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise _Invalid(ErrorCode.MALFORMED, "payload must be a JSON object")
    return cast(dict[str, JsonValue], value)


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number")


def _transaction(body: dict[str, JsonValue]) -> Transaction | None:
    value = body.pop("transaction", None)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Invalid(ErrorCode.INVALID_VALUE, "transaction must be a string or an integer")
    if isinstance(value, str) and not 0 < len(value) <= MAX_TRANSACTION_CHARS:
        raise _Invalid(
            ErrorCode.INVALID_VALUE, f"transaction must be 1..{MAX_TRANSACTION_CHARS} characters"
        )
    return value


def _number(body: Mapping[str, JsonValue], key: str) -> float:
    if key not in body:
        raise _Invalid(ErrorCode.INVALID_VALUE, f"missing field {key!r}")
    value = body[key]
    if not _is_number(value):
        raise _Invalid(ErrorCode.INVALID_VALUE, f"{key} must be a finite number")
    return float(cast(float, value))


def _profile(body: Mapping[str, JsonValue]) -> str:
    value = body.get("profile")
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(ErrorCode.INVALID_VALUE, "profile must be a non-empty string")
    return _profile_name(value)


def _profile_name(value: str) -> str:
    if len(value) > MAX_PROFILE_CHARS or not value.isprintable():
        raise _Invalid(
            ErrorCode.INVALID_VALUE, f"profile must be 1..{MAX_PROFILE_CHARS} printable characters"
        )
    return value


def _value_error(build: Callable[[], Command]) -> Command:
    try:
        return build()
    except ValueError as exc:
        raise _Invalid(ErrorCode.INVALID_VALUE, str(exc)) from None


def _build_arm(body: Mapping[str, JsonValue]) -> Command:
    if "duration_s" not in body:
        return Arm()
    duration = _number(body, "duration_s")
    if duration <= 0:
        raise _Invalid(ErrorCode.INVALID_VALUE, "duration_s must be positive")
    return Arm(duration_s=duration)


def _build_start(body: Mapping[str, JsonValue]) -> Command:
    options = body.get("options", {})
    if not isinstance(options, dict):
        raise _Invalid(ErrorCode.INVALID_VALUE, "options must be a JSON object")
    return StartProfile(profile=_profile(body), options=options)


MAX_ID_CHARS = 64


def _optional_id(body: Mapping[str, JsonValue], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_CHARS or not value.isprintable():
        raise _Invalid(
            ErrorCode.INVALID_VALUE, f"{key} must be 1..{MAX_ID_CHARS} printable characters"
        )
    return value


def _build_rate(body: Mapping[str, JsonValue]) -> Command:
    pain = body.get("pain")
    if isinstance(pain, bool) or not isinstance(pain, int):
        raise _Invalid(ErrorCode.INVALID_VALUE, "pain must be a whole number 0-10")
    difficulty = body.get("difficulty")
    if not isinstance(difficulty, str):
        raise _Invalid(ErrorCode.INVALID_VALUE, "difficulty must be easy, ok or hard")
    near_fall = body.get("near_fall", False)
    if not isinstance(near_fall, bool):
        raise _Invalid(ErrorCode.INVALID_VALUE, "near_fall must be true or false")
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


def _from_request(name: str, body: Mapping[str, JsonValue]) -> Command:
    entry = _REQUESTS.get(name)
    if entry is None:
        raise _Invalid(ErrorCode.UNKNOWN_COMMAND, f"unknown command {name!r}")
    allowed, build = entry
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _Invalid(ErrorCode.INVALID_VALUE, f"unknown field(s) for {name}: {unknown}")
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
        raise _Invalid(ErrorCode.INVALID_VALUE, f"{what} must be a decimal number, got {text!r}")
    return float(text)


def _from_set(key: str, text: str) -> Command:
    if key in SET_KEYS_PRESS:
        if text.strip() != PRESS:
            raise _Invalid(ErrorCode.INVALID_VALUE, f"set/{key} expects {PRESS!r}")
        return SET_KEYS_PRESS[key]()
    if key == "speed":
        kmh = _decimal(text, "speed")
        return _value_error(lambda: SetSpeed(kmh=kmh))
    if key == "incline":
        percent = _decimal(text, "incline")
        return _value_error(lambda: SetIncline(percent=percent))
    if key == "profile":
        if not text.strip():
            raise _Invalid(ErrorCode.INVALID_VALUE, "profile must be a non-empty string")
        return SelectProfile(profile=_profile_name(text.strip()))
    if key == "rating_pain":
        pain = _decimal(text, "pain")
        if not pain.is_integer() or not 0 <= pain <= 10:
            raise _Invalid(ErrorCode.INVALID_VALUE, "pain must be a whole number 0-10")
        return RatingDraft(pain=int(pain))
    if key == "rating_difficulty":
        value = text.strip().lower()
        if value not in RATING_DIFFICULTIES:
            raise _Invalid(ErrorCode.INVALID_VALUE, "difficulty must be easy, ok or hard")
        return RatingDraft(difficulty=value)
    if key == "rating_near_fall":
        flag = text.strip().upper()
        if flag not in ("ON", "OFF"):
            raise _Invalid(ErrorCode.INVALID_VALUE, "set/rating_near_fall expects ON or OFF")
        return RatingDraft(near_fall=flag == "ON")
    if key == "armed":
        value = text.strip().upper()
        if value == "ON":
            return Arm()
        if value == "OFF":
            return Disarm()
        raise _Invalid(ErrorCode.INVALID_VALUE, "set/armed expects ON or OFF")
    raise _Invalid(ErrorCode.UNKNOWN_COMMAND, f"unknown setting {key!r}")
