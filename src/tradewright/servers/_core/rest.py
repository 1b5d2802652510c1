"""The REST face of a local venue server: recorded bodies served by (method, path, canonical query),
handlers for everything stateful, and a log of every request for tests to assert on.

A recorded body answers exactly the request it was recorded for (the query's parameters in any order);
anything else is either a registered handler or, in strict mode, refused with 404 and logged as
unknown — a client that starts calling an endpoint the recording does not cover is a finding, not
something to paper over.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

__all__ = ["LoggedRequest", "RequestLog", "RestAnswer", "RestRequest", "RestRouter", "canonical_query"]


def canonical_query(query: str) -> str:
    """The query with its parameters sorted (so ``b=1&a=2`` and ``a=2&b=1`` are one key)."""
    return urlencode(sorted(parse_qsl(query, keep_blank_values=True)))


@dataclass(frozen=True, slots=True)
class RestRequest:
    """One HTTP request as a handler sees it: everything a signature check needs, exactly as received."""

    method: str
    path: str
    query: str  # raw, as sent (signatures cover it verbatim)
    body: str
    headers: Mapping[str, str]
    params: dict[str, str]  # query parameters (and form fields for form-encoded bodies)

    def json(self) -> Any:
        """The body as JSON (an empty body is an empty object)."""
        return json.loads(self.body) if self.body.strip() else {}

    @property
    def path_and_query(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


@dataclass(frozen=True, slots=True)
class RestAnswer:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    @classmethod
    def of(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> RestAnswer:
        """Encode a JSON payload (Decimals are written as their exact text by the caller: use str)."""
        return cls(status, json.dumps(payload, separators=(",", ":")), dict(headers or {}))


Handler = Callable[[RestRequest], Awaitable[RestAnswer]]


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request the server saw. `transport` is ``http`` or ``ws``; WebSocket entries log the connect
    (method ``CONNECT``) and each client message (method ``SEND``, its text in `detail`)."""

    ts: float
    transport: str
    method: str
    path: str
    query: str = ""
    status: int = 0
    known: bool = True
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ts": self.ts, "transport": self.transport, "method": self.method, "path": self.path,
            "query": self.query, "status": self.status, "known": self.known, "detail": self.detail,
        }  # fmt: skip

    def __str__(self) -> str:
        q = f"?{self.query}" if self.query else ""
        return f"{self.method} {self.path}{q}"


class RequestLog:
    """Every request, in arrival order (bounded: the oldest entries go first)."""

    def __init__(self, limit: int = 100_000) -> None:
        self.entries: list[LoggedRequest] = []
        self._limit = limit

    def add(self, entry: LoggedRequest) -> None:
        self.entries.append(entry)
        if len(self.entries) > self._limit:
            del self.entries[: len(self.entries) - self._limit]

    def http(self) -> list[LoggedRequest]:
        return [e for e in self.entries if e.transport == "http"]

    def unknown(self) -> list[LoggedRequest]:
        return [e for e in self.entries if not e.known]

    def ws_sent(self, path_contains: str = "") -> list[str]:
        """Texts clients sent over WebSockets (whose path contains the text)."""
        return [
            e.detail
            for e in self.entries
            if e.transport == "ws" and e.method == "SEND" and path_contains in e.path
        ]

    def count(self, method: str, path: str) -> int:
        return sum(1 for e in self.entries if e.transport == "http" and e.method == method and e.path == path)

    def clear(self) -> None:
        self.entries.clear()

    @staticmethod
    def now() -> float:
        return time.time()


class RestRouter:
    """Map requests to recorded bodies or handlers."""

    def __init__(self) -> None:
        self._recorded: dict[tuple[str, str, str], RestAnswer] = {}
        self._handlers: dict[tuple[str, str], Handler] = {}
        self._prefix_handlers: list[tuple[str, str, Handler]] = []

    def add_recorded(self, method: str, path: str, query: str, body: str, status: int = 200) -> None:
        """Serve `body` for exactly this method, path and query (the last recording of it wins)."""
        self._recorded[(method.upper(), path, canonical_query(query))] = RestAnswer(status, body)

    def add(self, method: str, path: str, handler: Handler) -> None:
        self._handlers[(method.upper(), path)] = handler

    def add_prefix(self, method: str, prefix: str, handler: Handler) -> None:
        """A handler for every path under `prefix` (e.g. ``DELETE /api/v4/futures/usdt/orders/``)."""
        self._prefix_handlers.append((method.upper(), prefix, handler))

    def recorded(self, method: str, path: str, query: str) -> RestAnswer | None:
        return self._recorded.get((method.upper(), path, canonical_query(query)))

    def handler(self, method: str, path: str) -> Handler | None:
        found = self._handlers.get((method.upper(), path))
        if found is not None:
            return found
        for m, prefix, handler in self._prefix_handlers:
            if m == method.upper() and path.startswith(prefix):
                return handler
        return None

    def paths(self) -> list[str]:
        """Every route (for the admin status page)."""
        recorded = {f"{m} {p}?{q}" if q else f"{m} {p}" for m, p, q in self._recorded}
        handled = {f"{m} {p}" for m, p in self._handlers} | {f"{m} {p}*" for m, p, _ in self._prefix_handlers}
        return sorted(recorded | handled)
