"""Pure translation of Polymarket payloads into tradewright's model (tested on the recorded fixtures).

- Frames: a WebSocket frame is one JSON object, a JSON array of them, or a bare text (``PONG``,
  ``NO NEW ASSETS``) that carries nothing.
- Markets: Gamma and CLOB market objects become `BinaryMarket`s (Gamma's outcome and token lists are
  JSON arrays inside strings).
- Fills: a user-channel trade becomes our fills, on the right side even when our resting order was
  matched against the *other* outcome's token (NautilusTrader issue 3126): a BUY YES taker can fill a
  resting BUY NO, so a maker's side follows the taker's side on the complementary token and is the
  opposite on the same token; our own order's side, when we know it, always wins.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec

from tradewright.core.errors import VenueError
from tradewright.core.ids import Venue
from tradewright.engine.venue_state import VenueOrderStatus
from tradewright.model.enums import LiquiditySide, OrderSide
from tradewright.model.prediction import BinaryMarket, FeeSchedule, OutcomeEvent, OutcomeToken
from tradewright.venues.polymarket.schemas import (
    BestBidAsk,
    BookMessage,
    ClobMarket,
    ClobMarketDetails,
    GammaEvent,
    GammaMarket,
    LastTradePrice,
    MarketResolvedMessage,
    PriceChangeLegacy,
    PriceChangeMessage,
    TickSizeChange,
    UserOrder,
    UserTrade,
)

__all__ = [
    "MarketMessage",
    "TradeFill",
    "decode",
    "event_from_gamma",
    "fee_schedule",
    "iso_to_ns",
    "market_from_clob",
    "market_from_gamma",
    "ms_to_ns",
    "order_status",
    "our_fills",
    "parse_market_messages",
    "parse_user_message",
    "split_frame",
]

VENUE = Venue("POLYMARKET")
_NS_PER_MS = 1_000_000
_IGNORED_TEXT = frozenset({"PONG", "PING", "NO NEW ASSETS"})

MarketMessage = (
    BookMessage
    | PriceChangeMessage
    | PriceChangeLegacy
    | TickSizeChange
    | LastTradePrice
    | BestBidAsk
    | MarketResolvedMessage
)

_MARKET_TYPES: dict[str, type[Any]] = {
    "book": BookMessage,
    "tick_size_change": TickSizeChange,
    "last_trade_price": LastTradePrice,
    "best_bid_ask": BestBidAsk,
    "market_resolved": MarketResolvedMessage,
}


def decode(kind: type[Any], raw: Any, what: str) -> Any:
    """Convert a decoded JSON value (or raw bytes) into a typed struct; VenueError names `what`."""
    try:
        if isinstance(raw, bytes | str | msgspec.Raw):
            return msgspec.json.decode(raw, type=kind)
        return msgspec.convert(raw, type=kind, strict=False)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise VenueError(f"malformed Polymarket {what}: {exc}") from None


def split_frame(text: str | bytes) -> list[dict[str, Any]]:
    """The JSON objects in one WebSocket frame (an object or an array); [] for keep-alive texts."""
    stripped = text.strip() if isinstance(text, str) else text.decode("utf-8", "replace").strip()
    if not stripped or stripped in _IGNORED_TEXT:
        return []
    try:
        value = json.loads(stripped)
    except ValueError:
        raise VenueError(f"Polymarket frame is not JSON: {stripped[:120]!r}") from None
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, dict) for item in items):
        raise VenueError(f"Polymarket frame holds something other than objects: {stripped[:120]!r}")
    return items


def parse_market_messages(frame: str | bytes) -> list[MarketMessage | None]:
    """Typed market-channel messages of one frame; None for an event type we do not use (new_market)."""
    out: list[MarketMessage | None] = []
    for item in split_frame(frame):
        kind = item.get("event_type")
        if kind == "price_change":
            typ: type[Any] = PriceChangeMessage if "price_changes" in item else PriceChangeLegacy
        elif kind is None and "price_changes" in item:
            typ = PriceChangeMessage  # some captures omit event_type
        elif kind is None and "bids" in item and "asks" in item:
            typ = BookMessage
        else:
            typ = _MARKET_TYPES.get(str(kind), type(None))
        out.append(None if typ is type(None) else decode(typ, item, f"{kind or 'market'} message"))
    return out


def parse_user_message(item: Mapping[str, Any]) -> UserOrder | UserTrade | None:
    """One user-channel object: an order update, a trade, or None for anything else."""
    kind = item.get("event_type")
    if kind == "order":
        return decode(UserOrder, item, "user order")  # type: ignore[no-any-return]
    if kind == "trade":
        return decode(UserTrade, item, "user trade")  # type: ignore[no-any-return]
    return None


def ms_to_ns(value: str | int) -> int:
    """A venue timestamp in ms (or seconds when it has 10 digits or fewer) as UTC ns."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise VenueError(f"bad Polymarket timestamp {value!r}") from None
    return number * 1_000_000_000 if number < 10_000_000_000 else number * _NS_PER_MS


