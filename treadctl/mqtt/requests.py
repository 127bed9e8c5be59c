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

What each payload means is :mod:`treadctl.mqtt.payloads`: only the value's *type and form* are
checked (finite numbers, non-negative speed, the FTMS wire range). Caps are the governor's: an
over-cap speed is accepted here and refused there.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import TypeAlias, cast

from treadctl.commands import Command, CommandResult, ErrorCode, JsonValue
from treadctl.mqtt.payloads import (
    PayloadError,
    Transaction,
    from_request,
    from_set,
    is_number,
    json_object,
    transaction_of,
)
from treadctl.mqtt.topics import Channel, Topics

__all__ = [
    "Accepted",
    "Ignored",
    "Inbound",
    "Interpretation",
    "Limits",
    "Rejected",
    "ReplyTo",
    "Transaction",
    "encode_reply",
    "interpret",
]


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
            command = from_set(parsed.name, text)
        except PayloadError as exc:
            return reject(exc.code, exc.message)
        return Accepted(reply_to, command, max_wait, stale_code)

    try:
        body = json_object(text)
    except PayloadError as exc:
        return reject(exc.code, exc.message)
    try:
        transaction = transaction_of(body)
    except PayloadError as exc:
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
        if not is_number(timestamp):
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
        command = from_request(parsed.name, body)
    except PayloadError as exc:
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
