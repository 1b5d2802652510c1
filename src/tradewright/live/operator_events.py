"""Channels of events for the faces: snapshot first, then numbered deltas, per channel.

Every message is one JSON object, encoded once and shared by every subscriber:
`{"type": "order.accepted", "channel": "orders", "seq": 42, "ts": <node ns>, "mode": "paper", "data": {...}}`.
`seq` counts per channel from the node's start, so a client that sees 40 then 42 knows it missed one
and reloads the snapshot. A subscription first gets `{"type": "snapshot", "seq": <current>}` for each of
its channels, then every delta with a higher seq.

Event channels (orders, fills, positions, risk, strategies, logs, commands) carry every event.
High-rate channels (book, quotes, pnl, latency, venues, system) are coalesced: the node publishes their
full current state at most a few times a second, only when it changed, so a burst of book updates costs
one message. A subscriber whose queue fills up (a slow client) is marked dropped: its transport closes
it (WebSocket close code 1013) and it can reconnect and start again from a snapshot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

__all__ = ["CHANNELS", "COALESCED", "EventHub", "Subscription"]

CHANNELS = (
    "system",
    "venues",
    "book",
    "quotes",
    "orders",
    "fills",
    "positions",
    "pnl",
    "risk",
    "strategies",
    "latency",
    "logs",
    "commands",
    "workflows",
)
COALESCED = frozenset({"system", "venues", "book", "quotes", "pnl", "latency"})

_encoder = msgspec.json.Encoder(decimal_format="string")


class Subscription:
    """One client's view: the channels it follows and the queue of encoded messages for it."""

    __slots__ = ("channels", "dropped", "queue")

    def __init__(self, channels: Iterable[str], queue_size: int) -> None:
        self.channels = set(channels)
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=queue_size)
        self.dropped = False

    def offer(self, message: bytes) -> None:
        if self.dropped:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped = True  # the transport closes it; it can resubscribe from a snapshot


class EventHub:
    """Fan-out of channel messages to subscriptions. Not thread-safe: use it on the node's loop."""

    def __init__(
        self,
        mode: str,
        clock_ns: Callable[[], int],
        snapshot: Callable[[str], Any],
    ) -> None:
        self.mode = mode
        self._clock_ns = clock_ns
        self._snapshot = snapshot
        self.seq: dict[str, int] = dict.fromkeys(CHANNELS, 0)
        self._subs: dict[str, list[Subscription]] = {c: [] for c in CHANNELS}
        self._last: dict[str, bytes] = {}  # coalesced channels: the last state published (to skip repeats)
        self.published = 0
        self.dropped_subscribers = 0

    def wanted(self, channel: str) -> bool:
        """True when someone follows the channel (callers skip building data nobody reads)."""
        return bool(self._subs[channel])

    @property
    def subscribers(self) -> int:
        return len({id(s) for subs in self._subs.values() for s in subs})

    def subscribe(self, channels: Iterable[str], queue_size: int) -> Subscription:
        wanted = list(dict.fromkeys(channels))
        unknown = [c for c in wanted if c not in self.seq]
        if unknown:
            raise ValueError(f"unknown channel(s) {', '.join(unknown)}; channels are {', '.join(CHANNELS)}")
        sub = Subscription(wanted, queue_size)
        for channel in wanted:
            # Snapshot and registration happen together on the loop thread: no delta can slip between.
            sub.offer(self._message("snapshot", channel, self.seq[channel], self._snapshot(channel)))
            self._subs[channel].append(sub)
        return sub

    def add_channels(self, sub: Subscription, channels: Iterable[str]) -> None:
        for channel in channels:
            if channel not in self.seq:
                raise ValueError(f"unknown channel {channel!r}; channels are {', '.join(CHANNELS)}")
            if channel in sub.channels:
                continue
            sub.channels.add(channel)
            sub.offer(self._message("snapshot", channel, self.seq[channel], self._snapshot(channel)))
            self._subs[channel].append(sub)

    def remove_channels(self, sub: Subscription, channels: Iterable[str]) -> None:
        for channel in channels:
            if channel in sub.channels:
                sub.channels.discard(channel)
                self._subs[channel].remove(sub)

    def unsubscribe(self, sub: Subscription) -> None:
        self.remove_channels(sub, list(sub.channels))

    def publish(self, channel: str, kind: str, data: Any) -> None:
        """Send one delta to every subscriber of the channel (numbered even when nobody listens, so
        seq always counts what the node published)."""
        self.seq[channel] += 1
        subs = self._subs[channel]
        if not subs:
            return
        message = self._message(kind, channel, self.seq[channel], data)
        self.published += 1
        for sub in list(subs):
            sub.offer(message)
            if sub.dropped:
                self.dropped_subscribers += 1
                self.unsubscribe(sub)

    def publish_state(self, channel: str, kind: str, data: Any) -> bool:
        """Publish a coalesced channel's full state if it changed since the last one; return whether."""
        body = _encoder.encode(data)
        if self._last.get(channel) == body:
            return False
        self._last[channel] = body
        self.publish(channel, kind, data)
        return True

    def _message(self, kind: str, channel: str, seq: int, data: Any) -> bytes:
        return _encoder.encode(
            {"type": kind, "channel": channel, "seq": seq, "ts": self._clock_ns(), "mode": self.mode, "data": data}
        )
