"""Book integrity we own, whatever CCXT checks: every frame the venue sends is applied to our own book of
exact level strings and verified by the venue's rule before anyone sees it.

Rules (one per venue family, `BookRule`):

* checksum — OKX and Bitget: CRC32 of the top 25 levels interleaved; Kraken (WS v2): CRC32 of the top
  10 asks then bids, digits only, at the pair's precision (`tradewright.model.checksum`);
* ``prev`` chain — each update names its predecessor: OKX ``seqId``/``prevSeqId`` (when sent), Bybit v5
  ``u`` (each delta's ``u`` is the previous one's + 1);
* ``first_last`` chain — Gate ``U``/``u`` against the REST snapshot's ``id``: the first applied diff has
  ``U <= id + 1 <= u``, each later ``U`` is the previous ``u + 1`` (the same rule as Binance spot, so
  `BinanceSpotSync` tracks it). Diffs that arrive before the snapshot are held and offered after it.

A failure raises `SequenceGap`, `ChecksumMismatch` or (a level that is not a number, or off the grid)
`VenueError`; the book is then untrusted until a new snapshot (the feed resubscribes).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal

import msgspec

from tradewright.core.errors import BookError, GridError, SequenceGap, VenueError
from tradewright.model.book import OrderBook
from tradewright.model.book_sync import BinanceSpotSync, Decision, PrevSeqSync
from tradewright.model.checksum import ChecksumRule, LevelStrings, verify_checksum
from tradewright.model.instrument import Instrument

__all__ = ["BookFrame", "BookRule", "Chain", "VerifiedBook", "book_instrument"]

_FINEST_LOT = Decimal("1E-8")


class Chain(enum.StrEnum):
    NONE = "none"
    PREV = "prev"
    FIRST_LAST = "first_last"


@dataclass(frozen=True, slots=True)
class BookRule:
    """How a venue's book frames are verified. `depth`: levels a side the venue maintains (our book is
    truncated to it after every frame, as the venue's checksum assumes)."""

    checksum: ChecksumRule | None = None
    chain: Chain = Chain.NONE
    depth: int | None = None


@dataclass(frozen=True, slots=True)
class BookFrame:
    """One book message of one market, as exact strings (parsed from the venue's raw frame)."""

    market_id: str
    snapshot: bool
    bids: tuple[tuple[str, str], ...]
    asks: tuple[tuple[str, str], ...]
    checksum: int | None = None
    seq: int | None = None
    prev_seq: int | None = None
    first_id: int | None = None
    last_id: int | None = None
    ts_ms: int = 0
    raw: str = field(default="", compare=False)  # the frame's text, truncated, for logs


def book_instrument(instrument: Instrument) -> tuple[Instrument, int]:
    """The grid our book keeps levels on (the instrument's tick; its lot or 1e-8, whichever is finer,
    since venues publish sizes finer than the order lot) and lots of it per order lot."""
    lot = min(instrument.lot_size, _FINEST_LOT)
    ratio = instrument.lot_size / lot
    if ratio != ratio.to_integral_value():
        lot = instrument.lot_size
        ratio = Decimal(1)
    return msgspec.structs.replace(instrument, lot_size=lot), int(ratio)


class VerifiedBook:
    """One market's book, applied frame by frame and verified (see the module docstring)."""

    def __init__(self, instrument: Instrument, rule: BookRule) -> None:
        self.instrument = instrument
        self.rule = rule
        grid, self.lots_per_lot = book_instrument(instrument)
        self.store = LevelStrings(OrderBook(grid))
        self.synced = False
        self.last_frame: BookFrame | None = None
        self._prev = PrevSeqSync(str(instrument.id))
        self._ids = BinanceSpotSync(str(instrument.id))
        self._held: list[BookFrame] = []

    def reset(self) -> None:
        """Forget the book: nothing is delivered until the next snapshot."""
        self.store.clear()
        self.synced = False
        self._prev.reset()
        self._ids.reset()
        self._held.clear()

    def apply(self, frame: BookFrame) -> list[BookFrame]:
        """Apply one frame; return the frames that changed the book (a snapshot can release held diffs).

        Raises `SequenceGap`, `ChecksumMismatch` or `VenueError`; the book is then reset.
        """
        try:
            return self._apply(frame)
        except (BookError, VenueError):
            self.reset()
            raise

    def _apply(self, frame: BookFrame) -> list[BookFrame]:
        rule = self.rule
        if frame.snapshot:
            self.store.clear()
            self._levels(frame)
            self.synced = True
            if rule.chain is Chain.PREV and frame.seq is not None:
                self._prev.on_snapshot(frame.seq)
            applied = [frame]
            if rule.chain is Chain.FIRST_LAST:
                if frame.last_id is None:
                    raise VenueError(f"{self.instrument.id}: a snapshot without an update id")
                self._ids.on_snapshot(frame.last_id)
                held, self._held = self._held, []
                for diff in held:
                    applied += self._diff(diff)
            self._check(frame)
            return applied
        if not self.synced:
            if rule.chain is Chain.FIRST_LAST:
                self._held.append(frame)
            return []
        return self._diff(frame)

    def _diff(self, frame: BookFrame) -> list[BookFrame]:
        rule = self.rule
        if rule.chain is Chain.PREV and frame.seq is not None and frame.prev_seq is not None:
            self._prev.on_update(frame.seq, frame.prev_seq)
        elif rule.chain is Chain.FIRST_LAST:
            if frame.first_id is None or frame.last_id is None:
                raise SequenceGap(f"{self.instrument.id}: a diff without U/u")
            if self._ids.on_diff(frame.first_id, frame.last_id) is not Decision.APPLY:
                return []  # already in the snapshot
        self._levels(frame)
        self._check(frame)
        return [frame]

    def _levels(self, frame: BookFrame) -> None:
        store = self.store
        try:
            for side, levels in ((1, frame.bids), (-1, frame.asks)):
                for price, size in levels:
                    store.set(side, price, size)
        except (GridError, BookError, ArithmeticError) as exc:
            raise VenueError(f"{self.instrument.id}: malformed book level: {exc}") from None
        if self.rule.depth:
            store.truncate(self.rule.depth)
        self.last_frame = frame

    def _check(self, frame: BookFrame) -> None:
        if self.rule.checksum is not None and frame.checksum is not None:
            verify_checksum(self.rule.checksum, self.store, frame.checksum)

    def top(self, depth: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """The top `depth` levels a side as (ticks, lots of the instrument), sizes rounded down to whole
        lots (a level of less than one lot is left out: market data never becomes an order size)."""
        book = self.store.book
        r = self.lots_per_lot
        out: list[list[tuple[int, int]]] = []
        for side in (1, -1):
            levels = book.depth_ticks(side, depth)
            out.append([(t, lots // r) for t, lots in levels if lots >= r] if r != 1 else list(levels))
        return out[0], out[1]
