"""The replay timeline: one market clock per server, the recorded events played out in order.

Pacing:

* ``fast`` — as fast as the clients take them (the loop yields between events);
* ``recorded`` — at the recorded inter-arrival times divided by `speed`;
* ``step`` — only when told: `step(count, topic)` releases events until `count` events whose topic
  contains `topic` have gone out, and returns once they have (tests drive the market this way).

The market starts at the first subscription to market data (so a client that connects late does not
find the recording over) or at once (`start_on="now"`). At the end the market stands still; the
private side keeps answering against the last book.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MarketEvent", "Pacing", "Row", "Timeline"]


class Pacing(enum.StrEnum):
    FAST = "fast"
    RECORDED = "recorded"
    STEP = "step"


@dataclass(frozen=True, slots=True)
class Row:
    """One change to a market, for the private side's matching: `kind` is ``clear`` (a snapshot starts),
    ``level`` (a book level's new total size; 0 deletes) or ``trade`` (side = aggressor, 0 if unknown)."""

    kind: str
    side: int
    price: str
    size: str


@dataclass(slots=True)
class MarketEvent:
    """One recorded market message, as the venue protocol parsed it.

    `topic` names what it belongs to (``books:BTC-USDT``); `symbol` the market whose book it changes
    (None for messages that change none); `payload` is the protocol's own parsed form; `rows` its
    effect on the book and trades. `row_start`/`row_stop` index the rows in the market's stream.
    """

    ts_ns: int
    topic: str
    payload: Any
    symbol: str | None = None
    rows: tuple[Row, ...] = ()
    row_start: int = 0
    row_stop: int = 0
    index: int = field(default=0)


@dataclass(slots=True)
class _Permit:
    topic: str
    remaining: int
    done: asyncio.Future[int]


class Timeline:
    """Play `events` through `on_event` with the chosen pacing (see the module docstring)."""

    def __init__(
        self,
        events: Sequence[MarketEvent],
        on_event: Callable[[MarketEvent], Awaitable[None]],
        *,
        pacing: Pacing = Pacing.RECORDED,
        speed: float = 1.0,
        start_on: str = "subscribe",
    ) -> None:
        if speed <= 0:
            raise ValueError(f"replay speed must be > 0, got {speed}")
        self.events = list(events)
        for i, ev in enumerate(self.events):
            ev.index = i
        self._on_event = on_event
        self.pacing = pacing
        self.speed = speed
        self.position = 0
        self._start = asyncio.Event()
        if start_on == "now":
            self._start.set()
        self._permits: list[_Permit] = []
        self._wake = asyncio.Event()
        self.paused = False
        self.finished = asyncio.Event()

    @property
    def started(self) -> bool:
        return self._start.is_set()

    @property
    def now_ns(self) -> int:
        """The market's clock: the time of the last event played (the first event's before any)."""
        if not self.events:
            return 0
        return self.events[max(self.position - 1, 0)].ts_ns

    def start(self) -> None:
        self._start.set()

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self._wake.set()

    async def step(self, count: int = 1, topic: str = "") -> int:
        """Release events until `count` whose topic contains `topic` have been played; return the position."""
        if count <= 0:
            return self.position
        self._start.set()  # stepping is starting
        loop = asyncio.get_running_loop()
        permit = _Permit(topic, count, loop.create_future())
        self._permits.append(permit)
        self._wake.set()
        return await permit.done

    async def run(self) -> None:
        await self._start.wait()
        wall0 = time.monotonic()
        t0 = self.events[0].ts_ns if self.events else 0
        while self.position < len(self.events):
            event = self.events[self.position]
            if self.pacing is Pacing.STEP:
                permit = await self._next_permit()
            else:
                permit = None
                while self.paused:
                    self._wake.clear()
                    await self._wake.wait()
                if self.pacing is Pacing.RECORDED:
                    due = wall0 + (event.ts_ns - t0) / 1e9 / self.speed
                    delay = due - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
            self.position += 1
            await self._on_event(event)
            if permit is not None and permit.topic in event.topic:
                permit.remaining -= 1
                if permit.remaining == 0:
                    self._permits.remove(permit)
                    if not permit.done.done():
                        permit.done.set_result(self.position)
            if self.pacing is Pacing.FAST:
                await asyncio.sleep(0)
        self.finished.set()
        for permit in self._permits:  # the recording is over: nothing more will come
            if not permit.done.done():
                permit.done.set_result(self.position)
        self._permits.clear()

    async def _next_permit(self) -> _Permit:
        while not self._permits:
            self._wake.clear()
            await self._wake.wait()
        return self._permits[0]
