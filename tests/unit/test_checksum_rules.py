"""Checksum rules and the string-preserving level store."""

from __future__ import annotations

import zlib
from decimal import Decimal

import pytest

from tradewright.core.errors import ChecksumMismatch, GridError
from tradewright.core.ids import InstrumentId
from tradewright.model.book import OrderBook
from tradewright.model.checksum import (
    ChecksumRule,
    LevelStrings,
    checksum,
    crc32_signed,
    kraken_checksum,
    okx_checksum,
    verify_checksum,
)
from tradewright.model.instrument import Instrument, InstrumentKind


def _instrument(tick: str, lot: str) -> Instrument:
    return Instrument(
        id=InstrumentId.parse("BTC-USDT.OKX"),
        kind=InstrumentKind.SPOT,
        base="BTC",
        quote="USDT",
        settle="USDT",
        tick_size=Decimal(tick),
        lot_size=Decimal(lot),
    )


def _store(tick: str = "0.1", lot: str = "0.00000001") -> LevelStrings:
    return LevelStrings(OrderBook(_instrument(tick, lot)))


def test_okx_interleaves_bids_and_asks_and_a_short_side_stops_contributing() -> None:
    bids = [("3366.1", "7"), ("3366", "6")]
    asks = [("3366.8", "9"), ("3368", "8"), ("3372", "8")]
    text = "3366.1:7:3366.8:9:3366:6:3368:8:3372:8"
    assert okx_checksum(bids, asks) == crc32_signed(text)


def test_okx_uses_only_the_top_25_levels() -> None:
    bids = [(str(1000 - i), "1") for i in range(30)]
    asks = [(str(2000 + i), "1") for i in range(30)]
    assert okx_checksum(bids, asks) == okx_checksum(bids[:25], asks[:25])
    assert okx_checksum(bids, asks) != okx_checksum(bids[:24], asks[:25])


def test_crc32_is_compared_as_signed_int32() -> None:
    text = "3366.1:7:3366.8:9"
    unsigned = zlib.crc32(text.encode())
    assert crc32_signed(text) == (unsigned - 2**32 if unsigned >= 2**31 else unsigned)
    assert -(2**31) <= crc32_signed("30238.8:2:30182.6:452") < 2**31
    assert any(crc32_signed(str(i)) < 0 for i in range(10))


def test_kraken_drops_dots_and_leading_zeros_asks_first_unsigned() -> None:
    asks = [("0.05005", "0.00000500"), ("0.05010", "0.00000100")]
    bids = [("0.05000", "0.00000200")]
    text = "5005500" + "5010100" + "5000200"
    assert kraken_checksum(asks, bids) == zlib.crc32(text.encode())
    assert kraken_checksum(asks, bids) >= 0


def test_store_keeps_the_venues_exact_strings_per_level() -> None:
    store = _store()
    store.set(1, "30182.6", "452")
    store.set(-1, "30238.8", "2")
    store.set(-1, "30316", "81")
    store.set(-1, "30316.0", "82")  # same tick, new text: the latest text is what the venue hashes
    assert store.top(1, 25) == [("30182.6", "452")]
    assert store.top(-1, 25) == [("30238.8", "2"), ("30316.0", "82")]
    assert store.book.best_ask == Decimal("30238.8")
    assert store.book.lots_at(-1, 303160) == 8_200_000_000


def test_store_deletes_a_level_on_any_spelling_of_zero() -> None:
    store = _store()
    store.set(1, "100.5", "1.5")
    store.set(1, "100.4", "2")
    store.set(1, "100.5", "0.00000000")
    assert store.top(1, 5) == [("100.4", "2")]
    assert store.book.best_bid == Decimal("100.4")


def test_store_refuses_a_price_off_the_grid() -> None:
    store = _store(tick="0.1")
    with pytest.raises(GridError, match="not on the tick grid"):
        store.set(1, "100.05", "1")


def test_store_truncates_to_the_subscribed_depth_from_the_far_end() -> None:
    store = _store(tick="1", lot="1")
    for i in range(6):
        store.set(1, str(100 - i), "1")
        store.set(-1, str(200 + i), "1")
    store.truncate(4)
    assert [p for p, _ in store.top(1, 10)] == ["100", "99", "98", "97"]
    assert [p for p, _ in store.top(-1, 10)] == ["200", "201", "202", "203"]
    assert store.book.lots_at(1, 95) == 0 and store.book.lots_at(-1, 205) == 0


def test_store_keeps_a_level_too_far_for_the_ladder_where_the_checksum_can_see_it() -> None:
    # Bitget CULTUSDT (tick 1e-8) trades near 0.000035 and had an ask at 0.1: 10 million ticks away.
    store = _store(tick="0.00000001", lot="1")
    store.set(-1, "0.00003530", "145214")
    store.set(-1, "0.10000000", "1000")
    store.set(1, "0.00003500", "10")
    assert store.far_level_count() == 1
    assert store.top(-1, 25) == [("0.00003530", "145214"), ("0.10000000", "1000")]
    assert store.book.best_ask == Decimal("0.00003530")
    store.set(-1, "0.10000000", "0")
    assert store.far_level_count() == 0
    assert store.top(-1, 25) == [("0.00003530", "145214")]


def test_verify_checksum_names_venue_instrument_and_both_values() -> None:
    store = _store()
    store.set(1, "3366.1", "7")
    store.set(-1, "3366.8", "9")
    good = checksum(ChecksumRule.OKX, store)
    assert good == crc32_signed("3366.1:7:3366.8:9")
    assert verify_checksum(ChecksumRule.OKX, store, good) == good
    with pytest.raises(
        ChecksumMismatch, match=rf"okx BTC-USDT.OKX: .* venue sent 123, our book gives {good}"
    ):
        verify_checksum(ChecksumRule.OKX, store, 123)


def test_kraken_rule_reads_ten_asks_then_ten_bids() -> None:
    store = _store(tick="0.1", lot="0.00000001")
    for i in range(12):
        store.set(-1, f"{200 + i}.00000", "0.50000000")
        store.set(1, f"{100 - i}.00000", "1.00000000")
    expected = kraken_checksum(store.top(-1, 10), store.top(1, 10))
    assert checksum(ChecksumRule.KRAKEN, store) == expected
    assert store.top(-1, 1) == [("200.00000", "0.50000000")]
    assert store.top(1, 1) == [("100.00000", "1.00000000")]
