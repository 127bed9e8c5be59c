"""Duplicate transactions (pure): a transaction is executed once; repeats get the same answer.

QoS 1 is at-least-once and people press twice: a request that carries a ``transaction`` id is
remembered per device. A repeat while the first is still running waits for its result; a repeat
after it was answered gets the cached result again. A transaction id reused for a *different*
command is refused. The memory is bounded (oldest entries are forgotten first).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from treadctl.commands import Command, CommandResult
from treadctl.mqtt.requests import Transaction

A = TypeVar("A")


@dataclass(slots=True)
class _Entry(Generic[A]):
    command: Command
    result: CommandResult | None = None
    waiting: list[A] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class New:
    """First time seen: execute it."""


@dataclass(frozen=True, slots=True)
class Answered:
    """Seen and answered: reply with ``result`` again, execute nothing."""

    result: CommandResult


@dataclass(frozen=True, slots=True)
class InFlight:
    """Seen and still running: the reply address was added to those waiting for the result."""


@dataclass(frozen=True, slots=True)
class Conflict:
    """The id was used for another command."""

    previous: Command


Seen = New | Answered | InFlight | Conflict


class TransactionCache(Generic[A]):
    """Per (device, transaction) memory; ``A`` is the caller's reply-address type."""

    def __init__(self, capacity: int = 256) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, Transaction], _Entry[A]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def begin(self, device: str, transaction: Transaction, command: Command, address: A) -> Seen:
        key = (device, transaction)
        entry = self._entries.get(key)
        if entry is None:
            self._entries[key] = _Entry(command=command)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
            return New()
        self._entries.move_to_end(key)
        if entry.command != command:
            return Conflict(previous=entry.command)
        if entry.result is not None:
            return Answered(entry.result)
        entry.waiting.append(address)
        return InFlight()

    def finish(self, device: str, transaction: Transaction, result: CommandResult) -> list[A]:
        """Record the result; returns the addresses of repeats that are waiting for it."""
        entry = self._entries.get((device, transaction))
        if entry is None:  # forgotten meanwhile (capacity): nobody to tell
            return []
        entry.result = result
        waiting, entry.waiting = entry.waiting, []
        return waiting
