"""Commands waiting for the daemon (pure: no broker, no event loop).

The :class:`Inbox` takes each command message, interprets it
(:func:`~treadctl.mqtt.requests.interpret`) and decides, returning the decision as a value:

* :class:`Queued`: a :class:`Request` for the daemon; emergency stops go to their own queue,
  ahead of everything and also while the device's link is down (the daemon decides);
* :class:`Answered`: nothing to run, only replies to send (a rejected message, a duplicate
  transaction that was answered before, a refusal: link down, too many waiting);
* :class:`Joined`: a repeat of a transaction still running; it gets the first one's answer;
* :class:`Dropped`: nothing to run and nobody to answer (retained messages, foreign topics).

Requests are refused, never left waiting: when their device's link goes down, when they are
older than their deadline at hand-over (``expired``/``too_old``) and when the bridge closes. A
transaction id is executed once (:class:`~treadctl.mqtt.transactions.TransactionCache`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TypeAlias

from treadctl.commands import Command, CommandResult, EmergencyStop, ErrorCode
from treadctl.errors import LocalProtocolError
from treadctl.mqtt.requests import Accepted, Ignored, Inbound, Limits, Rejected, ReplyTo, interpret
from treadctl.mqtt.topics import Topics
from treadctl.mqtt.transactions import Answered as CachedAnswer
from treadctl.mqtt.transactions import Conflict, InFlight, TransactionCache


class AlreadyRepliedError(LocalProtocolError):
    """A request was answered twice."""


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer to send. ``refusal`` is the reason when the inbox itself refused the command
    (for the log); None for the daemon's own results and for repeats of answered ones."""

    reply_to: ReplyTo
    result: CommandResult
    refusal: str | None = None


class Request:
    """One command for the daemon. Answer it exactly once with :meth:`reply`."""

    __slots__ = (
        "_clock",
        "_on_reply",
        "_replied",
        "command",
        "deadline",
        "received_at",
        "reply_to",
        "stale_code",
    )

    def __init__(
        self,
        accepted: Accepted,
        received_at: float,
        *,
        clock: Callable[[], float],
        on_reply: Callable[[Request, CommandResult], None],
    ) -> None:
        self._clock = clock
        self._on_reply = on_reply
        self._replied = False
        self.command: Command = accepted.command
        self.reply_to: ReplyTo = accepted.reply_to
        self.received_at = received_at
        """Monotonic time of arrival."""
        self.deadline = received_at + accepted.max_wait_s
        """Monotonic time after which the bridge would have refused it as stale."""
        self.stale_code: ErrorCode = accepted.stale_code
        """``expired`` or ``too_old``: the code to refuse with once past the deadline."""

    @property
    def device(self) -> str:
        return self.reply_to.device

    @property
    def replied(self) -> bool:
        return self._replied

    def stale(self, now: float | None = None) -> bool:
        """Past its deadline (on the bridge's clock): the daemon should refuse it, not run it."""
        return (self._clock() if now is None else now) > self.deadline

    async def reply(self, result: CommandResult) -> None:
        """Publish the result (to ``response/<command>`` and the v5 Response Topic)."""
        self.answer(result)

    def answer(self, result: CommandResult) -> None:
        """:meth:`reply`, without the await (for code that is not a coroutine)."""
        if self._replied:
            raise AlreadyRepliedError(f"request {self.reply_to} was already answered")
        self._replied = True
        self._on_reply(self, result)

    def __repr__(self) -> str:
        return f"Request({self.device!r}, {self.command!r}, tx={self.reply_to.transaction!r})"


@dataclass(frozen=True, slots=True)
class Queued:
    request: Request
    urgent: bool


@dataclass(frozen=True, slots=True)
class Answered:
    replies: list[Reply]
    reason: str


@dataclass(frozen=True, slots=True)
class Joined:
    """A repeat of a running transaction; it is answered when the first one is."""


@dataclass(frozen=True, slots=True)
class Dropped:
    reason: str


Receipt: TypeAlias = Queued | Answered | Joined | Dropped


