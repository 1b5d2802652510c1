"""Tardis.dev normalised CSVs: incremental_book_L2 and trades."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import shared_data
from tradewright.core.errors import DataError
from tradewright.core.ids import InstrumentId
from tradewright.data.tardis import load_tardis_book, load_tardis_trades
from tradewright.model.book import OrderBook
from tradewright.model.columnar import F_LAST, KIND_CLEAR, KIND_DELTA, KIND_TRADE
from tradewright.model.instrument import Instrument, InstrumentKind

BOOK = "l2/nautilus/tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv"
TRADES = "l2/nautilus/tardis_bitmex_trades_XBTUSD.csv"

DERIBIT_PERP = Instrument(
    id=InstrumentId.parse("BTC-PERPETUAL.DERIBIT"),
    kind=InstrumentKind.PERPETUAL,
    base="BTC",
    quote="USD",
    settle="BTC",
    tick_size=Decimal("0.5"),
    lot_size=Decimal(10),
    multiplier=Decimal(1),
    inverse=True,
)


def test_book_sample_is_one_snapshot_message() -> None:
    stream = load_tardis_book(shared_data(BOOK), DERIBIT_PERP)
    assert len(stream) == 16 and stream.stats["rows"] == 15 and stream.stats["snapshots"] == 1
    assert stream.kind[0] == KIND_CLEAR and (stream.kind[1:] == KIND_DELTA).all()
    assert (stream.side[1:] == -1).all()  # the sample holds asks only
    assert stream.tick[1] == 12_843 and stream.lots[1] == 1_864  # 6421.5 / 0.5, 18640 / 10
    assert stream.ts_event[1] == 1585699200245000 * 1_000 and stream.ts_recv[1] == 1585699200355684 * 1_000
    assert stream.flags.tolist() == [0] * 15 + [F_LAST]
    book = OrderBook(DERIBIT_PERP)
    book.set_levels(stream.side[1:].astype(np.int64), stream.tick[1:], stream.lots[1:])
    assert book.best_ask == Decimal("6421.5") and book.best_ask_size == Decimal(18_640)
    assert book.best_bid is None


def test_book_grid_can_be_inferred_when_asked() -> None:
    stream = load_tardis_book(shared_data(BOOK), infer_grid=True)
    inst = stream.instrument
    assert str(inst.id) == "BTC-PERPETUAL.DERIBIT" and inst.kind is InstrumentKind.PERPETUAL
    assert (inst.tick_size, inst.lot_size) == (Decimal("0.1"), Decimal(1))  # finest decimals in the file
    assert stream.tick[1] == 64_215


def test_an_instrument_is_required_unless_inference_is_asked_for() -> None:
    with pytest.raises(DataError, match="pass instrument= or infer_grid=True"):
        load_tardis_book(shared_data(BOOK))


def test_a_price_off_the_given_grid_names_the_line(tmp_path: Path) -> None:
    coarse = Instrument(
        id=DERIBIT_PERP.id, kind=InstrumentKind.PERPETUAL, base="BTC", quote="USD", settle="BTC",
        tick_size=Decimal(1), lot_size=Decimal(10),
    )  # fmt: skip
    with pytest.raises(
        DataError, match=r"BTC-PERPETUAL.csv:2: price is not a non-negative decimal on the tick grid of 1"
    ):
        load_tardis_book(shared_data(BOOK), coarse)


def test_incremental_rows_after_a_snapshot_are_deltas_grouped_by_receive_time(tmp_path: Path) -> None:
    text = shared_data(BOOK).read_text().splitlines()
    text += [
        "deribit,BTC-PERPETUAL,1585699200300000,1585699200400000,false,bid,6421,500",
        "deribit,BTC-PERPETUAL,1585699200300000,1585699200400000,false,ask,6421.5,0",
        "deribit,BTC-PERPETUAL,1585699200310000,1585699200410000,false,ask,6422,1000",
    ]
    path = tmp_path / "book.csv"
    path.write_text("\n".join(text) + "\n")
    stream = load_tardis_book(path, DERIBIT_PERP)
    tail = slice(16, 19)
    assert stream.kind[tail].tolist() == [KIND_DELTA] * 3
    assert stream.side[tail].tolist() == [1, -1, -1]
    assert stream.lots[tail].tolist() == [50, 0, 100]
    assert stream.flags[tail].tolist() == [0, F_LAST, F_LAST]
    assert stream.stats["messages"] == 3


def test_trades_sample() -> None:
    stream = load_tardis_trades(shared_data(TRADES), infer_grid=True)
    assert len(stream) == 10 and (stream.kind == KIND_TRADE).all()
    assert (stream.side == -1).all()  # all sells
    assert stream.tick[0] == 85_315 and stream.lots.tolist() == [2152] + [1] * 9
    assert stream.ts_recv[0] == 1583020803307160 * 1_000 and stream.ts_event[0] == 1583020803145000 * 1_000
    # BitMEX ids are UUIDs: there is no numeric id to keep
    assert stream.stats["trade_ids_not_numeric"] == 10 and (stream.update_id == 0).all()
    # rows with one receive time came in one message
    assert stream.flags.tolist() == [F_LAST] + [0] * 8 + [F_LAST]


def test_numeric_trade_ids_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "trades.csv"
    path.write_text(
        "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
        "binance,BTCUSDT,1000,2000,42,buy,100.5,0.25\n"
        "binance,BTCUSDT,1001,2001,43,unknown,100.6,1\n"
    )
    stream = load_tardis_trades(path, infer_grid=True)
    assert stream.update_id.tolist() == [42, 43]
    assert stream.side.tolist() == [1, 0]
    assert stream.instrument.lot_size == Decimal("0.01")
