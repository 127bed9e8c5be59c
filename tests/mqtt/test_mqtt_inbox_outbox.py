"""The bridge's pure parts: the inbox (what runs, what is refused) and the outbox (what is
published, in which order). No broker, no event loop."""

from __future__ import annotations

import json

from treadctl.commands import CommandResult, EmergencyStop, ErrorCode
from treadctl.mqtt.discovery import Origin
from treadctl.mqtt.inbox import Answered, Dropped, Inbox, Joined, Queued, Reply, Request
from treadctl.mqtt.outbound import BridgeEvent, DeviceState
from treadctl.mqtt.outbox import Kind, Outbox, OutboxDevice, Publication
from treadctl.mqtt.requests import Inbound, Limits, ReplyTo
from treadctl.mqtt.topics import Topics

TOPICS = Topics()
ORIGIN = Origin("treadctl", "0")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_inbox(clock: Clock, sent: list[Reply], max_pending: int = 4) -> Inbox:
    inbox = Inbox(
        TOPICS,
        ["tm1", "tm2"],
        limits=Limits(max_age_s=10.0),
        max_pending=max_pending,
        transaction_cache=8,
        clock=clock,
        on_reply=sent.extend,
    )
    inbox.link("tm1", True)
    return inbox


def request(inbox: Inbox, command: str, body: str = "{}", device: str = "tm1") -> Request:
    receipt = inbox.receive(
        Inbound(f"treadctl/{device}/request/{command}", body.encode()), wall_now=0
    )
    assert isinstance(receipt, Queued), receipt
    return receipt.request


def codes(replies: list[Reply]) -> list[str | None]:
    return [r.result.error.code if r.result.error else None for r in replies]


def test_commands_queue_in_order_and_emergency_stops_go_first() -> None:
    clock, sent = Clock(), list[Reply]()
    inbox = make_inbox(clock, sent)
    arm = request(inbox, "arm")
    stop = request(inbox, "stop")
    estop = request(inbox, "emergency_stop")
    assert isinstance(estop.command, EmergencyStop)
    taken = [inbox.pop(urgent=True, normal=True)[0] for _ in range(3)]
    assert taken == [estop, arm, stop]
    assert inbox.pop(urgent=True, normal=True) == (None, [])


def test_emergency_stop_is_queued_while_the_link_is_down_other_commands_refused() -> None:
    clock, sent = Clock(), list[Reply]()
    inbox = make_inbox(clock, sent)
    receipt = inbox.receive(Inbound("treadctl/tm2/request/stop", b"{}"), wall_now=0)
    assert isinstance(receipt, Answered)
    assert codes(receipt.replies) == [ErrorCode.LINK_DOWN]
    assert isinstance(request(inbox, "emergency_stop", device="tm2").command, EmergencyStop)


def test_link_down_refuses_waiting_requests_of_that_device_only() -> None:
    clock, sent = Clock(), list[Reply]()
    inbox = make_inbox(clock, sent)
    inbox.link("tm2", True)
    request(inbox, "arm")
    other = request(inbox, "arm", device="tm2")
    refusals = inbox.link("tm1", False)
    assert codes(refusals) == [ErrorCode.LINK_DOWN]
    assert inbox.pop(urgent=False, normal=True) == (other, [])


def test_stale_request_is_refused_at_hand_over_not_handed_out() -> None:
    clock, sent = Clock(), list[Reply]()
    inbox = make_inbox(clock, sent)
    request(inbox, "stop")
    clock.now += 10.5
    taken, refusals = inbox.pop(urgent=False, normal=True)
    assert taken is None
    assert codes(refusals) == [ErrorCode.EXPIRED]


def test_busy_beyond_max_pending() -> None:
    clock, sent = Clock(), list[Reply]()
    inbox = make_inbox(clock, sent, max_pending=1)
    request(inbox, "arm")
    receipt = inbox.receive(Inbound("treadctl/tm1/request/stop", b"{}"), wall_now=0)
    assert isinstance(receipt, Answered)
    assert codes(receipt.replies) == [ErrorCode.BUSY]


def test_transactions_run_once_and_repeats_get_the_first_answer() -> None:
    clock, sent = Clock(), list[Reply]()
    inbox = make_inbox(clock, sent)
    first = request(inbox, "arm", '{"transaction": "t1"}')
    repeat = inbox.receive(
        Inbound("treadctl/tm1/request/arm", b'{"transaction": "t1"}'), wall_now=0
    )
    assert isinstance(repeat, Joined)
    first.answer(CommandResult.success({"armed": True}))
    assert [r.reply_to.transaction for r in sent] == ["t1", "t1"]
    assert all(r.result.ok and r.refusal is None for r in sent)
    again = inbox.receive(Inbound("treadctl/tm1/request/arm", b'{"transaction": "t1"}'), wall_now=0)
    assert isinstance(again, Answered)
    assert again.replies[0].result.ok
    conflict = inbox.receive(
        Inbound("treadctl/tm1/request/stop", b'{"transaction": "t1"}'), wall_now=0
    )
    assert isinstance(conflict, Answered)
    assert codes(conflict.replies) == [ErrorCode.TRANSACTION_CONFLICT]


