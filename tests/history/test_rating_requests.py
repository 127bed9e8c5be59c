"""start_next and ratings over MQTT: what parses, what is refused (pure)."""

from __future__ import annotations

import pytest

from treadctl.commands import RateSession, RatingDraft, StartNext, SubmitRating, needs_arming
from treadctl.mqtt.requests import Accepted, Inbound, Limits, Rejected, interpret
from treadctl.mqtt.topics import Topics


def run(topic: str, payload: str) -> Accepted | Rejected:
    out = interpret(
        Inbound(f"treadctl/tm1/{topic}", payload.encode()),
        topics=Topics(),
        devices={"tm1"},
        limits=Limits(),
        wall_now=0.0,
    )
    assert isinstance(out, Accepted | Rejected)
    return out


def test_start_next_and_rating_requests() -> None:
    out = run("request/start_next", '{"person": "ann"}')
    assert isinstance(out, Accepted)
    assert out.command == StartNext("ann")
    assert needs_arming(StartNext())  # it can start the belt
    out = run("request/rate_session", '{"pain": 3, "difficulty": "ok", "near_fall": true}')
    assert isinstance(out, Accepted)
    assert out.command == RateSession(pain=3, difficulty="ok", near_fall=True)
    assert not needs_arming(out.command)
    assert run("set/start_next", "PRESS").command == StartNext()  # type: ignore[union-attr]
    assert run("set/rate_session", "PRESS").command == SubmitRating()  # type: ignore[union-attr]
    assert run("set/rating_pain", "4").command == RatingDraft(pain=4)  # type: ignore[union-attr]
    assert run("set/rating_difficulty", "hard").command == RatingDraft(difficulty="hard")  # type: ignore[union-attr]
    assert run("set/rating_near_fall", "ON").command == RatingDraft(near_fall=True)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("topic", "payload", "message"),
    [
        ("request/rate_session", '{"pain": 11, "difficulty": "ok"}', "within 0-10"),
        ("request/rate_session", '{"pain": -1, "difficulty": "ok"}', "within 0-10"),
        ("request/rate_session", '{"pain": 2.5, "difficulty": "ok"}', "whole number"),
        ("request/rate_session", '{"pain": true, "difficulty": "ok"}', "whole number"),
        ("request/rate_session", '{"pain": 2, "difficulty": "meh"}', "easy, ok or hard"),
        (
            "request/rate_session",
            '{"pain": 2, "difficulty": "ok", "near_fall": 1}',
            "true or false",
        ),
        ("request/rate_session", '{"pain": 2, "difficulty": "ok", "mood": 1}', "unknown field"),
        ("request/start_next", '{"person": 7}', "person must be"),
        ("set/rating_pain", "10.5", "whole number 0-10"),
        ("set/rating_pain", "11", "whole number 0-10"),
        ("set/rating_difficulty", "meh", "easy, ok or hard"),
    ],
)
def test_bad_ratings_are_refused(topic: str, payload: str, message: str) -> None:
    out = run(topic, payload)
    assert isinstance(out, Rejected)
    assert out.result.error is not None
    assert out.result.error.code == "invalid_value"
    assert message in out.result.error.message