class Inbox:
    """The queues of commands between the broker and the daemon. ``on_reply`` receives every
    answer the daemon gives (with the repeats of its transaction that wait for it)."""

    def __init__(
        self,
        topics: Topics,
        devices: Collection[str],
        *,
        limits: Limits,
        max_pending: int,
        transaction_cache: int,
        clock: Callable[[], float],
        on_reply: Callable[[list[Reply]], None],
    ) -> None:
        self._topics = topics
        self._devices = frozenset(devices)
        self._limits = limits
        self._max_pending = max_pending
        self._clock = clock
        self._on_reply = on_reply
        self._link: dict[str, bool] = dict.fromkeys(self._devices, False)
        self._normal: deque[Request] = deque()
        self._urgent: deque[Request] = deque()
        self._transactions: TransactionCache[ReplyTo] = TransactionCache(transaction_cache)

    def __len__(self) -> int:
        return len(self._normal) + len(self._urgent)

    def receive(self, inbound: Inbound, *, wall_now: float) -> Receipt:
        """Decide what one message on a subscribed command topic leads to."""
        now = self._clock()
        outcome = interpret(
            inbound,
            topics=self._topics,
            devices=self._devices,
            limits=self._limits,
            wall_now=wall_now,
        )
        if isinstance(outcome, Ignored):
            return Dropped(outcome.reason)
        if isinstance(outcome, Rejected):
            error = outcome.result.error
            reason = error.message if error is not None else "rejected"
            if outcome.reply_to is None:
                return Dropped(reason)
            return Answered([Reply(outcome.reply_to, outcome.result, reason)], reason)
        reply_to = outcome.reply_to
        if reply_to.transaction is not None:
            seen = self._transactions.begin(
                reply_to.device, reply_to.transaction, outcome.command, reply_to
            )
            if isinstance(seen, CachedAnswer):
                return Answered([Reply(reply_to, seen.result)], "duplicate transaction")
            if isinstance(seen, InFlight):
                return Joined()
            if isinstance(seen, Conflict):
                message = f"transaction {reply_to.transaction!r} was used for another command"
                failure = CommandResult.failure(ErrorCode.TRANSACTION_CONFLICT, message)
                return Answered([Reply(reply_to, failure, message)], message)
        request = Request(outcome, now, clock=self._clock, on_reply=self._answered)
        if isinstance(outcome.command, EmergencyStop):
            # Ahead of everything, and also while the link is down: the daemon decides.
            self._urgent.append(request)
            return Queued(request, urgent=True)
        if not self._link[reply_to.device]:
            return self._refused(request, ErrorCode.LINK_DOWN, "the treadmill link is down")
        if len(self._normal) >= self._max_pending:
            return self._refused(request, ErrorCode.BUSY, "too many commands waiting")
        self._normal.append(request)
        return Queued(request, urgent=False)

    def pop(self, *, urgent: bool, normal: bool) -> tuple[Request | None, list[Reply]]:
        """The next request to hand over (emergency stops first when ``urgent``), and the
        refusals of those found stale or with their link down on the way (re-checked here:
        a request may have waited while the daemon was busy)."""
        refusals: list[Reply] = []
        while True:
            if urgent and self._urgent:
                return self._urgent.popleft(), refusals
            if not (normal and self._normal):
                return None, refusals
            request = self._normal.popleft()
            if request.stale():
                refusals += self._refuse(
                    request, request.stale_code, "too old to act on; not executed"
                )
            elif not self._link[request.device]:
                refusals += self._refuse(request, ErrorCode.LINK_DOWN, "the treadmill link is down")
            else:
                return request, refusals

    def link(self, device: str, up: bool) -> list[Reply]:
        """The device's link is up or down; down refuses its waiting requests at once."""
        self._link[device] = up
        if up:
            return []
        refusals: list[Reply] = []
        kept: deque[Request] = deque()
        for request in self._normal:
            if request.device == device:
                refusals += self._refuse(
                    request, ErrorCode.LINK_DOWN, "the treadmill link went down"
                )
            else:
                kept.append(request)
        self._normal = kept
        return refusals

    def close(self) -> list[Reply]:
        """Refuse everything still waiting: nothing waits for a next run."""
        refusals: list[Reply] = []
        while self._normal or self._urgent:
            queue = self._urgent if self._urgent else self._normal
            refusals += self._refuse(
                queue.popleft(), ErrorCode.REFUSED, "treadctl is shutting down"
            )
        return refusals

    # --- internals --------------------------------------------------------------------------------

    def _refused(self, request: Request, code: ErrorCode, message: str) -> Answered:
        return Answered(self._refuse(request, code, message), message)

    def _refuse(self, request: Request, code: ErrorCode, message: str) -> list[Reply]:
        request._replied = True
        return self._finish(request.reply_to, CommandResult.failure(code, message), message)

    def _answered(self, request: Request, result: CommandResult) -> None:
        self._on_reply(self._finish(request.reply_to, result, None))

    def _finish(self, reply_to: ReplyTo, result: CommandResult, refusal: str | None) -> list[Reply]:
        replies = [Reply(reply_to, result, refusal)]
        if reply_to.transaction is not None:
            waiting = self._transactions.finish(reply_to.device, reply_to.transaction, result)
            replies += [Reply(w, result, refusal) for w in waiting]
        return replies
