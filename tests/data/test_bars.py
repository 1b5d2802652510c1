"""Bar loaders: every format in ../shared/data/bars, exact prices as ticks, and bad rows named by line."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pytest

from tests.conftest import shared_data
from tradewright.core.errors import DataError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.data.bars import (
    BarSeries,
    load_backtrader_csv,
    load_bars,
    load_bench_bars,
    load_binance_klines,
    load_freqtrade_feather,
    load_freqtrade_json,
    load_nautilus_csv,
)
from tradewright.model.instrument import Instrument, InstrumentKind

MINUTE_NS = 60_000_000_000
DAY_NS = 1440 * MINUTE_NS


def instrument(tick: str) -> Instrument:
    return Instrument(
        id=InstrumentId("TEST", Venue("SIM")),
        kind=InstrumentKind.SPOT,
        base="B",
        quote="Q",
        settle="Q",
        tick_size=Decimal(tick),
        lot_size=Decimal("0.00000001"),
    )


def ns(iso: str) -> int:
    return int(np.datetime64(iso, "ns").astype(np.int64))


def text_rows(path: Path, skip: int = 1) -> list[list[str]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt") as fh:
        lines = fh.read().splitlines()[skip:]
    return [line.split(",") for line in lines if line.strip()]


def assert_ticks_equal_text(series: BarSeries, rows: list[list[str]], first_price_field: int) -> None:
    """Every tick count times the tick size equals the file's own decimal text, row by row."""
    assert series.instrument is not None
    tick = series.instrument.tick_size
    for k, name in enumerate(("open", "high", "low", "close")):
        ticks = getattr(series, f"{name}_ticks")
        expected = [Decimal(row[first_price_field + k]) / tick for row in rows]
        assert [Decimal(int(t)) for t in ticks] == expected, name


# --- every file loads, with the row counts in data/README.md ----------------------------------

CSV_FILES = [
    ("bars/nautilus/btc-perp-20211231-20220201_1m.csv.gz", 45_031, MINUTE_NS, "2021-12-31T23:01"),
    ("bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz", 29_996, MINUTE_NS, "2024-01-01T23:01"),
    ("bars/nautilus/gbpusd-m1-bid-2012.csv.gz", 30_117, MINUTE_NS, "2012-02-01T00:00"),
    ("bars/nautilus/gbpusd-m1-ask-2012.csv.gz", 30_117, MINUTE_NS, "2012-02-01T00:00"),
    ("bars/nautilus/usdjpy-m1-bid-2013.csv.gz", 28_761, MINUTE_NS, "2013-02-01T00:00"),
    ("bars/nautilus/usdjpy-m1-ask-2013.csv.gz", 28_761, MINUTE_NS, "2013-02-01T00:00"),
    ("bars/nautilus/ADABTC-1m-2021-11-27.csv", 10, MINUTE_NS, "2021-11-27T00:00"),
    ("bars/nautilus/ADABTC-1m-2021-11-28.csv", 11, MINUTE_NS, "2021-11-28T00:00"),
    ("bars/backtrader/nvda-1999-2014.txt", 4_012, DAY_NS, "1999-01-22"),
    ("bars/backtrader/orcl-1995-2014.txt", 5_036, DAY_NS, "1995-01-03"),
    ("bars/backtrader/yhoo-1996-2015.txt", 4_965, DAY_NS, "1996-04-12"),
    ("bars/backtrader/2005-2006-day-001.txt", 512, DAY_NS, "2005-01-03"),
    ("bars/backtrader/2006-min-005.txt", 2_142, 5 * MINUTE_NS, "2006-01-02T09:00"),
    ("bars/backtrader/2006-01-02-volume-min-001.txt.gz", 30_889, MINUTE_NS, "2006-01-02T09:00"),
    ("bars/freqtrade/UNITTEST_BTC-1m.feather", 13_681, MINUTE_NS, "2017-11-04T23:02"),
    ("bars/freqtrade/UNITTEST_BTC-30m.feather", 1_920, 30 * MINUTE_NS, "2017-12-03T13:00"),
    ("bars/freqtrade/ETH_BTC-5m.feather", 5_760, 5 * MINUTE_NS, "2018-01-10T04:55"),
    ("bars/freqtrade/XRP_ETH-1m.feather", 2_469, MINUTE_NS, "2019-10-11T00:00"),
    ("bars/freqtrade/futures_XRP_USDT_USDT-1h-mark.feather", 100, 60 * MINUTE_NS, "2021-11-15T06:00"),
    ("bars/freqtrade/orderflow_candles.json.gz", 10_999, 5 * MINUTE_NS, "2023-01-02T16:45"),
]