def iso_to_ns(text: str | None) -> int | None:
    """An ISO-8601 time (``2026-03-12T09:25:00Z`` or a date) as UTC ns; None when absent."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise VenueError(f"bad Polymarket date {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # a bare date or time is UTC at Polymarket
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def _json_list(text: str | list[str] | None, what: str) -> list[str]:
    if text is None:
        return []
    if isinstance(text, list):
        return [str(v) for v in text]
    try:
        value = json.loads(text)
    except ValueError:
        raise VenueError(f"Gamma {what} is not a JSON list: {text[:80]!r}") from None
    if not isinstance(value, list):
        raise VenueError(f"Gamma {what} is not a JSON list: {text[:80]!r}")
    return [str(v) for v in value]


def fee_schedule(details: ClobMarketDetails | None) -> FeeSchedule:
    """The V2 taker fee curve of a market (`fd`: rate and exponent); free when absent."""
    if details is None or details.fd is None or details.fd.r == 0:
        return FeeSchedule()
    return FeeSchedule(kind="curve", rate=details.fd.r, exponent=details.fd.e)


def market_from_gamma(
    g: GammaMarket,
    *,
    event_id: str = "",
    fees: FeeSchedule | None = None,
    collateral: str = "pUSD",
) -> BinaryMarket | None:
    """A Gamma market as a `BinaryMarket`; None when it is not a two-token order-book market."""
    outcomes = _json_list(g.outcomes, "outcomes")
    tokens = _json_list(g.clobTokenIds, "clobTokenIds")
    if len(outcomes) != 2 or len(tokens) != 2 or not g.conditionId:
        return None
    return BinaryMarket(
        venue=VENUE,
        market_id=g.conditionId,
        question=g.question,
        tokens=(
            OutcomeToken(token_id=tokens[0], outcome=outcomes[0], index=0),
            OutcomeToken(token_id=tokens[1], outcome=outcomes[1], index=1),
        ),
        tick_size=g.orderPriceMinTickSize or Decimal("0.01"),
        min_size=g.orderMinSize or Decimal(0),
        min_marketable_notional=Decimal(1),
        fees=fees or FeeSchedule(),
        collateral=collateral,
        end_ns=iso_to_ns(g.endDate),
        neg_risk=g.negRisk,
        neg_risk_market_id=g.negRiskMarketID or "",
        event_id=event_id,
        slug=g.slug,
        active=g.active and not g.closed,
        accepting_orders=bool(g.acceptingOrders) and not g.closed,
        placeholder=g.negRiskOther,
        allows_split_resolution=not g.negRisk,
    )


def event_from_gamma(e: GammaEvent, *, collateral: str = "pUSD") -> OutcomeEvent:
    """A Gamma event with its binary markets (non-binary legacy markets are left out)."""
    markets = tuple(
        m
        for m in (market_from_gamma(g, event_id=e.id, collateral=collateral) for g in e.markets)
        if m is not None
    )
    return OutcomeEvent(
        venue=VENUE,
        event_id=e.id,
        title=e.title,
        markets=markets,
        neg_risk=e.negRisk,
        neg_risk_market_id=e.negRiskMarketID or "",
    )


def market_from_clob(
    m: ClobMarket, details: ClobMarketDetails | None = None, *, collateral: str = "pUSD"
) -> BinaryMarket:
    """A CLOB market (legacy object, refined by the V2 compact parameters when given)."""
    if len(m.tokens) != 2:
        raise VenueError(f"market {m.condition_id} has {len(m.tokens)} tokens, not 2")
    tick = details.mts if details is not None else m.minimum_tick_size
    min_size = details.mos if details is not None and details.mos else m.minimum_order_size
    neg_risk = details.nr if details is not None else m.neg_risk
    accepting = details.ao if details is not None else m.accepting_orders
    return BinaryMarket(
        venue=VENUE,
        market_id=m.condition_id,
        question=m.question,
        tokens=(
            OutcomeToken(token_id=m.tokens[0].token_id, outcome=m.tokens[0].outcome, index=0),
            OutcomeToken(token_id=m.tokens[1].token_id, outcome=m.tokens[1].outcome, index=1),
        ),
        tick_size=tick,
        min_size=min_size,
        min_marketable_notional=Decimal(1),
        fees=fee_schedule(details),
        collateral=collateral,
        end_ns=iso_to_ns(m.end_date_iso),
        neg_risk=neg_risk,
        neg_risk_market_id=m.neg_risk_market_id,
        slug=m.market_slug,
        active=m.active and not m.closed,
        accepting_orders=accepting and not m.closed,
        allows_split_resolution=not neg_risk,
    )


# --- orders and fills ----------------------------------------------------------------------------
_OPEN = frozenset({"LIVE", "DELAYED", "OPEN"})
_CANCELED = frozenset({"CANCELED", "CANCELED_MARKET_RESOLVED", "UNMATCHED"})


def order_status(status: str, event_type: str = "") -> VenueOrderStatus:
    """A venue order status as ours. INVALID with a CANCELLATION is a venue cancel, not a reject."""
    s = status.upper()
    if s in _OPEN:
        return VenueOrderStatus.OPEN
    if s == "MATCHED":
        return VenueOrderStatus.FILLED
    if s in _CANCELED or (s == "INVALID" and event_type.upper() == "CANCELLATION"):
        return VenueOrderStatus.CANCELED
    if s == "INVALID":
        return VenueOrderStatus.REJECTED
    raise VenueError(f"unknown Polymarket order status {status!r}")


@dataclass(frozen=True, slots=True)
class TradeFill:
    """Our part of one venue trade. `trade_id` is unique per (trade, our order): one taker match can
    fill several of our resting orders in one message."""

    trade_id: str
    order_id: str
    token_id: str
    side: OrderSide
    price: Decimal
    size: Decimal
    liquidity: LiquiditySide
    status: str
    fee_rate_bps: Decimal
    ts_ns: int


def _side(text: str) -> OrderSide:
    try:
        return OrderSide(text.upper())
    except ValueError:
        raise VenueError(f"bad Polymarket side {text!r}") from None


def our_fills(
    trade: UserTrade,
    our_sides: Mapping[str, OrderSide],
    *,
    owner: str = "",
) -> list[TradeFill]:
    """Our fills in a trade message. `our_sides` maps our order ids (hashes) to the side we sent;
    `owner` (our API key) also claims maker entries of orders this process does not know."""
    ts = ms_to_ns(trade.match_time if trade.match_time not in ("", "0") else trade.last_update)
    taker_side = _side(trade.side)
    fills: list[TradeFill] = []
    if trade.taker_order_id in our_sides or (trade.trader_side == "TAKER" and owner and trade.owner == owner):
        fills.append(
            TradeFill(
                trade_id=trade.id,
                order_id=trade.taker_order_id,
                token_id=trade.asset_id,
                side=our_sides.get(trade.taker_order_id, taker_side),
                price=trade.price,
                size=trade.size,
                liquidity=LiquiditySide.TAKER,
                status=trade.status,
                fee_rate_bps=Decimal(trade.fee_rate_bps or "0"),
                ts_ns=ts,
            )
        )
    for maker in trade.maker_orders:
        if maker.order_id not in our_sides and not (owner and maker.owner == owner):
            continue
        known = our_sides.get(maker.order_id)
        if known is not None:
            side = known
        elif maker.asset_id == trade.asset_id:
            side = taker_side.opposite
        else:
            side = taker_side  # the complementary token: a BUY matched a BUY (minting), a SELL a SELL
        fills.append(
            TradeFill(
                trade_id=f"{trade.id}:{maker.order_id}",
                order_id=maker.order_id,
                token_id=maker.asset_id,
                side=side,
                price=maker.price,
                size=maker.matched_amount,
                liquidity=LiquiditySide.MAKER,
                status=trade.status,
                fee_rate_bps=Decimal(maker.fee_rate_bps or "0"),
                ts_ns=ts,
            )
        )
    return fills
