"""Polymarket payloads as typed structs (msgspec): Gamma metadata, CLOB REST and both WebSocket channels.

Field names are the venue's. Prices and sizes decode straight to `Decimal` from the venue's strings
(or numbers), never through a float. Unknown fields are ignored (the venue adds fields often); a
missing required field or a wrong type fails the decode, and the caller counts and skips the message.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

__all__ = [
    "ApiKeyAnswer",
    "BalanceAllowance",
    "BestBidAsk",
    "BookMessage",
    "BookSummary",
    "CancelAnswer",
    "ClobMarket",
    "ClobMarketDetails",
    "ClobToken",
    "GammaEvent",
    "GammaMarket",
    "HeartbeatAnswer",
    "LastTradePrice",
    "Level",
    "MakerOrder",
    "MarketResolvedMessage",
    "OpenOrder",
    "Page",
    "PostOrderAnswer",
    "PriceChange",
    "PriceChangeLegacy",
    "PriceChangeMessage",
    "TickSizeChange",
    "UserOrder",
    "UserTrade",
    "VersionAnswer",
]


class Level(msgspec.Struct, frozen=True):
    price: Decimal
    size: Decimal


# --- Gamma (market metadata) ---------------------------------------------------------------------
class GammaMarket(msgspec.Struct, frozen=True, kw_only=True):
    """A Gamma market. `outcomes` and `clobTokenIds` are JSON arrays encoded as strings."""

    id: str = ""
    question: str = ""
    conditionId: str = ""
    slug: str = ""
    endDate: str | None = None
    outcomes: str | list[str] | None = None  # a JSON array inside a string (older answers: an array)
    clobTokenIds: str | list[str] | None = None
    active: bool = False
    closed: bool = False
    archived: bool = False
    acceptingOrders: bool | None = None
    enableOrderBook: bool | None = None
    orderPriceMinTickSize: Decimal | None = None
    orderMinSize: Decimal | None = None
    negRisk: bool = False
    negRiskMarketID: str | None = None
    negRiskOther: bool = False
    feesEnabled: bool = False
    groupItemTitle: str | None = None
    outcomePrices: str | list[str] | None = None


class GammaEvent(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str = ""
    slug: str = ""
    active: bool = False
    closed: bool = False
    negRisk: bool = False
    negRiskMarketID: str | None = None
    endDate: str | None = None
    markets: list[GammaMarket] = []


# --- CLOB REST -------------------------------------------------------------------------------------
class ClobToken(msgspec.Struct, frozen=True, kw_only=True):
    token_id: str
    outcome: str
    price: Decimal | None = None
    winner: bool = False


class ClobMarket(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /markets/{condition_id}` and one row of the `/markets` page."""

    condition_id: str
    question: str = ""
    market_slug: str = ""
    tokens: list[ClobToken] = []
    minimum_tick_size: Decimal = Decimal("0.01")
    minimum_order_size: Decimal = Decimal(0)
    neg_risk: bool = False
    neg_risk_market_id: str = ""
    maker_base_fee: Decimal = Decimal(0)
    taker_base_fee: Decimal = Decimal(0)
    end_date_iso: str | None = None
    active: bool = False
    closed: bool = False
    accepting_orders: bool = False
    enable_order_book: bool = False
    is_50_50_outcome: bool = False


class FeeDetails(msgspec.Struct, frozen=True, kw_only=True):
    r: Decimal = Decimal(0)  # rate
    e: int = 1  # exponent
    to: bool = False  # taker only


class CompactToken(msgspec.Struct, frozen=True, kw_only=True):
    t: str
    o: str


