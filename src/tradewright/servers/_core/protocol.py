"""What a venue protocol module provides to the generic replay server (`ReplayServer`).

A module subclasses `VenueProtocol` and fills in:

* `markets()` and `events()` — the tradable markets (exact grids, from the recorded instrument lists)
  and the recorded market messages as `MarketEvent`s (with their effect on each book as `Row`s, which
  the private side matches against);
* `routes(router)` — recorded REST bodies and handlers for everything stateful (orders, balances);
* `on_message(session, text)` — subscribe/unsubscribe/login/ping on a WebSocket;
* `on_event(event)` — publish one market event to its subscribers (transcoding where the recording's
  API version differs from the one clients speak), through `server.publish_book` / `server.publish`
  so that fault injection applies;
* `on_order_change(change)` — push an order/fill/balance update to the account's private subscribers;
* the venue's error envelopes: `not_found`, `too_many_requests`, `server_error`.

Everything a module writes that no recording or fixture holds is written from the venue's official
API documentation, and says so where it is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from tradewright.servers._core.accounts import Account, SimMarket
from tradewright.servers._core.exchange import OrderChange
from tradewright.servers._core.rest import RestAnswer, RestRequest, RestRouter
from tradewright.servers._core.timeline import MarketEvent
from tradewright.servers._core.ws import Session

if TYPE_CHECKING:
    from tradewright.servers._core.server import ReplayServer

__all__ = ["RateRule", "VenueProtocol"]


@dataclass(frozen=True, slots=True)
class RateRule:
    """A documented request limit the server enforces: at most `limit` requests in `window_s` for
    requests whose path starts with one of `prefixes` (counted per API key, or per client when unsigned)."""

    name: str
    prefixes: tuple[str, ...]
    limit: int
    window_s: float
    methods: frozenset[str] = frozenset({"GET", "POST", "PUT", "DELETE"})


class VenueProtocol:
    """Base of a venue protocol module (see the module docstring)."""

    name: ClassVar[str] = ""
    ws_paths: ClassVar[tuple[str, ...]] = ()
    rate_rules: ClassVar[tuple[RateRule, ...]] = ()

    def __init__(self) -> None:
        self._server: ReplayServer | None = None

    @property
    def server(self) -> ReplayServer:
        if self._server is None:
            raise RuntimeError(f"{self.name}: the protocol is not attached to a server")
        return self._server

    def attach(self, server: ReplayServer) -> None:
        self._server = server

    # --- set-up ------------------------------------------------------------------------------------
    def markets(self) -> Sequence[SimMarket]:
        raise NotImplementedError

    def events(self) -> Sequence[MarketEvent]:
        raise NotImplementedError

    def routes(self, router: RestRouter) -> None:
        raise NotImplementedError

    def default_accounts(self) -> list[Account]:
        """The accounts a server starts with when none are configured."""
        return []

    def default_balances(self) -> dict[str, Decimal]:
        return {"USDT": Decimal(100_000), "USD": Decimal(100_000)}

    # --- WebSocket -----------------------------------------------------------------------------------
    async def on_open(self, session: Session) -> None:
        return None

    async def on_message(self, session: Session, text: str) -> None:
        raise NotImplementedError

    async def on_binary(self, session: Session, data: bytes) -> None:
        """A binary client frame (venues whose clients speak msgpack); ignored unless overridden."""
        return None

    async def on_close(self, session: Session) -> None:
        return None

    # --- replay and private pushes -------------------------------------------------------------------
    async def on_event(self, event: MarketEvent) -> None:
        raise NotImplementedError

    def on_order_change(self, change: OrderChange) -> None:
        return None

    # --- the venue's error envelopes -------------------------------------------------------------------
    def not_found(self, request: RestRequest) -> RestAnswer:
        return RestAnswer.of({"error": f"{request.method} {request.path} is not served here"}, 404)

    def too_many_requests(self, request: RestRequest, retry_after_s: float) -> RestAnswer:
        return RestAnswer.of({"error": "too many requests"}, 429, {"Retry-After": f"{retry_after_s:g}"})

    def server_error(self, request: RestRequest, status: int) -> RestAnswer:
        return RestAnswer.of({"error": "internal error"}, status)
