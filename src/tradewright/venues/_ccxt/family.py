"""What differs between the venue families on the shared CCXT base: one `Family` subclass per venue.

The shared base (`CcxtMarketFeed`, `CcxtExecution`, `connect`) does the work: connections, backoff,
rate buckets, book verification, order bookkeeping. A family says how its venue's raw payloads read
(pure parsing, tested on recorded payloads), which CCXT options keep it on the documented endpoints,
how a book is resubscribed, how our client order ids are written for it, and what its errors mean.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import ccxt

from tradewright.core.errors import ConfigError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.engine.venue_state import AccountSnapshot, VenueOrder
from tradewright.model.events import OrderFilled
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.venues._ccxt.books import BookFrame, BookRule
from tradewright.venues._ccxt.config import CcxtVenueConfig
from tradewright.venues._common.capabilities import VenueCapabilities
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.markets import MarketInfo

__all__ = ["Failure", "Family", "OrderArgs", "OrderView", "PublicQuote", "PublicTrade", "RateSpec"]


class Failure(enum.StrEnum):
    """What a failed request means for the order it carried."""

    REJECTED = "rejected"  # the venue refused it: nothing happened
    UNKNOWN = "unknown"  # no clear answer: it may have been carried out (query, never resend)
    RATE_LIMITED = "rate_limited"  # refused before processing: back off, then it may be sent again
    NOT_FOUND = "not_found"  # the order is not (or no longer) at the venue
    AUTH = "auth"  # keys refused: stop


@dataclass(frozen=True, slots=True)
class OrderView:
    """What one push or REST answer says about one order; the fill it reports, if any (a venue whose
    fills come on their own channel sends a view with only the fill). Client order ids here are the
    venue's (the execution maps them back to ours)."""

    order: VenueOrder | None
    fill: OrderFilled | None = None

    @property
    def client_id(self) -> str:
        if self.order is not None:
            return str(self.order.client_order_id)
        return "" if self.fill is None else str(self.fill.client_order_id)


@dataclass(frozen=True, slots=True)
class PublicTrade:
    market_id: str
    price: str
    size: str
    aggressor: int  # +1 buy, -1 sell, 0 unknown
    trade_id: str
    ts_ms: int


@dataclass(frozen=True, slots=True)
class PublicQuote:
    """The venue's own best bid and offer (its bookTicker / ticker channel), as exact strings."""

    market_id: str
    bid: str
    bid_size: str
    ask: str
    ask_size: str
    update_id: int
    ts_ms: int


@dataclass(frozen=True, slots=True)
class OrderArgs:
    """Arguments of CCXT's `create_order` for one of our orders."""

    type: str
    side: str
    amount: str
    price: str | None
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RateSpec:
    """A documented limit as a token bucket: `capacity` requests per `period_s`."""

    capacity: int
    period_s: float


