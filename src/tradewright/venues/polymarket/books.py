"""Polymarket books kept consistent without sequence numbers.

The market channel has no sequence ids and its hashes cannot be reproduced from the messages, so a
book is trusted only while it agrees with the venue's own view of the top: every `price_change` entry
carries the asset's best bid and ask after the change, and `best_bid_ask` repeats them. When our top
disagrees (or the book crosses, or a level falls off the tick grid) the book is marked stale: deltas
are ignored until a fresh snapshot (`book` message or REST `/book`) replaces it. A tick-size change
drops the book the same way, since every price in it must be read on the new grid.

Levels are kept as exact Decimals keyed by price (the venue's level order is not to be trusted: REST
has sent bids ascending and asks descending), and sorted only when a top or a ladder is asked for.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal

from tradewright.core.errors import GridError
from tradewright.model.instrument import Instrument
from tradewright.venues._common.ports import BookLevels
from tradewright.venues.polymarket.parsing import ms_to_ns
from tradewright.venues.polymarket.schemas import (
    BestBidAsk,
    BookMessage,
    BookSummary,
    Level,
    PriceChangeLegacy,
    PriceChangeMessage,
    TickSizeChange,
)

__all__ = ["BookStatus", "TokenBook", "TokenBooks"]

_ZERO = Decimal(0)
_ONE = Decimal(1)


class BookStatus(enum.StrEnum):
    OK = "ok"  # applied, and agrees with the venue's top where the message said it
    STALE = "stale"  # disagreement found now: a snapshot is needed
    WAITING = "waiting"  # ignored: the book is waiting for a snapshot
    OLD = "old"  # ignored: older than the snapshot in use
    UNKNOWN = "unknown"  # an asset we do not follow


@dataclass(slots=True)
class TokenBook:
    """One outcome token's book."""

    token_id: str
    tick_size: Decimal
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    ts_ns: int = 0
    valid: bool = False
    problem: str = "no snapshot yet"

    def best_bid(self) -> Decimal | None:
        return max(self.bids) if self.bids else None

    def best_ask(self) -> Decimal | None:
        return min(self.asks) if self.asks else None

    def replace(self, bids: list[Level], asks: list[Level], ts_ns: int) -> None:
        self.bids = {lv.price: lv.size for lv in bids if lv.size > 0}
        self.asks = {lv.price: lv.size for lv in asks if lv.size > 0}
        self.ts_ns = ts_ns
        self.valid = True
        self.problem = ""
        self._check()

    def set_level(self, side: str, price: Decimal, size: Decimal) -> None:
        levels = self.bids if side.upper() == "BUY" else self.asks
        if size > 0:
            if price % self.tick_size != 0:
                self.invalidate(f"level {price} is off the tick grid {self.tick_size}")
            levels[price] = size
        else:
            levels.pop(price, None)

    def invalidate(self, why: str) -> None:
        self.valid = False
        self.problem = why

    def _check(self) -> None:
        """Every level on the grid (after a snapshot) and the book not crossed."""
        off = next((p for p in (*self.bids, *self.asks) if p % self.tick_size != 0), None)
        if off is not None:
            self.invalidate(f"level {off} is off the tick grid {self.tick_size}")
            return
        self.check_crossed()

    def check_crossed(self) -> None:
        bid, ask = self.best_bid(), self.best_ask()
        if bid is not None and ask is not None and bid >= ask:
            self.invalidate(f"crossed book: bid {bid} >= ask {ask}")

    def agrees(self, best_bid: Decimal | None, best_ask: Decimal | None) -> bool:
        """Does our top equal the venue's? (0 as a bid, and 0 or 1 as an ask, mean an empty side.)"""
        want_bid = None if best_bid is None or best_bid <= 0 else best_bid
        want_ask = None if best_ask is None or best_ask <= 0 or best_ask >= _ONE else best_ask
        return self.best_bid() == want_bid and self.best_ask() == want_ask

    def ladder(self, instrument: Instrument, depth: int) -> tuple[BookLevels, BookLevels]:
        """(bids, asks) as (ticks, lots), best first; sizes cut down to the lot grid."""
        bids = sorted(self.bids.items(), reverse=True)[:depth]
        asks = sorted(self.asks.items())[:depth]
        return _levels(instrument, bids), _levels(instrument, asks)


