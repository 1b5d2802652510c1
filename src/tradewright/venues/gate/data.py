"""Gate futures market data on the shared CCXT base: diffs chained by ``U``/``u`` onto the REST
snapshot's ``id`` (our check, whatever CCXT does). CCXT fetches the snapshot itself when a subscription
starts; the snapshot's raw body is tapped where CCXT parses it, so our book starts from Gate's exact
strings and id. A gap resubscribes (CCXT then fetches a new snapshot)."""

from __future__ import annotations

from typing import Any

from tradewright.model.instrument import Instrument
from tradewright.venues._ccxt.books import BookFrame, BookRule, Chain
from tradewright.venues._ccxt.family import Family, PublicQuote, PublicTrade
from tradewright.venues.gate import parsing

__all__ = ["GateData"]


class GateData(Family):
    """The market-data hooks of the Gate family."""

    book_limit = None  # CCXT's default for futures: 100 levels at 100 ms (the recorded subscription)

    def book_rule(self, instrument: Instrument) -> BookRule:
        return BookRule(chain=Chain.FIRST_LAST)

    def book_frames(self, message: Any) -> list[BookFrame]:
        return parsing.book_frames(message)

    def trades(self, message: Any) -> list[PublicTrade]:
        return parsing.trades(message)

    def quotes(self, message: Any) -> list[PublicQuote]:
        return parsing.quotes(message)

    async def watch_quotes(self, exchange: Any, symbol: str) -> Any:
        return await exchange.watch_bids_asks([symbol])

    def extend(self, cls: type, tap: Any) -> type:
        class WithSnapshotTap(cls):  # type: ignore[misc, valid-type]
            """Hand the raw REST order-book snapshot (exact strings, its update id) to the tap."""

            def parse_order_book(self, orderbook: Any, symbol: str, *args: Any, **kwargs: Any) -> Any:
                if isinstance(orderbook, dict) and "id" in orderbook and symbol in self.markets:
                    tap(None, {parsing.REST_BOOK: orderbook, "market_id": self.markets[symbol]["id"]})
                return super().parse_order_book(orderbook, symbol, *args, **kwargs)

        return WithSnapshotTap
