"""WebSocket sessions and topic subscriptions of a local venue server.

A `Session` is one client connection; the venue protocol keeps what it needs in `state` (login,
account, request ids). The `Hub` maps topics (``books:BTC-USDT``, ``orders:<api key>``) to the
subscriptions on them. A book subscription waits for a snapshot: update frames published before it
has had one are not sent to it, exactly as a venue starts every book subscription with a snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["Hub", "Session", "Subscription"]

log = logging.getLogger("tradewright.servers")
_ids = itertools.count(1)


class Session:
    """One client WebSocket. `send` never raises: a connection that went away is simply closed."""

    def __init__(self, ws: web.WebSocketResponse, path: str, query: dict[str, str]) -> None:
        self.id = next(_ids)
        self.ws = ws
        self.path = path
        self.query = query
        self.state: dict[str, Any] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self._lock = asyncio.Lock()
        self.sent = 0

    @property
    def closed(self) -> bool:
        return self.ws.closed

    async def send(self, text: str) -> None:
        if self.ws.closed:
            return
        async with self._lock:  # frames of one connection never interleave
            try:
                await self.ws.send_str(text)
                self.sent += 1
            except (ConnectionError, RuntimeError) as exc:
                log.debug("session %d: send failed (%s); closing", self.id, exc)
                await self.close()

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary frame (msgpack, or JSON a venue sends as binary); never raises, as `send`."""
        if self.ws.closed:
            return
        async with self._lock:
            try:
                await self.ws.send_bytes(data)
                self.sent += 1
            except (ConnectionError, RuntimeError) as exc:
                log.debug("session %d: send failed (%s); closing", self.id, exc)
                await self.close()

    async def close(self, code: int = 1000, message: bytes = b"") -> None:
        if not self.ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.close(code=code, message=message)

    def __repr__(self) -> str:
        return f"Session({self.id}, {self.path})"


@dataclass(slots=True, eq=False)
class Subscription:
    """One session's subscription to one topic; `options` holds what the client asked (depth, ...)."""

    session: Session
    topic: str
    awaiting_snapshot: bool = False
    options: dict[str, Any] = field(default_factory=dict)


class Hub:
    """Topic -> subscriptions."""

    def __init__(self) -> None:
        self._topics: dict[str, list[Subscription]] = {}
        self.sessions: set[Session] = set()

    def add(
        self, session: Session, topic: str, *, awaiting_snapshot: bool = False, **options: Any
    ) -> Subscription:
        """Subscribe (again): an existing subscription of the session to the topic is replaced."""
        self.remove(session, topic)
        sub = Subscription(session, topic, awaiting_snapshot, dict(options))
        self._topics.setdefault(topic, []).append(sub)
        session.subscriptions[topic] = sub
        return sub

    def remove(self, session: Session, topic: str) -> bool:
        sub = session.subscriptions.pop(topic, None)
        if sub is None:
            return False
        subs = self._topics.get(topic, [])
        if sub in subs:
            subs.remove(sub)
        if not subs:
            self._topics.pop(topic, None)
        return True

    def drop_session(self, session: Session) -> None:
        for topic in list(session.subscriptions):
            self.remove(session, topic)
        self.sessions.discard(session)

    def subscribers(self, topic: str) -> list[Subscription]:
        return [s for s in self._topics.get(topic, ()) if not s.session.closed]

    def topics(self) -> list[str]:
        return sorted(self._topics)
