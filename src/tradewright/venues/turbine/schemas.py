"""Turbine payloads as typed structs (field names are the venue's; prices in micro-dollars and sizes in
micro-shares, as integers). Written from Turbine's API documentation and ojo-network/turbine-py-client
(`types.py`): no capture of the live venue exists in ../shared/data."""

from __future__ import annotations

import msgspec

__all__ = [
    "ApiKeyAnswer",
    "Balances",
    "Book",
    "ClaimData",
    "ClaimDataAnswer",
    "Level",
    "Market",
    "Nonce",
    "Order",
    "OrdersAnswer",
    "Position",
    "PostAnswer",
    "QuickMarket",
    "QuickMarketAnswer",
    "Resolution",
    "Trade",
    "WsMessage",
]


class Market(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    chainId: int = 0
    contractAddress: str = ""
    settlementAddress: str = ""
    question: str = ""
    category: str = ""
    expiration: int = 0
    resolved: bool = False
    winningOutcome: int | None = None


class QuickMarket(msgspec.Struct, frozen=True, kw_only=True):
    marketId: str
    asset: str
    intervalMinutes: int
    startTime: int  # unix seconds
    endTime: int
    startPrice: int = 0
    endPrice: int | None = None
    resolved: bool = False
    outcome: int | None = None
    contractAddress: str = ""
    settlementAddress: str = ""
    id: int = 0


class QuickMarketAnswer(msgspec.Struct, frozen=True, kw_only=True):
    active: bool = False
    asset: str = ""
    quickMarket: QuickMarket | None = None
    bestAskPrice: int | None = None


class Level(msgspec.Struct, frozen=True):
    price: int
    size: int


class Book(msgspec.Struct, frozen=True, kw_only=True):
    marketId: str
    bids: list[Level] = []
    asks: list[Level] = []
    lastUpdate: int = 0
    outcome: int = 0


class Order(msgspec.Struct, frozen=True, kw_only=True):
    orderHash: str
    marketId: str
    trader: str
    side: int
    outcome: int
    price: int
    size: int
    filledSize: int = 0
    remainingSize: int = 0
    nonce: int = 0
    expiration: int = 0
    status: str = "open"
    createdAt: int = 0


class OrdersAnswer(msgspec.Struct, frozen=True, kw_only=True):
    orders: list[Order] = []


class Trade(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    marketId: str
    buyer: str
    seller: str
    price: int
    size: int
    outcome: int
    timestamp: int
    txHash: str = ""


class Position(msgspec.Struct, frozen=True, kw_only=True):
    marketId: str
    yesShares: int = 0
    noShares: int = 0
    yesCost: int = 0
    noCost: int = 0


class Resolution(msgspec.Struct, frozen=True, kw_only=True):
    marketId: str
    resolved: bool = False
    outcome: int | None = None
    winningOutcome: int | None = None
    timestamp: int = 0

    @property
    def winner(self) -> int | None:
        return self.winningOutcome if self.winningOutcome is not None else self.outcome


class PostAnswer(msgspec.Struct, frozen=True, kw_only=True):
    orderHash: str = ""
    status: str = ""
    matches: int = 0
    timestamp: int = 0


class ClaimData(msgspec.Struct, frozen=True, kw_only=True):
    market_address: str
    resolved: bool
    winning_balance: int | str
    ctf_address: str
    collateral_token: str
    condition_id: str
    winning_outcome: int
    ctf_nonce: int | str


class ClaimDataAnswer(msgspec.Struct, frozen=True, kw_only=True):
    markets: list[ClaimData] = []


class Balances(msgspec.Struct, frozen=True, kw_only=True):
    balance: int | str = 0
    allowance: int | str = 0


class Nonce(msgspec.Struct, frozen=True, kw_only=True):
    nonce: int | str = 0


class ApiKeyAnswer(msgspec.Struct, frozen=True, kw_only=True):
    success: bool = False
    api_key_id: str = ""
    api_private_key: str = ""
    message: str = ""


class WsMessage(msgspec.Struct, frozen=True, kw_only=True):
    """Every stream message: ``{"type", "marketId", "data"}`` (a frame may hold several, one a line)."""

    type: str
    marketId: str = ""
    data: msgspec.Raw = msgspec.Raw(b"null")