def test_retained_and_foreign_messages_are_dropped_bad_ones_answered() -> None:
    clock, sent = Clock(), list[Reply]()
    inbox = make_inbox(clock, sent)
    retained = Inbound("treadctl/tm1/request/stop", b"{}", retain=True)
    assert isinstance(inbox.receive(retained, wall_now=0), Dropped)
    assert isinstance(inbox.receive(Inbound("elsewhere/x", b""), wall_now=0), Dropped)
    bad = inbox.receive(Inbound("treadctl/tm1/request/stop", b"[1]"), wall_now=0)
    assert isinstance(bad, Answered)
    assert codes(bad.replies) == [ErrorCode.MALFORMED]
    assert len(inbox) == 0


def test_close_refuses_everything_waiting() -> None:
    clock, sent = Clock(), list[Reply]()
    inbox = make_inbox(clock, sent)
    request(inbox, "arm")
    request(inbox, "emergency_stop")
    assert codes(inbox.close()) == [ErrorCode.REFUSED, ErrorCode.REFUSED]
    assert len(inbox) == 0


def make_outbox(**kw: object) -> Outbox:
    return Outbox(TOPICS, [OutboxDevice("tm1", "Treadmill")], origin=ORIGIN, **kw)  # type: ignore[arg-type]


def test_reply_goes_out_ahead_of_the_state_it_caused() -> None:
    """docs/benchmarks.md: replies used to wait behind the retained state message."""
    box = make_outbox()
    box.take()
    box.state("tm1", DeviceState(session="running", armed=True))
    box.event("tm1", BridgeEvent("safety_key"), wall_time=1.0)
    box.reply(ReplyTo("tm1", "arm"), CommandResult.success())
    topics = [p.topic for p in box.take()]
    assert topics == [
        "treadctl/tm1/response/arm",
        "treadctl/tm1/state",
        "treadctl/tm1/event",
    ]


def test_first_batch_order_and_only_changes_afterwards() -> None:
    box = make_outbox(removed=["old"])
    first = [p.topic for p in box.take()]
    assert first == [
        "homeassistant/device/old/config",
        "treadctl/old/availability",
        "treadctl/old/state",
        "treadctl/old/profiles",
        "treadctl/old/journey",
        "homeassistant/device/tm1/config",
        "treadctl/bridge/state",
        "treadctl/tm1/availability",
        "treadctl/tm1/state",
    ]
    assert box.take() == []
    box.link("tm1", True)
    assert [p.topic for p in box.take()] == ["treadctl/tm1/availability", "treadctl/tm1/state"]
    box.republish_all()
    assert len(box.take()) == len(first)


def test_unacknowledged_publications_come_back_in_order_with_the_newest_state() -> None:
    box = make_outbox()
    box.take()
    box.reply(ReplyTo("tm1", "a"), CommandResult.success())
    box.reply(ReplyTo("tm1", "b"), CommandResult.success())
    box.state("tm1", DeviceState(session="running"))
    batch = box.take()
    box.state("tm1", DeviceState(session="paused"))
    box.reply(ReplyTo("tm1", "c"), CommandResult.success())
    box.restore(batch)
    again = box.take()
    assert [p.topic.rsplit("/", 1)[1] for p in again if p.kind is Kind.REPLY] == ["a", "b", "c"]
    (state,) = [p for p in again if p.topic == "treadctl/tm1/state"]
    assert json.loads(state.payload)["session"] == "paused"
    assert state.retain
    assert state.qos == 1


def test_v5_response_topic_carries_correlation_data_and_queues_are_bounded() -> None:
    box = make_outbox(limit=2)
    box.take()
    box.reply(
        ReplyTo("tm1", "stop", response_topic="me/r", correlation_data=b"x"),
        CommandResult.success(),
    )
    replies = box.take()
    assert replies[1] == Publication(
        "me/r", replies[0].payload, 1, Kind.REPLY, correlation_data=b"x", v5_response=True
    )
    for n in range(3):
        box.event("tm1", BridgeEvent(f"e{n}"), wall_time=0.0)
    assert [json.loads(p.payload)["kind"] for p in box.take()] == ["e1", "e2"]
    assert box.dropped == 1


def test_emergency_stop_reply_is_first_even_with_many_retained_changes() -> None:
    box = make_outbox()
    box.take()
    box.link("tm1", True)
    box.state("tm1", DeviceState(session="aborted"))
    box.reply(ReplyTo("tm1", "emergency_stop"), CommandResult.success())
    assert box.take()[0].topic == "treadctl/tm1/response/emergency_stop"
