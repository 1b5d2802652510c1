"""The emulator's own records of orders and fills, in Binance's terms (statuses, types, time in force)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

__all__ = ["OPEN_STATUSES", "EmFill", "EmOrder"]

OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})
ZERO = Decimal(0)


@dataclass(slots=True)
class EmOrder:
    """One order as Binance reports it. Prices and sizes are exact decimals on the symbol's grid."""

    order_id: int
    api_key: str
    symbol: str
    client_order_id: str
    side: str  # BUY | SELL
    type: str  # LIMIT | LIMIT_MAKER | MARKET
    tif: str  # GTC | IOC | FOK | GTX
    price: Decimal  # 0 for MARKET
    orig_qty: Decimal
    time_ms: int
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    status: str = "NEW"
    update_ms: int = 0
    reduce_only: bool = False
    locked: Decimal = ZERO  # spot: funds this order holds (quote for a buy, base for a sell)
    queue_ahead: float | None = None  # lots ahead in the queue when last saved (resting orders)
    cancel_client_id: str = ""  # spot: the clientOrderId a cancel request carried
    expiry_reason: str = ""  # spot executionReport "eR" (e.g. INSUFFICIENT_LIQUIDITY)
    dirty: bool = field(default=True, compare=False)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def leaves_qty(self) -> Decimal:
        return self.orig_qty - self.executed_qty

    @property
    def sign(self) -> int:
        return 1 if self.side == "BUY" else -1

    @property
    def post_only(self) -> bool:
        return self.type == "LIMIT_MAKER" or self.tif == "GTX"

    def avg_price(self) -> Decimal:
        return ZERO if self.executed_qty == 0 else self.cum_quote / self.executed_qty


@dataclass(frozen=True, slots=True)
class EmFill:
    """One of our trades (the ``myTrades`` / ``userTrades`` row)."""

    trade_id: int
    order_id: int
    api_key: str
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    realized_pnl: Decimal
    time_ms: int
    is_maker: bool
