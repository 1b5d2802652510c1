"""Prediction markets: binary outcome tokens grouped into markets and events, their fees and settlement.

A *binary market* is one yes/no question (Polymarket: one condition id; Turbine: one market id). It has
exactly two outcome tokens, each its own instrument (`InstrumentKind.BINARY_OUTCOME`, priced in the
collateral currency between 0 and 1). At resolution one token pays 1 and the other 0, or — where the
venue allows a 50-50 resolution — each pays 0.5; a YES + NO pair is therefore always worth exactly 1.

An *event* groups markets. In a neg-risk (mutually exclusive) event exactly one market resolves YES;
`OutcomeEvent.is_exhaustive` says whether the listed markets can be relied on to cover every outcome
(an "Other"/placeholder market breaks that, and arbitrage that assumes it must skip the event).

A market's tick size can change while it trades (Polymarket narrows it near 0 and 1): the market and
its instruments are immutable values, so a change produces new ones (`BinaryMarket.with_tick_size`).
"""

from __future__ import annotations

import enum
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Literal

import msgspec

from tradewright.core.errors import GridError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.model.events import MarketResolved
from tradewright.model.instrument import Instrument, InstrumentKind

__all__ = [
    "BinaryMarket",
    "FeeSchedule",
    "OutcomeEvent",
    "OutcomeToken",
    "Resolution",
    "resolution_events",
]

_ZERO = Decimal(0)
_ONE = Decimal(1)
_HALF = Decimal("0.5")


class Resolution(enum.StrEnum):
    """How a binary market resolved: outcome 0 won, outcome 1 won, or a 50-50 split."""

    YES = "YES"  # the first outcome (index 0) pays 1
    NO = "NO"  # the second outcome (index 1) pays 1
    SPLIT = "SPLIT"  # each outcome pays 0.5

    def payout(self, index: int) -> Decimal:
        """What one token of outcome `index` (0 or 1) pays."""
        if index not in (0, 1):
            raise ValueError(f"a binary market has outcomes 0 and 1, not {index}")
        if self is Resolution.SPLIT:
            return _HALF
        return _ONE if (index == 0) == (self is Resolution.YES) else _ZERO


class FeeSchedule(msgspec.Struct, frozen=True, kw_only=True):
    """Trading fees of one market, in collateral.

    - ``curve`` (Polymarket CLOB V2): ``size × rate × (p × (1 − p)) ** exponent`` for a taker, makers pay
      nothing; the venue rounds to `decimals` places (a positive fee is at least one unit there).
    - ``notional``: ``size × p × rate`` (Turbine's documented 1 % fee); `maker` says whether makers pay it.
    - ``none``: free.

    `exponent` is a whole number so that every fee is an exact decimal.
    """

    kind: Literal["curve", "notional", "none"] = "none"
    rate: Decimal = _ZERO
    exponent: int = 1
    maker: bool = False
    decimals: int = 5

    def __post_init__(self) -> None:
        if self.rate < 0:
            raise ValueError(f"fee rate must not be negative, got {self.rate}")
        if self.exponent < 0:
            raise ValueError(f"fee exponent must be a whole number >= 0, got {self.exponent}")
        if not 0 <= self.decimals <= 12:
            raise ValueError(f"fee decimals must be between 0 and 12, got {self.decimals}")

    @property
    def is_free(self) -> bool:
        return self.kind == "none" or self.rate == 0

    def per_share(self, price: Decimal) -> Decimal:
        """The exact (unrounded) fee a taker pays per share at `price`."""
        if self.is_free:
            return _ZERO
        if self.kind == "curve":
            return self.rate * (price * (_ONE - price)) ** self.exponent
        return self.rate * price

    def fee(self, price: Decimal, size: Decimal, *, taker: bool = True) -> Decimal:
        """The fee one fill pays, as the venue rounds it (a positive fee is never rounded to zero)."""
        if not taker and not self.maker:
            return _ZERO
        raw = self.per_share(price) * size
        if raw <= 0:
            return _ZERO
        unit = Decimal(1).scaleb(-self.decimals)
        return max(raw.quantize(unit, rounding=ROUND_HALF_UP), unit)

    def fee_bound(self, price: Decimal, size: Decimal) -> Decimal:
        """An upper bound of the taker fee on `size` at `price` (rounded up): what arbitrage must assume."""
        raw = self.per_share(price) * size
        if raw <= 0:
            return _ZERO
        unit = Decimal(1).scaleb(-self.decimals)
        return max(raw.quantize(unit, rounding=ROUND_CEILING), unit)


class OutcomeToken(msgspec.Struct, frozen=True, kw_only=True):
    """One outcome of a binary market: the venue's token id and its label ("Yes", "Up", a team)."""

    token_id: str
    outcome: str
    index: int

    def __post_init__(self) -> None:
        if self.index not in (0, 1):
            raise ValueError(f"outcome index must be 0 or 1, got {self.index}")
        if not self.token_id:
            raise ValueError("an outcome token needs its token id")


