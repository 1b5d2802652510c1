"""The markets one Polymarket connection trades, looked up by condition id, token id or instrument id.

A tick-size change replaces the market (and its two instruments) here, so every part of the adapter
— books, order signing, parsing of fills — reads prices on the grid in force.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from tradewright.core.errors import VenueError
from tradewright.core.ids import InstrumentId
from tradewright.model.instrument import Instrument
from tradewright.model.prediction import BinaryMarket

__all__ = ["Catalog"]


class Catalog:
    def __init__(self, markets: Iterable[BinaryMarket] = ()) -> None:
        self.markets: dict[str, BinaryMarket] = {}
        self._tokens: dict[str, str] = {}
        self._instruments: dict[InstrumentId, tuple[str, int]] = {}
        for market in markets:
            self.add(market)

    def add(self, market: BinaryMarket) -> None:
        self.markets[market.market_id] = market
        for index, token in enumerate(market.tokens):
            self._tokens[token.token_id] = market.market_id
            self._instruments[market.instrument_id(index)] = (market.market_id, index)

    @property
    def instruments(self) -> dict[InstrumentId, Instrument]:
        return {iid: self.markets[cid].instrument(i) for iid, (cid, i) in self._instruments.items()}

    @property
    def tokens(self) -> list[str]:
        return list(self._tokens)

    def knows_token(self, token_id: str) -> bool:
        return token_id in self._tokens

    def by_token(self, token_id: str) -> tuple[BinaryMarket, int]:
        cid = self._tokens.get(token_id)
        if cid is None:
            raise VenueError(f"token {token_id} is not one this connection trades")
        market = self.markets[cid]
        return market, market.token(token_id).index

    def instrument_of_token(self, token_id: str) -> Instrument:
        market, index = self.by_token(token_id)
        return market.instrument(index)

    def market_of(self, instrument_id: InstrumentId) -> tuple[BinaryMarket, int]:
        found = self._instruments.get(instrument_id)
        if found is None:
            raise VenueError(f"{instrument_id} is not a Polymarket instrument this connection trades")
        return self.markets[found[0]], found[1]

    def token_of(self, instrument_id: InstrumentId) -> str:
        market, index = self.market_of(instrument_id)
        return market.tokens[index].token_id

    def instrument(self, instrument_id: InstrumentId) -> Instrument:
        market, index = self.market_of(instrument_id)
        return market.instrument(index)

    def set_tick_size(self, token_id: str, tick_size: Decimal) -> tuple[Instrument, Instrument] | None:
        """Move a market to a new tick; its two new instruments, or None when it is already on it."""
        market, _ = self.by_token(token_id)
        if market.tick_size == tick_size:
            return None
        moved = market.with_tick_size(tick_size)
        self.markets[market.market_id] = moved
        return moved.instruments()
