"""Loading Binance combined-stream recordings: rows, sync, malformed lines, gaps and resync."""

from __future__ import annotations

import gzip
import json
import logging
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import shared_data
from tradewright.core.errors import DataError
from tradewright.data import Issue
from tradewright.data.binance import BINANCE_INSTRUMENTS, BinanceMarket, binance_instrument, load_binance
from tradewright.data.verify import verify_stream
from tradewright.model.book import OrderBook
from tradewright.model.columnar import F_LAST, KIND_CLEAR, KIND_DELTA, KIND_QUOTE, KIND_TRADE, MarketStream

HFT = "l2/hftbacktest"
USDM = f"{HFT}/binance_usdm_btcusdt_20240808.jsonl.gz"


def _lines(relative: str) -> list[bytes]:
    with gzip.open(shared_data(relative), "rb") as fh:
        return fh.read().rstrip(b"\n").split(b"\n")


def _write(tmp_path: Path, lines: list[bytes], name: str = "recording.jsonl.gz") -> Path:
    path = tmp_path / name
    with gzip.open(path, "wb") as fh:
        fh.write(b"\n".join(lines) + b"\n")
    return path


def _is_diff(line: bytes) -> bool:
    return b"@depth" in line[:80]


def _book_at_end(stream: MarketStream) -> OrderBook:
    book = OrderBook(stream.instrument)
    start = int(np.flatnonzero(stream.kind == KIND_CLEAR)[-1])
    rows = np.flatnonzero(stream.kind[start:] == KIND_DELTA) + start
    book.set_levels(stream.side[rows].astype(np.int64), stream.tick[rows], stream.lots[rows])
    return book


# --- what the rows look like ------------------------------------------------------------------------
def test_usdm_counts_match_the_recording(usdm_btc: MarketStream) -> None:
    s = usdm_btc.stats
    assert s["lines"] == 93_954 and s["messages"] == 93_954
    assert s["diffs"] == 6_551 and s["trades"] == 21_313 and s["quotes"] == 66_089 and s["snapshots"] == 1
    assert s["diffs_applied"] + s["diffs_dropped_stale"] == 6_551
    assert s["sequence_gaps"] == 0 and s["diffs_unsynced"] == 0 and s.get("malformed_lines", 0) == 0
    assert usdm_btc.count(KIND_TRADE) == 21_313
    assert usdm_btc.count(KIND_QUOTE) == 2 * 66_089
    assert usdm_btc.count(KIND_CLEAR) == 1
    assert str(usdm_btc.instrument.id) == "BTCUSDT-PERP.BINANCE"


def test_snapshot_is_a_clear_row_then_its_levels_then_the_diffs_it_was_waiting_for(
    usdm_btc: MarketStream,
) -> None:
    clear = int(np.flatnonzero(usdm_btc.kind == KIND_CLEAR)[0])
    levels = slice(clear + 1, clear + 2001)
    snapshot_ts = 1723161255319702566  # line 55, the REST snapshot lastUpdateId=5123107852948
    assert usdm_btc.ts_recv[clear] == snapshot_ts
    assert set(usdm_btc.update_id[clear : clear + 2001].tolist()) == {5123107852948}
    assert (usdm_btc.kind[levels] == KIND_DELTA).all()
    assert (usdm_btc.side[clear + 1 : clear + 1001] == 1).all() and (
        usdm_btc.side[clear + 1001 : clear + 2001] == -1
    ).all()
    assert usdm_btc.tick[clear + 1] == 618002 and usdm_btc.lots[clear + 1] == 2909  # ["61800.20","2.909"]
    assert usdm_btc.flags[clear + 2000] == F_LAST and not usdm_btc.flags[clear + 1 : clear + 2000].any()
    # the diffs of lines 42 and 50 arrived before the snapshot but are newer: applied right after it,
    # at the snapshot's receive time, with their own venue time
    after = np.flatnonzero((usdm_btc.kind == KIND_DELTA) & (np.arange(len(usdm_btc)) > clear + 2000))
    first_ids = list(dict.fromkeys(usdm_btc.update_id[after[:200]].tolist()))[:3]
    assert first_ids == [5123107853551, 5123107856210, 5123107858366]
    line_42 = after[usdm_btc.update_id[after] == 5123107853551]
    assert (usdm_btc.ts_recv[line_42] == snapshot_ts).all()
    assert (usdm_btc.ts_event[line_42] == 1723161256505 * 1_000_000).all()  # T of line 42