@pytest.mark.parametrize(
    ("relative", "rows", "interval_ns", "first_open"), CSV_FILES, ids=[f[0] for f in CSV_FILES]
)
def test_every_bar_file_loads_with_its_rows_interval_and_first_open_time(
    relative: str, rows: int, interval_ns: int, first_open: str
) -> None:
    series = load_bars(shared_data(relative))
    assert len(series) == rows
    assert series.interval_ns == interval_ns
    assert series.ts_open_ns[0] == ns(first_open)
    assert series.ts_open_ns.dtype == np.int64
    assert all(getattr(series, c).dtype == np.float64 for c in ("open", "high", "low", "close", "volume"))
    assert (np.diff(series.ts_open_ns) > 0).all()
    assert series.source.endswith(Path(relative).name)


def test_all_freqtrade_candle_files_load() -> None:
    folder = shared_data("bars/freqtrade")
    for path in sorted(folder.glob("*.feather")):
        if "funding_rate" in path.name:
            continue
        series = load_freqtrade_feather(path, instrument("0.00000001"))
        assert len(series) > 0, path.name


def test_files_without_volume_have_nan_volume() -> None:
    series = load_bars(shared_data("bars/nautilus/gbpusd-m1-bid-2012.csv.gz"))
    assert np.isnan(series.volume).all()
    mark = load_bars(shared_data("bars/freqtrade/futures_XRP_USDT_USDT-1h-mark.feather"))
    assert np.isnan(mark.volume).all()


def test_funding_rate_file_is_refused_as_not_bars() -> None:
    path = shared_data("bars/freqtrade/futures_XRP_USDT_USDT-8h-funding_rate.feather")
    with pytest.raises(DataError, match=r"funding_rate\.feather: row 0: high 0\.0 is below open 0\.0001"):
        load_bars(path)


# --- timestamps -------------------------------------------------------------------------------


def test_6eh4_is_close_stamped_so_sessions_open_at_the_globex_restart() -> None:
    # Each CME day's last bar is stamped 22:00 and the first after the 22:00-23:00 UTC halt 23:01:
    # the stamps are bar closes. Read as such, every session's first bar opens at 23:00.
    path = shared_data("bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz")
    as_close = load_nautilus_csv(path, stamped_at="close")
    as_open = load_nautilus_csv(path)
    assert (as_open.ts_open_ns - as_close.ts_open_ns == MINUTE_NS).all()
    after_halt = np.flatnonzero(np.diff(as_close.ts_open_ns) > 30 * MINUTE_NS) + 1
    minute_of_day = (as_close.ts_open_ns[after_halt] % DAY_NS) // MINUTE_NS
    assert len(after_halt) >= 20
    assert set(minute_of_day.tolist()) == {23 * 60}


def test_fxcm_offsets_are_honoured_and_bars_are_open_stamped() -> None:
    series = load_bars(shared_data("bars/nautilus/usdjpy-m1-ask-2013.csv.gz"))
    assert series.ts_open_ns[0] == ns("2013-02-01T00:00")
    assert series.ts_close_ns[-1] == ns("2013-03-01T00:01")


def test_backtrader_intraday_bars_are_close_stamped_and_the_lying_header_is_read_with_time() -> None:
    one_minute = load_backtrader_csv(shared_data("bars/backtrader/2006-01-02-volume-min-001.txt.gz"))
    assert one_minute.ts_open_ns[0] == ns("2006-01-02T09:00")  # row "2006-01-02,09:01:00,3602.00,..."
    assert one_minute.open[0] == 3602.0 and one_minute.close[0] == 3599.0 and one_minute.volume[0] == 5699.0
    assert one_minute.ts_close_ns[-1] == ns("2006-02-27T22:00")
    stamped_at_open = load_backtrader_csv(shared_data("bars/backtrader/2006-min-005.txt"), stamped_at="open")
    assert stamped_at_open.ts_open_ns[0] == ns("2006-01-02T09:05")


