"""Bybit v5 market data on the shared CCXT base: `orderbook.<N>` snapshots and deltas whose ``u`` must
rise by exactly one — CCXT 4.5 checks no sequence for Bybit at all, so this is the only check there is.
A break resubscribes (Bybit answers a subscription with a fresh snapshot)."""

from __future__ import annotations

from typing import Any

from tradewright.model.instrument import Instrument
from tradewright.venues._ccxt.books import BookFrame, BookRule, Chain
from tradewright.venues._ccxt.family import Family, PublicTrade
from tradewright.venues.bybit import parsing

__all__ = ["BybitData"]


class BybitData(Family):
    """The market-data hooks of the Bybit family."""

    book_limit = 1000  # Bybit's deepest linear book (CCXT allows 1, 50, 200, 1000)

    def book_rule(self, instrument: Instrument) -> BookRule:
        return BookRule(chain=Chain.PREV)

    def book_frames(self, message: Any) -> list[BookFrame]:
        return parsing.book_frames(message)

    def trades(self, message: Any) -> list[PublicTrade]:
        return parsing.trades(message)