def _levels(instrument: Instrument, levels: list[tuple[Decimal, Decimal]]) -> BookLevels:
    out: BookLevels = []
    for price, size in levels:
        lots = int(size / instrument.lot_size)  # display size: cut to whole lots
        if lots > 0:
            out.append((instrument.price_to_ticks(price), lots))
    return out


class TokenBooks:
    """The books of every token followed on one market-channel connection."""

    def __init__(self) -> None:
        self._books: dict[str, TokenBook] = {}

    def follow(self, token_id: str, tick_size: Decimal) -> TokenBook:
        book = self._books.get(token_id)
        if book is None:
            book = self._books[token_id] = TokenBook(token_id, tick_size)
        return book

    def get(self, token_id: str) -> TokenBook | None:
        return self._books.get(token_id)

    @property
    def tokens(self) -> list[str]:
        return list(self._books)

    def invalidate_all(self, why: str) -> None:
        for book in self._books.values():
            book.invalidate(why)

    def on_snapshot(self, msg: BookMessage | BookSummary) -> tuple[str, BookStatus]:
        book = self._books.get(msg.asset_id)
        if book is None:
            return msg.asset_id, BookStatus.UNKNOWN
        ts = ms_to_ns(msg.timestamp)
        if book.valid and ts < book.ts_ns:
            return msg.asset_id, BookStatus.OLD
        book.replace(msg.bids, msg.asks, ts)
        return msg.asset_id, BookStatus.OK if book.valid else BookStatus.STALE

    def on_price_change(self, msg: PriceChangeMessage | PriceChangeLegacy) -> dict[str, BookStatus]:
        """Apply every level of one message; then compare each touched asset's top with the venue's."""
        ts = ms_to_ns(msg.timestamp)
        changes: list[tuple[str, str, Decimal, Decimal, Decimal | None, Decimal | None]]
        if isinstance(msg, PriceChangeLegacy):
            changes = [(msg.asset_id, msg.side, msg.price, msg.size, None, None)]
        else:
            changes = [
                (c.asset_id, c.side, c.price, c.size, c.best_bid, c.best_ask) for c in msg.price_changes
            ]
        result: dict[str, BookStatus] = {}
        tops: dict[str, tuple[Decimal | None, Decimal | None]] = {}
        for asset, side, price, size, best_bid, best_ask in changes:
            book = self._books.get(asset)
            if book is None:
                result[asset] = BookStatus.UNKNOWN
                continue
            if not book.valid:
                result[asset] = BookStatus.WAITING
                continue
            if ts < book.ts_ns:
                result[asset] = BookStatus.OLD
                continue
            book.set_level(side, price, size)
            book.ts_ns = ts
            result[asset] = BookStatus.OK
            if best_bid is not None or best_ask is not None:
                tops[asset] = (best_bid, best_ask)
        for asset, status in list(result.items()):
            book = self._books.get(asset)
            if status is not BookStatus.OK or book is None:
                continue
            if book.valid:
                book.check_crossed()  # each changed level's grid was checked as it was set
            if book.valid and asset in tops and not book.agrees(*tops[asset]):
                bid, ask = tops[asset]
                book.invalidate(
                    f"top {book.best_bid()}/{book.best_ask()} disagrees with the venue's {bid}/{ask}"
                )
            if not book.valid:
                result[asset] = BookStatus.STALE
        return result

    def on_best_bid_ask(self, msg: BestBidAsk) -> BookStatus:
        book = self._books.get(msg.asset_id)
        if book is None:
            return BookStatus.UNKNOWN
        if not book.valid:
            return BookStatus.WAITING
        if ms_to_ns(msg.timestamp) < book.ts_ns:
            return BookStatus.OLD
        if not book.agrees(msg.best_bid, msg.best_ask):
            book.invalidate(
                f"top {book.best_bid()}/{book.best_ask()} disagrees with best_bid_ask "
                f"{msg.best_bid}/{msg.best_ask}"
            )
            return BookStatus.STALE
        return BookStatus.OK

    def on_tick_size(self, msg: TickSizeChange) -> BookStatus:
        """A new grid: the book must be rebuilt from a snapshot read on it."""
        book = self._books.get(msg.asset_id)
        if book is None:
            return BookStatus.UNKNOWN
        if msg.new_tick_size <= 0 or msg.new_tick_size >= 1:
            raise GridError(f"tick size change to {msg.new_tick_size} for {msg.asset_id}")
        book.tick_size = msg.new_tick_size
        book.invalidate(f"tick size changed {msg.old_tick_size} -> {msg.new_tick_size}")
        return BookStatus.STALE