def test_binance_kline_interval_comes_from_open_and_close_times() -> None:
    series = load_binance_klines(shared_data("bars/nautilus/ADABTC-1m-2021-11-27.csv"))
    assert series.ts_open_ns[0] == 1637971200000 * 1_000_000
    assert series.interval_ns == MINUTE_NS
    assert series.volume[0] == 36304.2


def test_bench_stream_loads_all_rows_fast_path() -> None:
    series = load_bench_bars(shared_data("bench/btc_1m_bench.csv.gz"), instrument("0.01"))
    assert len(series) == 540_372
    assert series.interval_ns == MINUTE_NS
    assert series.ts_open_ns[0] == ns("2021-12-31T23:01")
    assert series.close_ticks is not None and series.close_ticks[0] == 4_637_700


# --- exact prices -----------------------------------------------------------------------------

EXACT_TEXT = [
    (
        "bars/nautilus/btc-perp-20211231-20220201_1m.csv.gz",
        "0.125",
        1,
        1,
    ),  # FTX quoted quarters and eighths too
    ("bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz", "0.00005", 1, 1),
    ("bars/nautilus/usdjpy-m1-bid-2013.csv.gz", "0.001", 1, 1),
    ("bars/nautilus/ADABTC-1m-2021-11-28.csv", "0.00000001", 0, 1),
    ("bars/backtrader/2006-01-02-volume-min-001.txt.gz", "1", 1, 2),
    ("bars/backtrader/nvda-1999-2014.txt", "0.000001", 1, 1),
]


@pytest.mark.parametrize(
    ("relative", "tick", "header", "first_price"), EXACT_TEXT, ids=[e[0] for e in EXACT_TEXT]
)
def test_ticks_are_exactly_the_decimal_text_of_every_row(
    relative: str, tick: str, header: int, first_price: int
) -> None:
    path = shared_data(relative)
    series = load_bars(path, instrument(tick))
    assert_ticks_equal_text(series, text_rows(path, skip=header), first_price)
    assert series.close_ticks is not None and series.close_ticks.dtype == np.int64


def test_json_prices_keep_their_decimal_text() -> None:
    path = shared_data("bars/freqtrade/orderflow_candles.json.gz")
    series = load_freqtrade_json(path, instrument("0.1"))
    with gzip.open(path, "rt") as fh:
        doc = json.load(fh, parse_float=Decimal)
    expected = [Decimal(doc["close"][str(i)]) / Decimal("0.1") for i in range(len(series))]
    assert series.close_ticks is not None
    assert [Decimal(int(t)) for t in series.close_ticks] == expected


def test_feather_floats_map_to_the_nearest_grid_price() -> None:
    # freqtrade stored 0.0016200000000000001 for 0.00162: a float within a few ulps of a grid price stands for it.
    series = load_freqtrade_feather(
        shared_data("bars/freqtrade/UNITTEST_BTC-1m.feather"), instrument("0.00000001")
    )
    assert series.open_ticks is not None
    assert series.open[4] != 0.00162 and series.open_ticks[4] == 162_000
    np.testing.assert_array_equal(series.close_ticks, np.rint(series.close * 1e8).astype(np.int64))


def test_off_grid_text_price_is_a_data_error_naming_the_line() -> None:
    path = shared_data("bars/nautilus/btc-perp-20211231-20220201_1m.csv.gz")
    with pytest.raises(
        DataError, match=r"btc-perp-20211231-20220201_1m\.csv\.gz:244: open '46821\.75' is invalid"
    ):
        load_bars(path, instrument("1"))


def test_off_grid_float_price_is_a_data_error_naming_the_row() -> None:
    with pytest.raises(
        DataError, match=r"UNITTEST_BTC-1m\.feather: row \d+: \w+ .* is not on the tick grid of 0\.00001"
    ):
        load_bars(shared_data("bars/freqtrade/UNITTEST_BTC-1m.feather"), instrument("0.00001"))


# --- bad rows ---------------------------------------------------------------------------------

GOOD_NAUTILUS = [
    "timestamp,open,high,low,close,volume",
    "2022-01-01 00:00:00.000000,10.0,11.0,9.5,10.5,3",
    "2022-01-01 00:01:00.000000,10.5,10.75,10.0,10.25,4",
    "2022-01-01 00:02:00.000000,10.25,10.5,10.0,10.5,1",
]


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "wt") as fh:
            fh.write("\n".join(lines) + "\n")
    else:
        path.write_text("\n".join(lines) + "\n")
    return path


