"""THE acceptance test of the data path: the book we rebuild is the venue's book.

Binance publishes its own best bid/offer (bookTicker) with the update id it reflects. Right after we apply
a depth diff whose final update id is ``u``, our best bid, its size, our best ask and its size must equal
every bookTicker that carries that same ``u`` — exactly, over the whole recording.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import shared_data
from tradewright.data.binance import load_binance
from tradewright.data.verify import Verification, book_tops, verify_stream
from tradewright.model.book import OrderBook
from tradewright.model.columnar import F_LAST, KIND_CLEAR, KIND_DELTA, KIND_QUOTE, MarketStream

HFT = "l2/hftbacktest"


def _check(stream: MarketStream, at_least: int) -> Verification:
    result = verify_stream(stream)
    print(
        f"{' + '.join(Path(p).name for p in stream.source.split('+'))}: "
        f"{result.quotes_compared:,} of {result.quotes:,} bookTicker messages "
        f"compared, {result.quote_mismatches} mismatches"
    )
    assert result.examples == []  # no gap, no malformed line, no mismatch to show
    assert result.sequence_gaps == 0
    assert result.unsynced_diffs == 0
    assert result.quote_mismatches == 0
    assert result.quotes_compared >= at_least
    assert result.problems == 0
    return result


def test_usdm_btcusdt_book_agrees_with_every_comparable_bookticker(usdm_btc: MarketStream) -> None:
    result = _check(usdm_btc, at_least=600)
    assert result.quotes == 66_089
    assert result.levels_beyond_range == 0


def test_spot_btcusdt_0808_book_agrees_with_every_comparable_bookticker(spot_0808: MarketStream) -> None:
    result = _check(spot_0808, at_least=500)
    assert result.quotes == 28_040
    # One ask (25.426189 BTC at 200000.00, line 1886) is 13.8 million ticks above the market: more than
    # the ladder holds. It can never be the best ask, so the comparison is unaffected; it is counted.
    assert result.levels_beyond_range == 1


def test_spot_btcusdt_chained_0808_0809_agrees_across_the_file_boundary(
    spot_0808: MarketStream, spot_chained: MarketStream
) -> None:
    result = _check(spot_chained, at_least=1_000)
    assert result.quotes == 28_040 + 45_134
    first_0809 = 1723161600001658384  # local time of the 0809 file's first line
    assert spot_chained.ts_recv[-1] > first_0809
    # the 0809 half is compared too: it continues the 0808 book without a snapshot of its own
    assert result.quotes_compared - verify_stream(spot_0808).quotes_compared >= 400


@pytest.mark.parametrize(
    ("files", "at_least"),
    [
        (["binance_usdm_ethusdt_20240808"], 500),
        (["binance_cm_btcusd_perp_20240808", "binance_cm_btcusd_perp_20240809"], 1_500),
    ],
)
def test_other_recordings_agree_with_their_bookticker_too(files: list[str], at_least: int) -> None:
    stream = load_binance([shared_data(f"{HFT}/{name}.jsonl.gz") for name in files])
    _check(stream, at_least)


def _compared_quote_rows(stream: MarketStream) -> list[int]:
    tops, _ = book_tops(stream)
    diff_ids = set(tops[tops[:, 5] == 0, 0].tolist())
    quote_bids = np.flatnonzero((stream.kind == KIND_QUOTE) & (stream.side > 0))
    return [r for r in quote_bids.tolist() if int(stream.update_id[r]) in diff_ids]


def test_comparison_catches_a_book_that_is_one_lot_off(usdm_btc: MarketStream) -> None:
    # Arrange: find the row that last set the best bid before the 50th compared bookTicker's diff ended,
    # and make that level one lot bigger
    quote = _compared_quote_rows(usdm_btc)[50]
    uid, best_bid = int(usdm_btc.update_id[quote]), int(usdm_btc.tick[quote])
    diff_end = int(np.flatnonzero((usdm_btc.update_id == uid) & (usdm_btc.kind == KIND_DELTA))[-1])
    sets_best_bid = (usdm_btc.kind[: diff_end + 1] == KIND_DELTA) & (usdm_btc.side[: diff_end + 1] > 0)
    sets_best_bid &= usdm_btc.tick[: diff_end + 1] == best_bid
    row = int(np.flatnonzero(sets_best_bid)[-1])
    stream = usdm_btc.slice(0, len(usdm_btc))
    stream.lots = stream.lots.copy()
    stream.lots[row] += 1
    # Act
    result = verify_stream(stream)
    # Assert: caught, and the example names the update id, the book's size and the venue's
    assert result.quote_mismatches >= 1
    assert f"u={uid}: book" in "\n".join(result.examples)


def test_comparison_catches_a_quote_that_disagrees(usdm_btc: MarketStream) -> None:
    good = verify_stream(usdm_btc)
    stream = usdm_btc.slice(0, len(usdm_btc))
    stream.tick = stream.tick.copy()
    stream.tick[_compared_quote_rows(usdm_btc)[100] + 1] += 1  # one compared bookTicker's ask, a tick higher
    result = verify_stream(stream)
    assert result.quotes_compared == good.quotes_compared
    assert result.quote_mismatches == 1


def test_compiled_replay_equals_the_orderbook_applied_row_by_row(usdm_btc: MarketStream) -> None:
    # The comparison relies on a compiled replay loop; check it against OrderBook.set_level on a prefix.
    end = int(np.flatnonzero(usdm_btc.flags & F_LAST)[20_000]) + 1
    prefix = usdm_btc.slice(0, end)
    tops, _ = book_tops(prefix)
    book = OrderBook(prefix.instrument)
    expected = []
    for k in range(end):
        kind = int(prefix.kind[k])
        if kind == KIND_CLEAR:
            book.clear()
        elif kind == KIND_DELTA:
            book.set_level(int(prefix.side[k]), int(prefix.tick[k]), int(prefix.lots[k]))
        else:
            continue
        if prefix.flags[k] & F_LAST:
            bid, ask = book.best_bid_tick, book.best_ask_tick
            expected.append(
                (int(prefix.update_id[k]), -1 if bid is None else bid, book.best_bid_lots,
                 -1 if ask is None else ask, book.best_ask_lots)
            )  # fmt: skip
    assert [tuple(row) for row in tops[:, :5].tolist()] == expected
    assert len(expected) > 1_000
