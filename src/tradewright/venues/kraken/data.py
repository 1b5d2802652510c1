"""Kraken market data on the shared CCXT base: WebSocket v2 `book` verified by Kraken's checksum (the top
10 levels a side at the pair's precision) — CCXT 4.5 has it off by default and crashes when it is
switched on. Kraken has no unsubscribe in CCXT: a failed book is unsubscribed here and subscribed again
(Kraken answers with a fresh snapshot)."""

from __future__ import annotations

from typing import Any

from tradewright.model.checksum import ChecksumRule
from tradewright.model.instrument import Instrument
from tradewright.venues._ccxt.books import BookFrame, BookRule, Chain
from tradewright.venues._ccxt.family import Family, PublicTrade
from tradewright.venues.kraken import parsing

__all__ = ["KrakenData"]

DEPTH = 100  # the subscribed depth (Kraken: 10, 25, 100, 500 or 1000); the book is kept at it


class KrakenData(Family):
    """The market-data hooks of the Kraken family."""

    book_limit = DEPTH

    def frame_market_id(self, market: Any) -> str:
        return str(market["symbol"])  # v2 frames name the pair by its WebSocket name (BTC, not XBT)

    def book_rule(self, instrument: Instrument) -> BookRule:
        return BookRule(checksum=ChecksumRule.KRAKEN, chain=Chain.NONE, depth=DEPTH)

    def book_frames(self, message: Any) -> list[BookFrame]:
        return parsing.book_frames(message)

    def trades(self, message: Any) -> list[PublicTrade]:
        return parsing.trades(message)

    def book_hash(self, symbol: str) -> str:
        return f"orderbook@{symbol}"

    async def resubscribe(self, exchange: Any, symbol: str) -> None:
        url = exchange.urls["api"]["ws"]["publicV2"]
        client = exchange.client(url)
        client.subscriptions.pop(self.book_hash(symbol), None)  # the next watch subscribes again
        if client.connected.done() and not client.connected.exception():
            request = {
                "method": "unsubscribe",
                "params": {"channel": "book", "symbol": [symbol], "depth": DEPTH},
                "req_id": exchange.request_id(),
            }
            await client.send(request)
