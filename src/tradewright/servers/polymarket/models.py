"""The records of the local Polymarket's private side: wallets, markets (one book in YES terms),
resting orders, makers and trades (with the user-channel message each participant receives)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tradewright.model.prediction import FeeSchedule

__all__ = ["ClobError", "Maker", "MarketState", "Resting", "SimTrade", "Wallet"]

_ZERO = Decimal(0)
_ONE = Decimal(1)


class ClobError(Exception):
    """A refusal, with the venue's error text and HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(slots=True)
class Wallet:
    address: str
    api_key: str
    secret: str = field(repr=False)
    passphrase: str = field(repr=False)
    collateral: Decimal = _ZERO
    tokens: dict[str, Decimal] = field(default_factory=dict)
    allowances: dict[str, Decimal] = field(default_factory=dict)  # spender (lower case) -> amount
    confirmed_collateral: Decimal = _ZERO
    confirmed_tokens: dict[str, Decimal] = field(default_factory=dict)

    def token(self, token_id: str) -> Decimal:
        return self.tokens.get(token_id, _ZERO)


@dataclass(slots=True)
class MarketState:
    condition_id: str
    tokens: tuple[str, str]
    outcomes: tuple[str, str]
    tick_size: Decimal
    min_size: Decimal
    neg_risk: bool
    fees: FeeSchedule
    accepting_orders: bool = True
    resolved_winner: str = ""
    bids: dict[Decimal, Decimal] = field(default_factory=dict)  # recorded liquidity, YES terms
    asks: dict[Decimal, Decimal] = field(default_factory=dict)

    def index(self, token_id: str) -> int:
        return self.tokens.index(token_id)

    def to_yes(self, token_id: str, side: str, price: Decimal) -> tuple[int, Decimal]:
        """(+1 bid / -1 ask, price) in YES terms of an order on `token_id`."""
        buy = side == "BUY"
        if self.index(token_id) == 0:
            return (1 if buy else -1), price
        return (-1 if buy else 1), _ONE - price


@dataclass(slots=True)
class Resting:
    order_id: str
    owner: str
    maker_address: str
    market: str
    token_id: str
    side: str
    price: Decimal
    size: Decimal
    order_type: str
    created_s: int
    expiration: int
    yes_side: int
    yes_price: Decimal
    queue_ahead: Decimal
    seq: int
    outcome: str
    matched: Decimal = _ZERO
    status: str = "LIVE"
    trades: list[str] = field(default_factory=list)

    @property
    def leaves(self) -> Decimal:
        return self.size - self.matched if self.status == "LIVE" else _ZERO


@dataclass(slots=True)
class Maker:
    order_id: str
    owner: str
    maker_address: str
    matched_amount: Decimal
    price: Decimal
    asset_id: str
    outcome: str
    side: str


@dataclass(slots=True)
class SimTrade:
    id: str
    market: str
    taker_order_id: str
    taker_owner: str
    taker_address: str
    asset_id: str
    side: str
    price: Decimal
    size: Decimal
    outcome: str
    makers: list[Maker]
    match_time_s: int
    fee_rate_bps: str
    status: str = "MATCHED"
    undo: list[tuple[Wallet, str, Decimal]] = field(default_factory=list)  # (wallet, asset, delta)
    born: float = field(default_factory=time.monotonic)

    def message(self, owner: str, ts_ms: int) -> dict[str, Any]:
        """The user-channel `trade` message for one participant (`trader_side` is theirs)."""
        return {
            "event_type": "trade",
            "type": "TRADE",
            "id": self.id,
            "taker_order_id": self.taker_order_id,
            "market": self.market,
            "asset_id": self.asset_id,
            "side": self.side,
            "size": str(self.size),
            "price": str(self.price),
            "fee_rate_bps": self.fee_rate_bps,
            "status": self.status,
            "match_time": str(self.match_time_s),
            "last_update": str(ts_ms // 1000),
            "timestamp": str(ts_ms),
            "outcome": self.outcome,
            "owner": owner,
            "trade_owner": self.taker_owner,
            "maker_address": self.taker_address,
            "trader_side": "TAKER" if owner == self.taker_owner else "MAKER",
            "bucket_index": 0,
            "transaction_hash": "0x" + uuid.uuid5(uuid.NAMESPACE_OID, self.id).hex * 2,
            "maker_orders": [
                {
                    "order_id": m.order_id,
                    "owner": m.owner,
                    "maker_address": m.maker_address,
                    "matched_amount": str(m.matched_amount),
                    "price": str(m.price),
                    "fee_rate_bps": "0",
                    "asset_id": m.asset_id,
                    "outcome": m.outcome,
                    "side": m.side,
                }
                for m in self.makers
            ],
        }

    @property
    def owners(self) -> set[str]:
        return {self.taker_owner, *(m.owner for m in self.makers)} - {""}