def with_line(line_number: int, text: str) -> list[str]:
    lines = list(GOOD_NAUTILUS)
    lines[line_number - 1] = text
    return lines


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("2022-01-01 00:01:00.000000,10.5,abc,10.0,10.25,4", r"high 'abc' is invalid"),
        ("2022-01-01 00:01:00.000000,10.5,10.75,10.0,nan,4", r"price is not finite"),
        (
            "2022-01-01 00:01:00.000000,10.5,10.25,10.0,10.5,4",
            r"high 10\.25 is below open 10\.5 or close 10\.5",
        ),
        (
            "2022-01-01 00:01:00.000000,10.5,10.75,10.5,10.25,4",
            r"low 10\.5 is above open 10\.5 or close 10\.25",
        ),
        ("2022-01-01 00:01:00.000000,10.5,10.75,10.0,10.25,-4", r"volume -4\.0 is invalid"),
        (
            "2022-01-01 00:00:00.000000,10.5,10.75,10.0,10.25,4",
            r"timestamp \d+ ns is not after the previous \d+ ns",
        ),
        (
            "2022-13-01 00:01:00.000000,10.5,10.75,10.0,10.25,4",
            r"timestamp '2022-13-01 00:01:00.000000' is invalid",
        ),
        ("2022-01-01 00:01:00.000000,10.5,10.75,10.0,10.25", r"expected 6 fields, got 5"),
    ],
)
@pytest.mark.parametrize("name", ["bars.csv", "bars.csv.gz"])
def test_bad_row_raises_data_error_naming_file_and_line(
    tmp_path: Path, name: str, line: str, message: str
) -> None:
    path = write(tmp_path, name, with_line(3, line))
    with pytest.raises(DataError, match=rf"{name}:3: {message}") as error:
        load_nautilus_csv(path)
    assert error.value.line == 3
    assert error.value.source == str(path)


def test_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    lines = [*GOOD_NAUTILUS[:2], "", GOOD_NAUTILUS[2].replace(",10.25,4", ",x,4"), GOOD_NAUTILUS[3]]
    with pytest.raises(DataError, match=r"bars\.csv:4: close 'x' is invalid"):
        load_nautilus_csv(write(tmp_path, "bars.csv", lines))


def test_off_grid_row_in_a_small_file_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bars.csv", with_line(3, "2022-01-01 00:01:00.000000,10.5,10.8,10.0,10.25,4"))
    with pytest.raises(
        DataError, match=r"bars\.csv:3: high '10\.8' is invalid: not on the tick grid of 0\.25"
    ):
        load_nautilus_csv(path, instrument("0.25"))
    series = load_nautilus_csv(write(tmp_path, "good.csv", GOOD_NAUTILUS), instrument("0.25"))
    assert series.high_ticks is not None and series.high_ticks.tolist() == [44, 43, 42]


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "bars.csv", ["timestamp,open,high,close", "2022-01-01 00:00:00,1,2,1"])
    with pytest.raises(DataError, match="missing column"):
        load_nautilus_csv(path)


def test_bad_feather_row_is_named_by_index(tmp_path: Path) -> None:
    path = tmp_path / "bad.feather"
    dates = pa.array(np.array(["2020-01-01T00:00", "2020-01-01T00:01"], dtype="datetime64[ns]")).cast(
        pa.timestamp("ns", tz="UTC")
    )
    table = pa.table(
        {
            "date": dates,
            "open": [1.0, 1.0],
            "high": [1.0, 0.5],
            "low": [1.0, 0.5],
            "close": [1.0, 1.0],
            "volume": [1.0, 1.0],
        }
    )
    feather.write_feather(table, path)
    with pytest.raises(DataError, match=r"bad\.feather: row 1: high 0\.5 is below open 1\.0"):
        load_freqtrade_feather(path)


def test_bar_series_arrays_are_read_only_and_slice_as_views() -> None:
    series = load_bars(shared_data("bars/nautilus/ADABTC-1m-2021-11-27.csv"), instrument("0.00000001"))
    with pytest.raises(ValueError):
        series.close[0] = 1.0
    part = series.slice(2, 5)
    assert len(part) == 3
    assert part.ts_open_ns[0] == series.ts_open_ns[2]
    assert part.close_ticks is not None and series.close_ticks is not None
    assert part.close_ticks.tolist() == series.close_ticks[2:5].tolist()
