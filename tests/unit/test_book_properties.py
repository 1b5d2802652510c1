"""OrderBook agrees with a naive dict-of-levels model under random level updates."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewright.core.errors import BookError
from tradewright.core.ids import InstrumentId
from tradewright.model.book import OrderBook
from tradewright.model.instrument import Instrument, InstrumentKind

ES = Instrument(
    id=InstrumentId.parse("ESH4.CME"),
    kind=InstrumentKind.FUTURE,
    base="ES",
    quote="USD",
    settle="USD",
    tick_size=Decimal("0.25"),
    lot_size=Decimal(1),
    multiplier=Decimal(50),
)

# Ticks cluster around a centre (as real books do) but also start near zero (cheap instruments, small
# tick counts) and jump far away (stale far levels), which makes the ladder re-anchor and grow.
_centres = st.sampled_from([0, 3, 400, 19_200, 6_180_000])
_offsets = st.one_of(st.integers(-40, 40), st.integers(-300_000, 300_000))
_updates = st.lists(
    st.tuples(st.sampled_from([1, -1]), _offsets, st.integers(0, 5)),
    min_size=1,
    max_size=300,
)


class NaiveBook:
    """The specification: one dict per side, tick -> lots, empty levels removed."""

    def __init__(self) -> None:
        self.sides: dict[int, dict[int, int]] = {1: {}, -1: {}}

    def set(self, side: int, tick: int, lots: int) -> None:
        if lots == 0:
            self.sides[side].pop(tick, None)
        else:
            self.sides[side][tick] = lots

    def depth(self, side: int, n: int) -> list[tuple[int, int]]:
        levels = sorted(self.sides[side].items(), reverse=side > 0)
        return levels[:n]


def _apply(updates: list[tuple[int, int, int]], centre: int) -> tuple[OrderBook, NaiveBook]:
    book, naive = OrderBook(ES), NaiveBook()
    for side, offset, lots in updates:
        tick = max(0, centre + offset)
        book.set_level(side, tick, lots)
        naive.set(side, tick, lots)
    return book, naive


def _assert_same(book: OrderBook, naive: NaiveBook) -> None:
    bids, asks = naive.depth(1, 10**6), naive.depth(-1, 10**6)
    assert book.best_bid_tick == (bids[0][0] if bids else None)
    assert book.best_ask_tick == (asks[0][0] if asks else None)
    assert book.best_bid_lots == (bids[0][1] if bids else 0)
    assert book.best_ask_lots == (asks[0][1] if asks else 0)
    assert book.depth_ticks(1, 25) == bids[:25]
    assert book.depth_ticks(-1, 25) == asks[:25]
    for side, levels in ((1, bids), (-1, asks)):
        for tick, lots in levels[:50]:
            assert book.lots_at(side, tick) == lots


@settings(max_examples=150, deadline=None)
@given(_updates, _centres)
def test_book_matches_naive_model_after_random_level_updates(
    updates: list[tuple[int, int, int]], centre: int
) -> None:
    book, naive = _apply(updates, centre)
    _assert_same(book, naive)


@settings(max_examples=60, deadline=None)
@given(_updates, _centres)
def test_set_levels_in_one_batch_equals_one_at_a_time(
    updates: list[tuple[int, int, int]], centre: int
) -> None:
    one_by_one, naive = _apply(updates, centre)
    batch = OrderBook(ES)
    sides = np.array([s for s, _, _ in updates], dtype=np.int64)
    ticks = np.array([max(0, centre + o) for _, o, _ in updates], dtype=np.int64)
    lots = np.array([q for _, _, q in updates], dtype=np.int64)
    batch.set_levels(sides, ticks, lots)
    _assert_same(batch, naive)
    assert batch.depth_ticks(1, 100) == one_by_one.depth_ticks(1, 100)
    assert batch.depth_ticks(-1, 100) == one_by_one.depth_ticks(-1, 100)


def test_small_tick_counts_keep_every_level() -> None:
    # ES at 4800.00 is tick 19,200: below half the initial ladder, where the anchor used to go negative
    # and every update re-anchored the ladder, losing the book.
    book = OrderBook(ES)
    book.set_level(1, 19_200, 5)
    book.set_level(-1, 19_201, 7)
    book.set_level(1, 19_199, 3)
    assert book.best_bid == Decimal("4800.00")
    assert book.best_ask == Decimal("4800.25")
    assert book.depth_ticks(1, 5) == [(19_200, 5), (19_199, 3)]
    assert book.depth_ticks(-1, 5) == [(19_201, 7)]


def test_negative_price_is_refused_rather_than_corrupting_the_book() -> None:
    book = OrderBook(ES)
    book.set_level(1, 100, 1)
    with pytest.raises(BookError, match="negative"):
        book.set_level(1, -5, 1)
    assert book.depth_ticks(1, 5) == [(100, 1)]