class Family:
    """Base of a venue family; subclasses set the class attributes and override the parsing hooks."""

    name: ClassVar[str] = ""
    venue: ClassVar[Venue] = Venue("")
    ccxt_id: ClassVar[str] = ""
    capabilities: ClassVar[VenueCapabilities]
    env: ClassVar[Mapping[str, str]] = {}  # credential part -> config attribute naming its variable
    rates: ClassVar[Mapping[str, RateSpec]] = {}  # bucket -> limit ("orders", "cancels", "queries", ...)
    default_market: ClassVar[str] = "spot"
    markets_allowed: ClassVar[tuple[str, ...]] = ("spot",)
    client_id_pattern: ClassVar[str] = r"[A-Za-z0-9_-]{1,36}"

    # --- set-up ------------------------------------------------------------------------------------
    def credentials(self, config: Any, environ: Mapping[str, str] | None = None) -> Credentials:
        names = {part: getattr(config, attr) for part, attr in self.env.items()}
        return Credentials.from_env(self.name.upper(), names, environ)

    def check_credentials(self, config: Any, creds: Credentials) -> None:
        """Refuse credentials of an impossible form (naming the variable, never the value)."""
        return None

    async def verify_keys(self, exchange: Any) -> None:
        """One private read, so keys the venue refuses stop the connection before any order."""
        await exchange.fetch_balance()

    def ccxt_keys(self, creds: Credentials | None) -> dict[str, str]:
        if creds is None:
            return {}
        keys = {"apiKey": creds.api_key, "secret": creds.get("secret")}
        if creds.has("passphrase"):
            keys["password"] = creds.get("passphrase")
        return keys

    def options(self, config: CcxtVenueConfig) -> dict[str, Any]:
        return {}

    def extend(self, cls: type, tap: Any) -> type:
        """Further taps on the CCXT class where a venue's data does not arrive as a WebSocket message
        (Gate's REST book snapshot); `tap(client, message)` is the same entry as for frames."""
        return cls

    def prepare(self, exchange: Any, config: CcxtVenueConfig) -> None:
        """Adjust a new CCXT instance (e.g. stop `load_markets` from fetching currencies)."""
        exchange.has["fetchCurrencies"] = False

    def market_kind(self, config: CcxtVenueConfig) -> str:
        kind = config.market or self.default_market
        if kind not in self.markets_allowed:
            raise ConfigError(
                f"`market` for {self.name} must be one of {', '.join(self.markets_allowed)}, got {kind!r}"
            )
        return kind

    def select_market(
        self, markets: Mapping[str, Any], symbol: str, config: CcxtVenueConfig
    ) -> dict[str, Any]:
        """The CCXT market the config's `symbol` names (the venue's id, or CCXT's unified symbol)."""
        kind = self.market_kind(config)
        want_swap = kind == "swap"
        for market in markets.values():
            named = market.get("id") == symbol or market.get("symbol") == symbol
            if named and (bool(market.get("swap")) == want_swap or market.get("symbol") == symbol):
                return dict(market)
        raise ConfigError(f"`symbols`: {symbol} is not a {kind} market on {self.name}")

    def instrument(self, market: Mapping[str, Any], config: CcxtVenueConfig) -> Instrument:
        raise NotImplementedError

    def instrument_id(self, market: Mapping[str, Any]) -> InstrumentId:
        symbol = str(market["id"])
        if market.get("swap") and "SWAP" not in symbol.upper():
            symbol += "-PERP"
        return InstrumentId(symbol, self.venue)

    def market_info(self, market: Mapping[str, Any]) -> MarketInfo:
        raise NotImplementedError

    def list_types(self) -> list[str]:
        """The CCXT market types `tradewright markets` loads."""
        return list(self.markets_allowed)

    # --- market data -------------------------------------------------------------------------------
    def book_rule(self, instrument: Instrument) -> BookRule:
        raise NotImplementedError

    book_limit: ClassVar[int | None] = None

    def book_frames(self, message: Any) -> list[BookFrame]:
        """The book frames in a raw WebSocket message ([] when it is not a book message)."""
        return []

    def book_hash(self, symbol: str) -> str:
        """CCXT's message hash of a book subscription (to wake its watcher on a failure)."""
        return f"orderbook:{symbol}"

    def mark_resync(self, exchange: Any, symbol: str) -> None:
        """Called when our verifier rejected a frame, before the book is resubscribed."""
        return None

    async def resubscribe(self, exchange: Any, symbol: str) -> None:
        """Unsubscribe the book (so the next watch subscribes again and gets a fresh snapshot)."""
        await exchange.un_watch_order_book(symbol)

    def trades(self, message: Any) -> list[PublicTrade]:
        return []

    def quotes(self, message: Any) -> list[PublicQuote]:
        return []

    async def watch_quotes(self, exchange: Any, symbol: str) -> Any:
        """Keep the venue's best bid/offer channel subscribed (its frames reach `quotes`)."""
        return await exchange.watch_ticker(symbol)

    def pushes(self, message: Any, markets: Mapping[str, InstrumentId], ts_init: int) -> list[OrderView]:
        """Order and fill updates in a raw private WebSocket message ([] otherwise)."""
        return []

    private_url_marker: ClassVar[str] = "private"

    def user_stream_ready(self, exchange: Any) -> bool:
        """True once the private WebSocket is connected and its order subscription has been sent."""
        for url, client in list(getattr(exchange, "clients", {}).items()):
            connected = getattr(client, "connected", None)
            if self.private_url_marker not in url or connected is None or not connected.done():
                continue
            if connected.cancelled() or connected.exception() is not None:
                continue
            if any("order" in str(key) for key in client.subscriptions):
                return True
        return False

    async def watch_private(self, exchange: Any) -> Any:
        """Keep the private order subscription open (its frames reach `pushes` through the tap)."""
        return await exchange.watch_orders()

    # --- orders ------------------------------------------------------------------------------------
    def client_id(self, cid: str) -> str:
        """Our client order id as this venue accepts it: as is when valid, else a stable digest."""
        if re.fullmatch(self.client_id_pattern, cid):
            return cid
        digest = hashlib.sha256(cid.encode()).hexdigest()
        return self._digest_id(digest)

    def _digest_id(self, digest: str) -> str:
        return "tw" + digest[:30]

    def order_args(self, order: Order, venue_cid: str) -> OrderArgs:
        raise NotImplementedError

    def order_view(self, raw: Mapping[str, Any], iid: InstrumentId) -> VenueOrder:
        raise NotImplementedError

    def fill_of(self, raw: Mapping[str, Any], iid: InstrumentId, ts_init: int) -> OrderFilled:
        raise NotImplementedError

    def placed_id(self, answer: Mapping[str, Any]) -> str:
        """The venue order id in a create answer (CCXT's unified `id`)."""
        return str(answer.get("id") or "")

    async def query(self, exchange: Any, symbol: str, venue_cid: str) -> Mapping[str, Any] | None:
        """One order by its client order id (raw), or None when the venue does not know it."""
        raise NotImplementedError

    async def fills(self, exchange: Any, symbol: str, venue_order_id: str) -> list[Mapping[str, Any]]:
        raise NotImplementedError

    async def open_orders(self, exchange: Any, symbol: str) -> list[Mapping[str, Any]]:
        answers = await exchange.fetch_open_orders(symbol)
        return [a["info"] for a in answers]

    async def amend(
        self,
        exchange: Any,
        symbol: str,
        order: Order,
        venue_cid: str,
        price: Decimal | None,
        quantity: Decimal | None,
    ) -> None:
        raise ccxt.NotSupported(f"{self.name}: amend is not supported")

    async def cancel(self, exchange: Any, symbol: str, order: Order, venue_cid: str) -> None:
        await exchange.cancel_order(order.venue_order_id, symbol)

    async def cancel_all(self, exchange: Any, symbol: str) -> None:
        await exchange.cancel_all_orders(symbol)

    async def account(self, exchange: Any, instruments: Mapping[str, Instrument]) -> AccountSnapshot:
        raise NotImplementedError

    def classify(self, exc: BaseException) -> tuple[Failure, str]:
        """What a failed request means (see `Failure`) and a machine reason."""
        if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
            return Failure.RATE_LIMITED, "rate_limited"
        if isinstance(exc, ccxt.AuthenticationError | ccxt.PermissionDenied | ccxt.AccountSuspended):
            return Failure.AUTH, "authentication"
        if isinstance(exc, ccxt.OrderNotFound):
            return Failure.NOT_FOUND, "order_not_found"
        if isinstance(exc, ccxt.NetworkError):
            return Failure.UNKNOWN, type(exc).__name__
        if isinstance(exc, ccxt.InsufficientFunds):
            return Failure.REJECTED, "insufficient_funds"
        if isinstance(exc, ccxt.DuplicateOrderId):
            return Failure.REJECTED, "duplicate_client_order_id"
        if isinstance(exc, ccxt.InvalidOrder):
            return Failure.REJECTED, "invalid_order"
        if isinstance(exc, ccxt.ExchangeError):
            return Failure.REJECTED, f"{self.name}_error"
        return Failure.UNKNOWN, type(exc).__name__

    def retry_after_s(self, exc: BaseException, default: float = 1.0) -> float:
        """How long a rate-limited answer asks us to wait (the venue's Retry-After where it gives one)."""
        return default
