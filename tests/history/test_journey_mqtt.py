"""Home Assistant's side of the journey, with real processes: the retained journey topic,
start_next over MQTT (armed, like start_profile), and the rating entities with their submit
button."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.daemon import DaemonRig
from tests.daemon.daemon_profiles import TEST_PROFILES

pytestmark = pytest.mark.crossprocess

PROGRAM = """\
name: two-steps
description: Two stages (tests).
stages:
  - profile: quick-back
    name: short
  - profile: long-back
    name: long
"""


async def test_journey_over_mqtt(tmp_path: Path) -> None:
    programs = tmp_path / "programs"
    programs.mkdir()
    (programs / "two-steps.yaml").write_text(PROGRAM, encoding="utf-8")
    extra = {
        "people": [{"id": "ann", "name": "Ann", "program": "two-steps"}],
        "history": {"programs_dir": str(programs)},
    }
    async with DaemonRig(tmp_path, profiles=TEST_PROFILES, extra_config=extra) as rig:
        await rig.start_daemon()
        mq = rig.mqtt
        topic = "treadctl/tm1/journey"
        journey = await mq.wait_json(topic, lambda j: j["person"] == "ann")
        assert journey["stage_label"] == "short (1 of 2)"
        assert journey["sessions_this_week"] == 0

        refused = await mq.request("tm1", "start_next")
        assert refused["error"]["code"] == "not_armed"
        assert (await mq.request("tm1", "arm"))["status"] == "ok"
        since = mq.mark()
        started = await mq.request("tm1", "start_next")
        assert started["status"] == "ok", started
        assert (started["data"]["profile"], started["data"]["stage"]) == ("quick-back", 1)
        await mq.wait_json(
            "treadctl/tm1/event", lambda e: e["kind"] == "session_finished", since=since, within=30
        )
        await mq.wait_json(topic, lambda j: j["sessions_this_week"] == 1, since=since, within=30)

        # Home Assistant's rating entities: values held by the daemon, then submitted.
        await mq.publish("treadctl/tm1/set/rating_pain", "2")
        await mq.publish("treadctl/tm1/set/rating_difficulty", "easy")
        await mq.wait_json(
            topic, lambda j: j["rating"] == {"pain": 2, "difficulty": "easy", "near_fall": False}
        )
        since = mq.mark()
        await mq.publish("treadctl/tm1/set/rate_session", "PRESS")
        reply = await mq.wait_json("treadctl/tm1/response/rate_session", since=since)
        assert reply["status"] == "ok", reply
        assert reply["data"]["action"] == "repeat"
        rated = await mq.wait_json(topic, lambda j: j["last_rated"], since=since)
        assert rated["rating"]["pain"] is None  # the draft is cleared
        assert "rated pain 2 easy" in rated["last_session"]

        # A second rating of the same session, and another person's: refused, nothing changed.
        again = await mq.request("tm1", "rate_session", pain=9, difficulty="hard")
        assert again["error"]["code"] == "refused"
        assert "already rated" in again["error"]["message"]
        other = await mq.request("tm1", "rate_session", pain=1, difficulty="easy", person="bob")
        assert other["error"]["code"] == "unknown_person"
