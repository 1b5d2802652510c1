"""The Parquet cache gives back exactly what was written; the catalog lists it from footers alone."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import shared_data
from tradewright.core.errors import DataError
from tradewright.data.cache import read_stream, read_summary, write_stream
from tradewright.data.catalog import Catalog
from tradewright.data.es_bench import load_es_l2
from tradewright.model.columnar import COLUMNS, MarketStream


def _assert_identical(a: MarketStream, b: MarketStream) -> None:
    for name, dtype in COLUMNS.items():
        assert b.column(name).dtype == np.dtype(dtype), name
        assert a.column(name).tobytes() == b.column(name).tobytes(), name
    assert b.instrument == a.instrument
    assert b.source == a.source
    assert b.stats == a.stats


def test_round_trip_is_bit_identical(usdm_btc: MarketStream, tmp_path: Path) -> None:
    path = write_stream(usdm_btc, tmp_path / "usdm.parquet")
    back = read_stream(path)
    _assert_identical(usdm_btc, back)
    assert back.instrument.tick_size == Decimal("0.1") and str(back.instrument.tick_size) == "0.1"


def test_round_trip_keeps_an_inverse_instrument_and_an_expiry(tmp_path: Path) -> None:
    es = load_es_l2(shared_data("bench/es_l2_base.csv.gz"))
    back = read_stream(write_stream(es, tmp_path / "es.parquet"))
    _assert_identical(es, back)
    assert back.instrument.expiry_ns == es.instrument.expiry_ns
    assert back.instrument.multiplier == Decimal(50)


def test_summary_is_read_from_the_footer(usdm_btc: MarketStream, tmp_path: Path) -> None:
    summary = read_summary(write_stream(usdm_btc, tmp_path / "usdm.parquet"))
    assert summary.rows == len(usdm_btc)
    assert summary.ts_recv_start == usdm_btc.ts_recv[0] and summary.ts_recv_end == usdm_btc.ts_recv[-1]
    assert summary.kinds == {"delta": 445_262, "clear": 1, "trade": 21_313, "quote": 132_178}
    assert str(summary.instrument.id) == "BTCUSDT-PERP.BINANCE"


def test_a_parquet_file_that_is_not_a_cache_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "foreign.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), path)
    with pytest.raises(DataError, match="not a tradewright market-data cache"):
        read_stream(path)
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"not parquet")
    with pytest.raises(DataError, match="not a Parquet file"):
        read_summary(garbage)


def test_catalog_lists_instrument_rows_span_and_kinds(
    usdm_btc: MarketStream, spot_0808: MarketStream, tmp_path: Path
) -> None:
    catalog = Catalog(tmp_path)
    spot_path = catalog.add(spot_0808)
    usdm_path = catalog.add(usdm_btc)
    assert usdm_path.name == "BTCUSDT-PERP.BINANCE.20240808T235415.parquet"
    entries = catalog.entries()
    assert [(e.instrument_id, e.path) for e in entries] == [
        ("BTCUSDT-PERP.BINANCE", usdm_path),
        ("BTCUSDT.BINANCE", spot_path),
    ]
    usdm = entries[0]
    assert (usdm.rows, usdm.start_ns, usdm.end_ns) == (
        len(usdm_btc),
        usdm_btc.ts_recv[0],
        usdm_btc.ts_recv[-1],
    )
    assert usdm.kinds["trade"] == 21_313
    _assert_identical(usdm_btc, catalog.load("BTCUSDT-PERP.BINANCE"))
    with pytest.raises(DataError, match=r"no cached data for ETHUSDT-PERP\.BINANCE"):
        catalog.load("ETHUSDT-PERP.BINANCE")


def test_catalog_joins_consecutive_files_of_one_instrument(usdm_btc: MarketStream, tmp_path: Path) -> None:
    half = int(np.flatnonzero(usdm_btc.flags)[40_000]) + 1
    catalog = Catalog(tmp_path)
    catalog.add(usdm_btc.slice(0, half))
    catalog.add(usdm_btc.slice(half, len(usdm_btc)))
    joined = catalog.load("BTCUSDT-PERP.BINANCE")
    for name in COLUMNS:
        assert joined.column(name).tobytes() == usdm_btc.column(name).tobytes()
