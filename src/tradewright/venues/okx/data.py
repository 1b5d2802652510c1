"""OKX market data on the shared CCXT base: the `books` channel (400 levels) verified by OKX's CRC32 of
the top 25 levels and, where OKX sends them, the seqId/prevSeqId chain — CCXT 4.5 checks neither
checksum nor (in the 2022 wire format) any sequence. A rejected frame marks CCXT's subscription
``resync``, so its next `watch_order_book` unsubscribes and subscribes again (a fresh snapshot)."""

from __future__ import annotations

from typing import Any

from tradewright.model.checksum import ChecksumRule
from tradewright.model.instrument import Instrument
from tradewright.venues._ccxt.books import BookFrame, BookRule, Chain
from tradewright.venues._ccxt.family import Family, PublicQuote, PublicTrade
from tradewright.venues.okx import parsing

__all__ = ["OkxData"]


class OkxData(Family):
    """The market-data hooks of the OKX family."""

    book_limit = None  # CCXT's default channel: `books` (400 levels, checksummed)

    def book_rule(self, instrument: Instrument) -> BookRule:
        return BookRule(checksum=ChecksumRule.OKX, chain=Chain.PREV, depth=400)

    def book_frames(self, message: Any) -> list[BookFrame]:
        return parsing.book_frames(message)

    def trades(self, message: Any) -> list[PublicTrade]:
        return parsing.trades(message)

    def quotes(self, message: Any) -> list[PublicQuote]:
        return parsing.quotes(message)

    def book_hash(self, symbol: str) -> str:
        return f"books:{symbol}"

    def mark_resync(self, exchange: Any, symbol: str) -> None:
        key = self.book_hash(symbol)
        for client in list(getattr(exchange, "clients", {}).values()):
            if key in client.subscriptions:
                client.subscriptions[key] = "resync"  # CCXT unsubscribes and subscribes on the next watch

    async def resubscribe(self, exchange: Any, symbol: str) -> None:
        return None  # the `resync` mark makes the next watch_order_book do it