def test_trades_and_quotes_become_rows_with_exact_prices(usdm_btc: MarketStream) -> None:
    trades = np.flatnonzero(usdm_btc.kind == KIND_TRADE)
    first = trades[0]  # line 3: t=5266583935 p=61800.30 q=0.006 m=false T=1723161256322
    assert usdm_btc.update_id[first] == 5266583935
    assert (usdm_btc.tick[first], usdm_btc.lots[first], usdm_btc.side[first]) == (618003, 6, 1)
    assert usdm_btc.ts_event[first] == 1723161256322 * 1_000_000
    assert usdm_btc.ts_recv[first] == 1723161255088176367
    seller = trades[usdm_btc.update_id[trades] == 5266583939][0]  # line 48: m=true, a sell aggressor
    assert usdm_btc.side[seller] == -1
    quotes = np.flatnonzero(usdm_btc.kind == KIND_QUOTE)
    bids, asks = quotes[0::2], quotes[1::2]
    assert (asks == bids + 1).all()
    assert (usdm_btc.side[bids] == 1).all() and (usdm_btc.side[asks] == -1).all()
    assert (usdm_btc.update_id[bids] == usdm_btc.update_id[asks]).all()
    assert (usdm_btc.flags[asks] == F_LAST).all() and (usdm_btc.flags[bids] == 0).all()


def test_every_message_ends_with_f_last_and_the_stream_is_in_receive_order(usdm_btc: MarketStream) -> None:
    s = usdm_btc.stats
    messages_with_rows = s["trades"] + s["quotes"] + s["snapshots"] + s["diffs_applied"]
    assert int(np.count_nonzero(usdm_btc.flags & F_LAST)) == messages_with_rows
    assert (np.diff(usdm_btc.ts_recv) >= 0).all()
    for name, dtype in (("ts_event", np.int64), ("kind", np.int8), ("tick", np.int64), ("flags", np.int8)):
        assert usdm_btc.column(name).dtype == dtype


def test_prices_and_sizes_are_converted_exactly(tmp_path: Path) -> None:
    # The snapshot and the diffs applied in the first 400 lines, converted one by one through Decimal,
    # equal the loaded delta rows in order.
    lines = _lines(USDM)[:400]
    inst = binance_instrument(BinanceMarket.USDM, "BTCUSDT")
    messages = [json.loads(line.partition(b" ")[2]) for line in lines]
    snapshot = next(m for m in messages if "lastUpdateId" in m)
    diffs = [m["data"] for m in messages if "@depth" in m.get("stream", "")]
    applied = [d for d in diffs if d["u"] >= snapshot["lastUpdateId"]]
    expected = []
    for side, levels in [(1, snapshot["bids"]), (-1, snapshot["asks"])] + [
        pair for d in applied for pair in ((1, d["b"]), (-1, d["a"]))
    ]:
        expected += [(side, inst.price_to_ticks(p), inst.size_to_lots(q)) for p, q in levels]
    stream = load_binance(_write(tmp_path, lines))
    rows = np.flatnonzero(stream.kind == KIND_DELTA)
    got = list(
        zip(stream.side[rows].tolist(), stream.tick[rows].tolist(), stream.lots[rows].tolist(), strict=True)
    )
    assert got == expected
    assert len(got) > 3_000


def test_instruments_of_the_recordings() -> None:
    perp = BINANCE_INSTRUMENTS[(BinanceMarket.USDM, "BTCUSDT")]
    assert (str(perp.id), perp.tick_size, perp.lot_size) == (
        "BTCUSDT-PERP.BINANCE",
        Decimal("0.1"),
        Decimal("0.001"),
    )
    assert (perp.maker_fee, perp.taker_fee, perp.settle) == (Decimal("0.0002"), Decimal("0.0005"), "USDT")
    eth = BINANCE_INSTRUMENTS[(BinanceMarket.USDM, "ETHUSDT")]
    assert (str(eth.id), eth.tick_size) == ("ETHUSDT-PERP.BINANCE", Decimal("0.01"))
    spot = BINANCE_INSTRUMENTS[(BinanceMarket.SPOT, "BTCUSDT")]
    assert (str(spot.id), spot.tick_size, spot.min_size) == (
        "BTCUSDT.BINANCE",
        Decimal("0.01"),
        Decimal("0.00001"),
    )
    assert (spot.maker_fee, spot.taker_fee) == (Decimal("0.001"), Decimal("0.001"))
    # the spot book still holds 6-decimal sizes from before the 0.00001 step (spot 0808 line 1886)
    assert spot.lot_size == Decimal("0.000001")
    coinm = BINANCE_INSTRUMENTS[(BinanceMarket.COINM, "BTCUSD_PERP")]
    assert (str(coinm.id), coinm.tick_size, coinm.lot_size) == (
        "BTCUSD_PERP.BINANCE",
        Decimal("0.1"),
        Decimal(1),
    )
    assert coinm.inverse and coinm.multiplier == Decimal(100) and coinm.settle == "BTC"
    assert coinm.notional(Decimal(50_000), Decimal(5)) == Decimal("0.01")  # 5 x 100 USD at 50,000
    with pytest.raises(DataError, match="no built-in instrument for Binance spot DOGEUSDT"):
        binance_instrument(BinanceMarket.SPOT, "dogeusdt")


