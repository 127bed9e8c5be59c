"""The link's observation stream: bounded, fed synchronously by notification callbacks.

Readings (treadmill readings and heart-rate samples) are dropped oldest-first when the consumer
falls behind (counted); safety events are never dropped. One consumer iterates; the stream ends
after ``close()`` once drained.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

from treadctl.hrs.sample import HeartRateSample
from treadctl.observations import DeviceEvent, EventKind, Reading

DROPPABLE_EVENTS = frozenset({EventKind.TRAINING_STATUS})
"""Informational events that may be dropped like readings; every other kind is kept."""

_READINGS = (Reading, HeartRateSample)
"""Droppable measurement types: a newer one replaces what a slow consumer missed."""

T = TypeVar("T")


class ObservationStream(Generic[T]):
    """A bounded FIFO of readings and events in arrival order, and its async iterator.

    Items other than :class:`Reading` and droppable :class:`DeviceEvent` kinds are never dropped.
    """

    def __init__(self, max_readings: int = 64, max_droppable_events: int = 64) -> None:
        if max_readings < 1 or max_droppable_events < 1:
            raise ValueError("bounds must be at least 1")
        self.max_readings = max_readings
        self.max_droppable_events = max_droppable_events
        self._items: deque[T] = deque()
        self._readings = 0
        self._droppable = 0
        self._ready = asyncio.Event()
        self._closed = False
        self.dropped_readings = 0
        self.dropped_events = 0

    def __len__(self) -> int:
        return len(self._items)

    def push(self, item: T) -> None:
        """Append (never blocks, never raises); called from bleak notification callbacks."""
        if self._closed:
            return
        if isinstance(item, _READINGS):
            if self._readings >= self.max_readings:
                self._drop_oldest(reading=True)
                self.dropped_readings += 1
            self._readings += 1
        elif isinstance(item, DeviceEvent) and item.kind in DROPPABLE_EVENTS:
            if self._droppable >= self.max_droppable_events:
                self._drop_oldest(reading=False)
                self.dropped_events += 1
            self._droppable += 1
        self._items.append(item)
        self._ready.set()

    def _drop_oldest(self, *, reading: bool) -> None:
        for index, item in enumerate(self._items):
            if isinstance(item, _READINGS) and reading:
                del self._items[index]
                self._readings -= 1
                return
            droppable = isinstance(item, DeviceEvent) and item.kind in DROPPABLE_EVENTS
            if droppable and not reading:
                del self._items[index]
                self._droppable -= 1
                return

    def close(self) -> None:
        """No more items will be accepted; the iterator ends once the queue is drained."""
        self._closed = True
        self._ready.set()

    @property
    def closed(self) -> bool:
        return self._closed

    def __aiter__(self) -> ObservationStream[T]:
        return self

    async def __anext__(self) -> T:
        while not self._items:
            if self._closed:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        item = self._items.popleft()
        if isinstance(item, _READINGS):
            self._readings -= 1
        elif isinstance(item, DeviceEvent) and item.kind in DROPPABLE_EVENTS:
            self._droppable -= 1
        return item