class BinaryMarket(msgspec.Struct, frozen=True, kw_only=True):
    """One yes/no question and its two outcome tokens, with the grid, limits and fees they trade on.

    `lot_size` is the order-size grid (Polymarket: 0.01 share); `min_size` the smallest resting order;
    `min_marketable_notional` the smallest order that takes liquidity (Polymarket: $1). `end_ns` is
    when trading is scheduled to stop (None: open-ended). `neg_risk_market_id` names the mutually
    exclusive event this market belongs to ("" when it stands alone).
    """

    venue: Venue
    market_id: str
    question: str
    tokens: tuple[OutcomeToken, OutcomeToken]
    tick_size: Decimal
    lot_size: Decimal = Decimal("0.01")
    min_size: Decimal = _ZERO
    min_marketable_notional: Decimal = _ZERO
    fees: FeeSchedule = FeeSchedule()
    collateral: str = "USDC"
    end_ns: int | None = None
    neg_risk: bool = False
    neg_risk_market_id: str = ""
    event_id: str = ""
    slug: str = ""
    active: bool = True
    accepting_orders: bool = True
    placeholder: bool = False
    allows_split_resolution: bool = True

    def __post_init__(self) -> None:
        if self.tick_size <= 0 or self.tick_size >= 1:
            raise GridError(
                f"market {self.market_id}: tick size must be between 0 and 1, got {self.tick_size}"
            )
        if self.lot_size <= 0:
            raise GridError(f"market {self.market_id}: lot size must be > 0, got {self.lot_size}")
        if tuple(t.index for t in self.tokens) != (0, 1):
            raise ValueError(f"market {self.market_id}: tokens must be outcome 0 then outcome 1")
        if self.tokens[0].token_id == self.tokens[1].token_id:
            raise ValueError(f"market {self.market_id}: both outcomes have token {self.tokens[0].token_id}")

    # --- tokens and instruments -------------------------------------------------------------
    def token(self, token_id: str) -> OutcomeToken:
        """The outcome with this token id; KeyError naming the market when it is not one of ours."""
        for token in self.tokens:
            if token.token_id == token_id:
                return token
        raise KeyError(f"token {token_id} is not an outcome of market {self.market_id}")

    def complement(self, token_id: str) -> OutcomeToken:
        """The other outcome of this market."""
        return self.tokens[1 - self.token(token_id).index]

    def instrument_id(self, index: int) -> InstrumentId:
        """``{market_id}-{token_id}.{VENUE}``: the form NautilusTrader users already know."""
        return InstrumentId(f"{self.market_id}-{self.tokens[index].token_id}", self.venue)

    def index_of(self, instrument_id: InstrumentId) -> int:
        """Which outcome an instrument id of this market names."""
        for index in (0, 1):
            if self.instrument_id(index) == instrument_id:
                return index
        raise KeyError(f"{instrument_id} is not an outcome of market {self.market_id}")

    def instrument(self, index: int) -> Instrument:
        """The instrument of outcome `index`: priced in the collateral, on this market's grid."""
        token = self.tokens[index]
        return Instrument(
            id=self.instrument_id(index),
            kind=InstrumentKind.BINARY_OUTCOME,
            base=token.outcome,
            quote=self.collateral,
            settle=self.collateral,
            tick_size=self.tick_size,
            lot_size=self.lot_size,
            min_size=self.min_size,
            maker_fee=_ZERO,
            taker_fee=_ZERO,
            expiry_ns=self.end_ns,
            outcome=token.outcome,
        )

    def instruments(self) -> tuple[Instrument, Instrument]:
        return self.instrument(0), self.instrument(1)

    def with_tick_size(self, tick_size: Decimal) -> BinaryMarket:
        """The same market on a new tick grid (the venue changed it)."""
        return msgspec.structs.replace(self, tick_size=tick_size)

    def valid_price(self, price: Decimal) -> bool:
        """On the grid and within ``tick ≤ price ≤ 1 − tick`` (the venue refuses anything else)."""
        if price < self.tick_size or price > _ONE - self.tick_size:
            return False
        return price % self.tick_size == 0

    # --- settlement -------------------------------------------------------------------------
    def settlement_prices(self, resolution: Resolution) -> dict[InstrumentId, Decimal]:
        """What each outcome token pays at `resolution`."""
        if resolution is Resolution.SPLIT and not self.allows_split_resolution:
            raise ValueError(f"market {self.market_id} cannot resolve 50-50 (neg-risk markets revert it)")
        return {self.instrument_id(i): resolution.payout(i) for i in (0, 1)}

    def resolution_of(self, winning_token_id: str) -> Resolution:
        """The resolution that makes `winning_token_id` the winner."""
        return Resolution.YES if self.token(winning_token_id).index == 0 else Resolution.NO


def resolution_events(
    market: BinaryMarket, resolution: Resolution, *, ts_event: int, ts_init: int
) -> list[MarketResolved]:
    """One `MarketResolved` per outcome token: what the portfolio settles each position at."""
    winner = (
        ""
        if resolution is Resolution.SPLIT
        else market.tokens[0 if resolution is Resolution.YES else 1].outcome
    )
    return [
        MarketResolved(
            instrument_id=iid,
            settlement_px=px,
            market_id=market.market_id,
            resolution=resolution.value,
            winning_outcome=winner,
            ts_event=ts_event,
            ts_init=ts_init,
        )
        for iid, px in market.settlement_prices(resolution).items()
    ]


class OutcomeEvent(msgspec.Struct, frozen=True, kw_only=True):
    """Markets grouped under one event. With `neg_risk`, exactly one of them resolves YES."""

    venue: Venue
    event_id: str
    title: str
    markets: tuple[BinaryMarket, ...]
    neg_risk: bool = False
    neg_risk_market_id: str = ""
    conversion_fee_rate: Decimal = _ZERO

    @property
    def is_exhaustive(self) -> bool:
        """True when the listed markets are mutually exclusive and cover every outcome: neg-risk, at
        least two markets, none of them a placeholder ("Other" or an outcome not named yet), all active."""
        if not self.neg_risk or len(self.markets) < 2:
            return False
        return all(m.neg_risk and not m.placeholder and m.active for m in self.markets)

    def market(self, market_id: str) -> BinaryMarket:
        for m in self.markets:
            if m.market_id == market_id:
                return m
        raise KeyError(f"market {market_id} is not part of event {self.event_id}")