# --- malformed lines ----------------------------------------------------------------------------------
def test_garbled_lines_are_reported_with_file_and_line_counted_and_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lines = _lines(USDM)[:2_000]
    clean = load_binance(_write(tmp_path, lines, "clean.jsonl.gz"))
    lines[99] = lines[99][:60]  # line 100: cut mid-JSON
    lines[199] = lines[199].replace(b'"u":', b'"x":')  # line 200: a message without its update id
    lines[299] = b"garbage"  # line 300: not even a timestamp
    path = _write(tmp_path, lines)
    with caplog.at_level(logging.WARNING, logger="tradewright.data"):
        stream = load_binance(path)
    assert stream.stats["malformed_lines"] == 3
    assert stream.stats["messages"] == clean.stats["messages"] - 3
    warnings = [r.getMessage() for r in caplog.records]
    for line in (100, 200, 300):
        assert any(f"{path}:{line}: malformed:" in w for w in warnings), warnings
    assert any("missing required field `u`" in w for w in warnings)


def test_strict_mode_stops_at_the_first_malformed_line(tmp_path: Path) -> None:
    lines = _lines(USDM)[:500]
    lines[99] = lines[99][:60]
    path = _write(tmp_path, lines)
    with pytest.raises(DataError, match=rf"{path}:100: malformed line"):
        load_binance(path, strict=True)


def test_a_number_that_is_not_a_decimal_makes_the_line_malformed(tmp_path: Path) -> None:
    lines = _lines(USDM)[:500]
    lines[2] = lines[2].replace(b'"p":"61800.30"', b'"p":"61800.3O"')  # letter O, line 3 (a trade)
    lines[8] = lines[8].replace(b'"q":"0.199"', b'"q":"-0.199"')  # a negative size, line 9 (a trade)
    issues: list[Issue] = []
    stream = load_binance(_write(tmp_path, lines), on_issue=issues.append)
    assert [(i.kind, i.line) for i in issues] == [("malformed", 3), ("malformed", 9)]
    assert "61800.3O" in issues[0].message and "negative" in issues[1].message
    assert stream.stats["malformed_lines"] == 2
    trade_ids = stream.update_id[stream.kind == KIND_TRADE].tolist()
    assert 5266583935 not in trade_ids and 5266583936 not in trade_ids and 5266583937 in trade_ids
    with pytest.raises(DataError, match=r":3: malformed line"):
        load_binance(_write(tmp_path, lines, "again.jsonl.gz"), strict=True)


def test_a_price_off_the_instruments_grid_is_a_data_error_naming_the_line(tmp_path: Path) -> None:
    # spot prices have cents; the USD-M instrument's tick is 0.1
    spot = shared_data(f"{HFT}/binance_spot_btcusdt_20240808.jsonl.gz")
    perp = binance_instrument(BinanceMarket.USDM, "BTCUSDT")
    with pytest.raises(
        DataError, match=r"binance_spot_btcusdt_20240808.jsonl.gz:\d+: .* not on the tick grid of 0.1"
    ):
        load_binance(spot, instrument=perp)


# --- gaps and resync --------------------------------------------------------------------------------------
def test_a_missing_diff_is_a_gap_and_later_diffs_wait_for_a_snapshot(tmp_path: Path) -> None:
    lines = _lines(USDM)[:5_000]
    diffs = [i for i, line in enumerate(lines) if _is_diff(line) and i > 60]
    removed = diffs[100]
    del lines[removed]
    issues: list[Issue] = []
    stream = load_binance(_write(tmp_path, lines), on_issue=issues.append)
    gap = [i for i in issues if i.kind == "sequence_gap"]
    assert stream.stats["sequence_gaps"] == 1 and len(gap) == 1
    assert gap[0].line == diffs[101]  # the next diff (one line up in the edited file), 1-based
    assert "expected pu=" in gap[0].message and "received pu=" in gap[0].message
    unsynced = [i for i in issues if i.kind == "unsynced"]
    assert stream.stats["diffs_unsynced"] == len(diffs) - 100 - 1 and len(unsynced) == 1
    last_diff_row = np.flatnonzero(stream.kind == KIND_DELTA)[-1]
    assert stream.ts_recv[last_diff_row] < int(lines[removed].partition(b" ")[0])
    assert verify_stream(stream).problems > 0


