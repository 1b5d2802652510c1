"""WebSocket connections and who gets which frame: market streams, user-data streams, WebSocket API.

Every connection has its own queue drained by a writer task, so the replay never waits on a socket;
a client too slow to keep its queue below `MAX_QUEUE` frames is disconnected (as Binance drops slow
consumers). Fault injection (drop, truncate, delay) is applied here, per frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import WSCloseCode, web

from tradewright.emulator.faults import Faults

__all__ = ["Conn", "MarketHub", "UserHub"]

log = logging.getLogger(__name__)
MAX_QUEUE = 50_000
_encode = msgspec.json.Encoder().encode
_DEPTH = re.compile(r"^(?P<sym>[a-z0-9_]+)@depth(?P<levels>5|10|20)?(@(?P<speed>\d+)ms)?$")


class Conn:
    """One WebSocket: `send` queues a frame; `run_writer` writes them in order."""

    def __init__(
        self, ws: web.WebSocketResponse, kind: str, faults: Faults, *, combined: bool = False
    ) -> None:
        self.ws = ws
        self.kind = kind  # market | user | api
        self.faults = faults
        self.combined = combined
        self.subs: dict[str, str] = {}  # canonical stream key -> the name the client used
        self.listen_keys: set[str] = set()
        self.api_subscriptions: dict[int, str] = {}  # ws-api subscriptionId -> api key
        self._queue: asyncio.Queue[tuple[float, str] | None] = asyncio.Queue()
        self.closed = False
        self.closing: asyncio.Task[bool] | None = None  # the server-initiated close handshake

    def send(self, text: str, label: str = "", *, data: bool = True) -> None:
        """Queue a frame. Data frames are subject to the drop and malformed-frame faults."""
        if self.closed:
            return
        if data:
            if self.faults.drop_frame(label):
                return
            if self.faults.malform_frame():
                text = text[: max(1, len(text) // 2)]
        if self._queue.qsize() >= MAX_QUEUE:
            log.warning("disconnecting a %s WebSocket: %d frames unread", self.kind, MAX_QUEUE)
            self.close(WSCloseCode.POLICY_VIOLATION, "slow consumer")
            return
        self._queue.put_nowait((time.monotonic(), text))

    def send_json(self, obj: Any, label: str = "", *, data: bool = True) -> None:
        self.send(_encode(obj).decode(), label, data=data)

    async def run_writer(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                break
            queued, text = item
            delay = self.faults.settings.ws_delay_ms / 1000
            if delay:
                wait = queued + delay - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            if self.ws.closed:
                break
            try:
                await self.ws.send_str(text)
            except (ConnectionResetError, RuntimeError):
                break

    def close(self, code: int = WSCloseCode.GOING_AWAY, message: str = "") -> None:
        """Close now (queued frames are dropped)."""
        if self.closed:
            return
        self.closed = True
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)
        self.closing = asyncio.get_running_loop().create_task(
            self.ws.close(code=code, message=message.encode())
        )

    def finish(self) -> None:
        """Stop the writer after the frames already queued."""
        self.closed = True
        self._queue.put_nowait(None)


class MarketHub:
    """Market-stream subscriptions: canonical key (``btcusdt@depth``) -> connections."""

    def __init__(self, symbol: str, faults: Faults | None = None) -> None:
        self.symbol = symbol.lower()
        self._subs: dict[str, set[Conn]] = {}
        self._faults = faults
        self._depth_key = f"{self.symbol}@depth"

    @staticmethod
    def canonical(name: str) -> str:
        """Map a stream name to the key the replay publishes under (update speeds all share one feed)."""
        low = name.lower()
        depth = _DEPTH.match(low)
        if depth is not None:
            return f"{depth['sym']}@depth{depth['levels'] or ''}"
        return low

    def subscribe(self, conn: Conn, names: list[str]) -> None:
        for name in names:
            key = self.canonical(name)
            conn.subs[key] = name
            self._subs.setdefault(key, set()).add(conn)

    def unsubscribe(self, conn: Conn, names: list[str] | None = None) -> None:
        keys = list(conn.subs) if names is None else [self.canonical(n) for n in names]
        for key in keys:
            conn.subs.pop(key, None)
            members = self._subs.get(key)
            if members is not None:
                members.discard(conn)

    def wants(self, key: str) -> bool:
        return bool(self._subs.get(key))

    def publish(self, key: str, payload: bytes) -> None:
        members = self._subs.get(key)
        if not members:
            return
        if key == self._depth_key and self._faults is not None:
            payload = _corrupt_depth(payload, self._faults)
        raw = payload.decode()
        for conn in list(members):
            name = conn.subs.get(key, key)
            if conn.combined:
                conn.send(f'{{"stream":"{name}","data":{raw}}}', name)
            else:
                conn.send(raw, name)

    def connections(self) -> set[Conn]:
        return {c for members in self._subs.values() for c in members}


@dataclass(slots=True)
class _Sink:
    conn: Conn
    mode: str  # raw | combined | wsapi
    tag: str | int  # listen key or ws-api subscription id
    listen_key: str = ""


@dataclass(slots=True)
class UserHub:
    """User-data subscribers per API key: listenKey streams and WebSocket-API subscriptions."""

    sinks: dict[str, list[_Sink]] = field(default_factory=dict)
    faults: Faults | None = None

    def attach_listen_key(self, conn: Conn, api_key: str, listen_key: str, combined: bool) -> None:
        mode = "combined" if combined else "raw"
        self.sinks.setdefault(api_key, []).append(_Sink(conn, mode, listen_key, listen_key))
        conn.listen_keys.add(listen_key)

    def attach_wsapi(self, conn: Conn, api_key: str, subscription_id: int) -> None:
        self.sinks.setdefault(api_key, []).append(_Sink(conn, "wsapi", subscription_id))
        conn.api_subscriptions[subscription_id] = api_key

    def detach(self, conn: Conn, subscription_id: int | None = None) -> None:
        for key, sinks in list(self.sinks.items()):
            kept = [
                s
                for s in sinks
                if not (s.conn is conn and (subscription_id is None or s.tag == subscription_id))
            ]
            self.sinks[key] = kept
        if subscription_id is None:
            conn.api_subscriptions.clear()
            conn.listen_keys.clear()
        else:
            conn.api_subscriptions.pop(subscription_id, None)

    def publish(self, api_key: str, event: dict[str, Any]) -> None:
        sinks = self.sinks.get(api_key)
        if not sinks:
            return
        events = [event] if self.faults is None else self.faults.corrupt_fill(event)
        label = str(event.get("e", ""))
        for one in events:
            raw = _encode(one).decode()
            for sink in sinks:
                if sink.mode == "raw":
                    sink.conn.send(raw, label)
                elif sink.mode == "combined":
                    sink.conn.send(f'{{"stream":"{sink.tag}","data":{raw}}}', label)
                else:
                    sink.conn.send(f'{{"subscriptionId":{sink.tag},"event":{raw}}}', label)

    def expire(self, listen_key: str, event_ms: int) -> None:
        """Tell the listen key's streams it expired, then close them."""
        for sinks in self.sinks.values():
            for sink in [s for s in sinks if s.listen_key == listen_key]:
                event = {"e": "listenKeyExpired", "E": event_ms, "listenKey": listen_key}
                sink.conn.send_json(event, data=False)
                sink.conn.finish()
                with contextlib.suppress(ValueError):
                    sinks.remove(sink)


def _corrupt_depth(payload: bytes, faults: Faults) -> bytes:
    """Fault injection: put a bid at an absurd price into this depth diff (if that fault is due)."""
    price = faults.corrupt_book_price()
    if price is None:
        return payload
    msg = msgspec.json.decode(payload)
    bids = msg.get("b") or []
    msg["b"] = [[price, bids[0][1] if bids else "1.000"], *bids[1:]]
    return _encode(msg)
