"""Bitget spot market data on the shared CCXT base: the `books` channel verified by the CRC32 of its top
25 levels (our check; CCXT's own is switched off, so a failure resubscribes through us and never ends
in CCXT's `UnsubscribeError`)."""

from __future__ import annotations

from typing import Any

from tradewright.model.checksum import ChecksumRule
from tradewright.model.instrument import Instrument
from tradewright.venues._ccxt.books import BookFrame, BookRule, Chain
from tradewright.venues._ccxt.family import Family, PublicTrade
from tradewright.venues.bitget import parsing

__all__ = ["BitgetData"]


class BitgetData(Family):
    """The market-data hooks of the Bitget family."""

    book_limit = (
        None  # the full-depth `books` channel (CCXT: limit 1/5/15/50 would pick snapshot-only channels)
    )

    def book_rule(self, instrument: Instrument) -> BookRule:
        return BookRule(checksum=ChecksumRule.BITGET, chain=Chain.NONE)

    def book_frames(self, message: Any) -> list[BookFrame]:
        return parsing.book_frames(message)

    def trades(self, message: Any) -> list[PublicTrade]:
        return parsing.trades(message)