def test_after_a_gap_the_next_snapshot_resynchronises_the_book(tmp_path: Path) -> None:
    lines = _lines(USDM)[:8_000]
    diffs = [i for i, line in enumerate(lines) if _is_diff(line) and i > 60]
    removed, resync_at = diffs[100], diffs[300]
    # The venue's next REST snapshot, taken right after diff 300: the book as it really was then
    truth = load_binance(_write(tmp_path, lines[: resync_at + 1], "truth.jsonl.gz"))
    book = _book_at_end(truth)
    inst = truth.instrument
    data = json.loads(lines[resync_at].partition(b" ")[2])["data"]

    def levels(side: int) -> list[list[str]]:
        return [
            [str(inst.ticks_to_price(t)), str(inst.lots_to_size(q))] for t, q in book.depth_ticks(side, 10**6)
        ]

    snapshot = {
        "lastUpdateId": data["u"],
        "E": data["E"],
        "T": data["T"],
        "bids": levels(1),
        "asks": levels(-1),
    }
    stamp = lines[resync_at].partition(b" ")[0]
    edited = [*lines[: resync_at + 1], stamp + b" " + json.dumps(snapshot).encode(), *lines[resync_at + 1 :]]
    del edited[removed]

    stream = load_binance(_write(tmp_path, edited))
    clean = load_binance(_write(tmp_path, lines, "clean.jsonl.gz"))

    assert stream.stats["sequence_gaps"] == 1
    assert stream.stats["snapshots"] == 2 and stream.stats["snapshots_unused"] == 0
    assert stream.stats["diffs_unsynced"] == 0
    assert stream.count(KIND_CLEAR) == 2
    # the resynchronised book ends exactly where the uninterrupted one does
    assert _book_at_end(stream).depth_ticks(1, 10**6) == _book_at_end(clean).depth_ticks(1, 10**6)
    assert _book_at_end(stream).depth_ticks(-1, 10**6) == _book_at_end(clean).depth_ticks(-1, 10**6)
    # and agrees with every comparable bookTicker after the resync
    checked = verify_stream(stream)
    assert checked.quote_mismatches == 0 and checked.quotes_compared > 0
    assert checked.quotes_compared < verify_stream(clean).quotes_compared  # none during the gap


def test_spot_0809_alone_never_synchronises_and_says_so() -> None:
    issues: list[Issue] = []
    stream = load_binance(
        shared_data(f"{HFT}/binance_spot_btcusdt_20240809.jsonl.gz"), on_issue=issues.append
    )
    assert stream.stats["diffs_unsynced"] == 3_044 and stream.stats["snapshots"] == 0
    assert stream.count(KIND_DELTA) == 0 and stream.count(KIND_TRADE) == 10_147
    assert [i.kind for i in issues] == ["unsynced"]
    assert "3044 diffs from here on were not applied" in issues[0].message
    assert verify_stream(stream).problems > 0


def test_spot_0809_continues_0808_without_a_gap(spot_chained: MarketStream) -> None:
    s = spot_chained.stats
    assert s["sequence_gaps"] == 0 and s["diffs_unsynced"] == 0 and s["snapshots"] == 1
    assert s["diffs"] == 3_451 + 3_044 and s["diffs_applied"] + s["diffs_dropped_stale"] == s["diffs"]
    assert s["lines"] == 41_249 + 58_325
    assert (np.diff(spot_chained.ts_recv) >= 0).all()


def test_a_recording_of_several_symbols_needs_one_symbol_per_file(tmp_path: Path) -> None:
    lines = _lines(USDM)[:200] + _lines(f"{HFT}/binance_usdm_ethusdt_20240808.jsonl.gz")[:200]
    path = _write(tmp_path, lines)
    with pytest.raises(DataError, match=r"several symbols \['BTCUSDT', 'ETHUSDT'\]"):
        load_binance(path)
    with pytest.raises(DataError, match="snapshots that name none"):
        load_binance(path, symbol="ETHUSDT")