class ClobMarketDetails(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /clob-markets/{condition_id}` (V2 compact market parameters)."""

    c: str
    t: list[CompactToken]
    mts: Decimal
    nr: bool = False
    fd: FeeDetails | None = None
    mbf: Decimal = Decimal(0)
    tbf: Decimal = Decimal(0)
    ao: bool = True
    mos: Decimal = Decimal(0)
    sd: int = 0


class Page(msgspec.Struct, frozen=True, kw_only=True):
    """A cursor page: `next_cursor` is "LTE=" on the last one."""

    data: list[Any]
    next_cursor: str = "LTE="
    limit: int = 0
    count: int = 0


class BookSummary(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /book`: levels in no guaranteed order."""

    market: str
    asset_id: str
    timestamp: str = "0"
    bids: list[Level] = []
    asks: list[Level] = []
    hash: str = ""
    tick_size: Decimal | None = None
    min_order_size: Decimal | None = None
    neg_risk: bool | None = None
    last_trade_price: str = ""


class VersionAnswer(msgspec.Struct, frozen=True):
    version: int


class PostOrderAnswer(msgspec.Struct, frozen=True, kw_only=True):
    success: bool = False
    errorMsg: str = ""
    orderID: str = ""
    status: str = ""
    takingAmount: str = ""
    makingAmount: str = ""
    transactionsHashes: list[str] | None = None
    tradeIDs: list[str] | None = None


class CancelAnswer(msgspec.Struct, frozen=True, kw_only=True):
    canceled: list[str] = []
    not_canceled: dict[str, str] = {}


class HeartbeatAnswer(msgspec.Struct, frozen=True, kw_only=True):
    heartbeat_id: str = ""
    error_msg: str | None = None


class BalanceAllowance(msgspec.Struct, frozen=True, kw_only=True):
    balance: Decimal = Decimal(0)
    allowances: dict[str, Decimal] = {}


class ApiKeyAnswer(msgspec.Struct, frozen=True, kw_only=True):
    apiKey: str
    secret: str
    passphrase: str


class OpenOrder(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /data/orders` row and the user channel's order shape."""

    id: str
    market: str
    asset_id: str
    side: str
    original_size: Decimal
    size_matched: Decimal
    price: Decimal
    status: str = ""
    owner: str = ""
    maker_address: str = ""
    outcome: str = ""
    order_type: str = ""
    expiration: str = "0"
    created_at: int | str = 0
    associate_trades: list[str] | None = None


# --- WebSocket: market channel ------------------------------------------------------------------
class BookMessage(msgspec.Struct, frozen=True, kw_only=True):
    event_type: str = "book"
    market: str
    asset_id: str
    timestamp: str = "0"
    bids: list[Level] = []
    asks: list[Level] = []
    hash: str = ""
    last_trade_price: str = ""


class PriceChange(msgspec.Struct, frozen=True, kw_only=True):
    asset_id: str
    price: Decimal
    side: str
    size: Decimal
    hash: str = ""
    best_bid: Decimal | None = None
    best_ask: Decimal | None = None


class PriceChangeMessage(msgspec.Struct, frozen=True, kw_only=True):
    """`price_change` since 2025-09: several levels, possibly of both tokens, each with the new top."""

    event_type: str = "price_change"
    market: str
    timestamp: str = "0"
    price_changes: list[PriceChange]


class PriceChangeLegacy(msgspec.Struct, frozen=True, kw_only=True):
    """The oldest `price_change` form: one level at the top of the message."""

    event_type: str = "price_change"
    market: str
    asset_id: str
    price: Decimal
    side: str
    size: Decimal
    timestamp: str = "0"
    hash: str = ""


class TickSizeChange(msgspec.Struct, frozen=True, kw_only=True):
    event_type: str = "tick_size_change"
    market: str
    asset_id: str
    old_tick_size: Decimal
    new_tick_size: Decimal
    timestamp: str = "0"


class LastTradePrice(msgspec.Struct, frozen=True, kw_only=True):
    event_type: str = "last_trade_price"
    market: str
    asset_id: str
    price: Decimal
    side: str = ""
    size: Decimal = Decimal(0)
    fee_rate_bps: str = "0"
    timestamp: str = "0"


class BestBidAsk(msgspec.Struct, frozen=True, kw_only=True):
    event_type: str = "best_bid_ask"
    market: str
    asset_id: str
    best_bid: Decimal | None = None
    best_ask: Decimal | None = None
    timestamp: str = "0"


class MarketResolvedMessage(msgspec.Struct, frozen=True, kw_only=True):
    event_type: str = "market_resolved"
    market: str
    assets_ids: list[str] = []
    winning_asset_id: str
    winning_outcome: str = ""
    timestamp: str = "0"


# --- WebSocket: user channel ----------------------------------------------------------------------
class UserOrder(msgspec.Struct, frozen=True, kw_only=True):
    """`event_type: order`: PLACEMENT, UPDATE (a match changed it) or CANCELLATION."""

    event_type: str = "order"
    id: str
    market: str
    asset_id: str
    side: str
    original_size: Decimal
    size_matched: Decimal
    price: Decimal
    type: str = ""
    status: str = ""
    owner: str = ""
    outcome: str = ""
    order_type: str = ""
    timestamp: str = "0"
    associate_trades: list[str] | None = None


class MakerOrder(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    owner: str = ""
    maker_address: str = ""
    matched_amount: Decimal
    price: Decimal
    fee_rate_bps: str = "0"
    asset_id: str
    outcome: str = ""
    side: str | None = None


class UserTrade(msgspec.Struct, frozen=True, kw_only=True):
    """`event_type: trade` (also a `/data/trades` row): one message per status change of a match.

    `asset_id`, `side`, `price` and `size` are the taker's; `trader_side` says whether we were the
    taker or a maker (then our part is our entry in `maker_orders`).
    """

    id: str
    taker_order_id: str
    market: str
    asset_id: str
    side: str
    size: Decimal
    price: Decimal
    status: str
    fee_rate_bps: str = "0"
    match_time: str = "0"
    last_update: str = "0"
    timestamp: str = "0"
    outcome: str = ""
    owner: str = ""
    trade_owner: str = ""
    maker_address: str = ""
    trader_side: str = "TAKER"
    transaction_hash: str = ""
    maker_orders: list[MakerOrder] = []
    err_msg: str | None = None
