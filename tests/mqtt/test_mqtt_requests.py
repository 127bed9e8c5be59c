"""Incoming command messages → command values or error replies (pure)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treadctl.commands import (
    Arm,
    Command,
    CommandResult,
    Disarm,
    EmergencyStop,
    ErrorCode,
    Pause,
    ReloadProfiles,
    Resume,
    SelectProfile,
    SetIncline,
    SetSpeed,
    SkipSegment,
    StartProfile,
    Stop,
)
from treadctl.mqtt.requests import (
    Accepted,
    Ignored,
    Inbound,
    Interpretation,
    Limits,
    Rejected,
    encode_reply,
    interpret,
)
from treadctl.mqtt.topics import Topics

NOW = 1_800_000_000.0
TOPICS = Topics()
LIMITS = Limits(max_payload_bytes=512, max_age_s=10.0, max_clock_skew_s=2.0)


def run(topic: str, payload: bytes | str, **kw: object) -> Interpretation:
    data = payload.encode() if isinstance(payload, str) else payload
    inbound = Inbound(topic=topic, payload=data, **kw)  # type: ignore[arg-type]
    return interpret(inbound, topics=TOPICS, devices={"tm1"}, limits=LIMITS, wall_now=NOW)


def accepted(topic: str, payload: bytes | str, **kw: object) -> Accepted:
    out = run(topic, payload, **kw)
    assert isinstance(out, Accepted), out
    return out


def rejected(topic: str, payload: bytes | str, **kw: object) -> tuple[str, Rejected]:
    out = run(topic, payload, **kw)
    assert isinstance(out, Rejected), out
    assert out.result.error is not None
    return out.result.error.code, out


REQUESTS: list[tuple[str, dict[str, object], Command]] = [
    ("arm", {}, Arm()),
    ("arm", {"duration_s": 60}, Arm(duration_s=60.0)),
    ("disarm", {}, Disarm()),
    ("start_profile", {"profile": "gentle"}, StartProfile("gentle")),
    (
        "start_profile",
        {"profile": "gentle", "options": {"max_kmh": 2}},
        StartProfile("gentle", {"max_kmh": 2}),
    ),
    ("select_profile", {"profile": "gentle"}, SelectProfile("gentle")),
    ("pause", {}, Pause()),
    ("resume", {}, Resume()),
    ("stop", {}, Stop()),
    ("emergency_stop", {}, EmergencyStop()),
    ("set_speed", {"kmh": 2.35}, SetSpeed(2.35)),
    ("set_speed", {"kmh": 0}, SetSpeed(0.0)),
    ("set_incline", {"percent": -1.5}, SetIncline(-1.5)),
    ("skip_segment", {}, SkipSegment()),
    ("reload_profiles", {}, ReloadProfiles()),
]


@pytest.mark.parametrize(("name", "body", "command"), REQUESTS)
def test_every_request_becomes_its_command(
    name: str, body: dict[str, object], command: Command
) -> None:
    out = accepted(f"treadctl/tm1/request/{name}", json.dumps({**body, "transaction": "t1"}))
    assert out.command == command
    assert out.reply_to.device == "tm1"
    assert out.reply_to.command == name
    assert out.reply_to.transaction == "t1"


def test_empty_payload_is_an_empty_request() -> None:
    assert accepted("treadctl/tm1/request/stop", b"").command == Stop()


SETS: list[tuple[str, str, Command]] = [
    ("start", "PRESS", StartProfile(None)),
    ("pause", "PRESS", Pause()),
    ("resume", "PRESS", Resume()),
    ("stop", "PRESS", Stop()),
    ("emergency_stop", "PRESS", EmergencyStop()),
    ("arm", "PRESS", Arm()),
    ("disarm", "PRESS", Disarm()),
    ("skip_segment", "PRESS", SkipSegment()),
    ("reload_profiles", "PRESS", ReloadProfiles()),
    ("speed", "2.5", SetSpeed(2.5)),
    ("incline", "1", SetIncline(1.0)),
    ("profile", "gentle", SelectProfile("gentle")),
    ("armed", "ON", Arm()),
    ("armed", "OFF", Disarm()),
]


@pytest.mark.parametrize(("key", "payload", "command"), SETS)
def test_every_set_topic_becomes_its_command(key: str, payload: str, command: Command) -> None:
    out = accepted(f"treadctl/tm1/set/{key}", payload)
    assert out.command == command
    assert out.reply_to.command == key
    assert out.reply_to.transaction is None


def test_speed_is_converted_rounding_down() -> None:
    command = accepted("treadctl/tm1/set/speed", "2.999").command
    assert isinstance(command, SetSpeed)
    assert command.centi == 299


BAD: list[tuple[str, bytes | str, str]] = [
    ("treadctl/tm1/request/stop", "{not json", ErrorCode.MALFORMED),
    ("treadctl/tm1/request/stop", "[1, 2]", ErrorCode.MALFORMED),
    ("treadctl/tm1/request/stop", '"stop"', ErrorCode.MALFORMED),
    ("treadctl/tm1/request/stop", b"\xff\xfe\x00", ErrorCode.MALFORMED),
    ("treadctl/tm1/request/stop", "x" * 513, ErrorCode.TOO_LARGE),
    ("treadctl/tm1/request/fly", "{}", ErrorCode.UNKNOWN_COMMAND),
    ("treadctl/tm1/set/fly", "PRESS", ErrorCode.UNKNOWN_COMMAND),
    ("treadctl/tm9/request/stop", "{}", ErrorCode.UNKNOWN_DEVICE),
    ("treadctl/tm1/request/set_speed", '{"kmh": "fast"}', ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/request/set_speed", '{"kmh": true}', ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/request/set_speed", '{"kmh": NaN}', ErrorCode.MALFORMED),
    ("treadctl/tm1/request/set_speed", '{"kmh": Infinity}', ErrorCode.MALFORMED),
    ("treadctl/tm1/request/set_speed", '{"kmh": 1e400}', ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/request/set_speed", '{"kmh": ' + "9" * 400 + "}", ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/request/set_speed", '{"kmh": -0.5}', ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/request/set_speed", '{"kmh": 700}', ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/request/set_speed", "{}", ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/request/set_speed", '{"speed": 2}', ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/request/set_incline", '{"percent": null}', ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/request/start_profile", '{"profile": ""}', ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/request/start_profile", '{"profile": 3}', ErrorCode.INVALID_VALUE),
    (
        "treadctl/tm1/request/start_profile",
        '{"profile": "a", "options": 1}',
        ErrorCode.INVALID_VALUE,
    ),
    ("treadctl/tm1/request/arm", '{"duration_s": 0}', ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/request/stop", '{"transaction": true}', ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/request/stop", '{"transaction": [1]}', ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/request/stop", '{"timestamp": "now"}', ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/request/stop", "[" * 100_000, ErrorCode.TOO_LARGE),
    ("treadctl/tm1/set/speed", "nan", ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/set/speed", "inf", ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/set/speed", "-1", ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/set/speed", "0x10", ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/set/speed", "", ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/set/stop", "ON", ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/set/armed", "MAYBE", ErrorCode.INVALID_VALUE),
    ("treadctl/tm1/set/profile", " ", ErrorCode.INVALID_VALUE),
]


@pytest.mark.parametrize(("topic", "payload", "code"), BAD)
def test_bad_input_is_an_error_reply(topic: str, payload: bytes | str, code: str) -> None:
    got, out = rejected(topic, payload)
    assert got == code
    assert out.reply_to is not None
    assert out.reply_to.command == topic.rsplit("/", 1)[1]


def test_deeply_nested_json_is_an_error_not_a_crash() -> None:
    limits = Limits(max_payload_bytes=1_000_000)
    out = interpret(
        Inbound("treadctl/tm1/request/stop", b"[" * 200_000),
        topics=TOPICS,
        devices={"tm1"},
        limits=limits,
        wall_now=NOW,
    )
    assert isinstance(out, Rejected)
    assert out.result.error is not None
    assert out.result.error.code == ErrorCode.MALFORMED


def test_transaction_is_echoed_on_errors_after_it_was_read() -> None:
    _, out = rejected("treadctl/tm1/request/set_speed", '{"kmh": -1, "transaction": "abc"}')
    assert out.reply_to is not None
    assert out.reply_to.transaction == "abc"


def test_retained_command_is_ignored_without_reply() -> None:
    assert isinstance(run("treadctl/tm1/request/stop", "{}", retain=True), Ignored)
    assert isinstance(run("treadctl/tm1/set/start", "PRESS", retain=True), Ignored)


@pytest.mark.parametrize(
    "topic",
    ["treadctl/tm1/state", "treadctl/tm1/response/stop", "other/tm1/set/stop", "treadctl/x"],
)
def test_non_command_topics_are_ignored(topic: str) -> None:
    assert isinstance(run(topic, "{}"), Ignored)


def test_old_timestamp_is_refused() -> None:
    code, _out = rejected("treadctl/tm1/request/stop", json.dumps({"timestamp": NOW - 10.5}))
    assert code == ErrorCode.TOO_OLD


def test_future_timestamp_beyond_skew_is_refused() -> None:
    code, _ = rejected("treadctl/tm1/request/stop", json.dumps({"timestamp": NOW + 3}))
    assert code == ErrorCode.INVALID_VALUE


def test_fresh_timestamp_shortens_the_allowed_wait() -> None:
    out = accepted("treadctl/tm1/request/stop", json.dumps({"timestamp": NOW - 4}))
    assert out.max_wait_s == pytest.approx(6.0)
    assert out.stale_code == ErrorCode.TOO_OLD


def test_message_expiry_bounds_the_wait() -> None:
    out = accepted("treadctl/tm1/request/stop", "{}", expiry_s=3.0)
    assert out.max_wait_s == 3.0
    assert out.stale_code == ErrorCode.EXPIRED
    code, _ = rejected("treadctl/tm1/request/stop", "{}", expiry_s=0.0)
    assert code == ErrorCode.EXPIRED


def test_without_expiry_or_timestamp_the_age_limit_applies() -> None:
    assert accepted("treadctl/tm1/set/stop", "PRESS").max_wait_s == LIMITS.max_age_s


@pytest.mark.parametrize(
    "response_topic",
    [
        "treadctl/tm1/request/stop",
        "treadctl/tm1/set/start",
        "treadctl/tm1/state",
        "treadctl/bridge/state",
        "homeassistant/device/tm1/config",
        "replies/#",
        "replies/+/x",
        "",
    ],
)
def test_dangerous_response_topics_are_refused(response_topic: str) -> None:
    code, out = rejected("treadctl/tm1/request/stop", "{}", response_topic=response_topic)
    assert code == ErrorCode.INVALID_VALUE
    assert out.reply_to is not None
    assert out.reply_to.response_topic is None  # the refusal itself goes to response/<cmd> only


@pytest.mark.parametrize("response_topic", ["scripts/replies/1", "treadctl/tm1/response/mine"])
def test_ordinary_response_topics_are_kept(response_topic: str) -> None:
    out = accepted("treadctl/tm1/request/stop", "{}", response_topic=response_topic)
    assert out.reply_to.response_topic == response_topic


def test_reply_encoding() -> None:
    ok = json.loads(encode_reply(CommandResult.success({"a": 1}), "t"))
    assert ok == {"status": "ok", "data": {"a": 1}, "error": None, "transaction": "t"}
    err = json.loads(encode_reply(CommandResult.failure(ErrorCode.OVER_CAP, "too fast"), 5))
    assert err == {
        "status": "error",
        "data": None,
        "error": {"code": "over_cap", "message": "too fast"},
        "transaction": 5,
    }


@given(
    topic=st.sampled_from(
        ["treadctl/tm1/request/set_speed", "treadctl/tm1/set/speed", "treadctl/tm1/request/arm"]
    ),
    payload=st.binary(max_size=600)
    | st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=10,
    ).map(lambda v: json.dumps({"kmh": v, "transaction": v}).encode()),
)
def test_any_payload_gives_exactly_one_outcome(topic: str, payload: bytes) -> None:
    out = run(topic, payload)
    assert isinstance(out, Accepted | Rejected)
    if isinstance(out, Accepted) and isinstance(out.command, SetSpeed):
        assert 0 <= out.command.kmh <= 655.35
