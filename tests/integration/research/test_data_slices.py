"""Walk-forward windows of an L2 stream open with a snapshot of the book as it stood at the cut."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import bundled_data
from tests.integration.research.builders import RECORDING
from tradewright.core.errors import DataError
from tradewright.data.loading import load_stream
from tradewright.model.columnar import F_LAST, KIND_CLEAR, KIND_DELTA, MarketStream
from tradewright.research.data_slices import prepare_data, window_stream


@pytest.fixture(scope="module")
def stream() -> MarketStream:
    return load_stream([bundled_data(RECORDING)], fmt="binance")


def _books_at(stream: MarketStream, stops: list[int]) -> list[dict[tuple[int, int], int]]:
    """The book after rows [0, stop) for each stop, replayed row by row (an independent, slow oracle)."""
    book: dict[tuple[int, int], int] = {}
    out = []
    wanted = sorted(stops)
    rows = zip(
        stream.kind.tolist(), stream.side.tolist(), stream.tick.tolist(), stream.lots.tolist(), strict=True
    )
    for i, (kind, side, tick, lots) in enumerate(rows):
        while wanted and wanted[0] == i:
            out.append(dict(book))
            wanted.pop(0)
        if not wanted:
            break
        if kind == KIND_CLEAR:
            book.clear()
        elif kind == KIND_DELTA:
            if lots:
                book[(side, tick)] = lots
            else:
                book.pop((side, tick), None)
    out.extend(dict(book) for _ in wanted)
    return out


def _prefix_rows(window: MarketStream) -> int:
    """The snapshot rows: the CLEAR and its DELTAs up to the first F_LAST."""
    return int(np.flatnonzero(window.flags & F_LAST)[0]) + 1


@pytest.mark.parametrize("offset_s", [30.0, 125.5, 301.0])
def test_a_window_replays_the_same_book_as_the_whole_stream(stream: MarketStream, offset_s: float) -> None:
    start = int(stream.ts_recv[0]) + int(offset_s * 1e9)
    window = window_stream(stream, start, start + 20_000_000_000)
    head = _prefix_rows(window)
    assert window.kind[0] == KIND_CLEAR and (window.kind[1:head] == KIND_DELTA).all()
    assert (window.ts_recv[:head] == start).all() and np.all(np.diff(window.ts_recv) >= 0)
    first = int(np.searchsorted(stream.ts_recv, start))
    while first > 0 and not stream.flags[first - 1] & F_LAST:
        first += 1  # the cut moves to the next message boundary
    rows = len(window) - head
    for column in ("kind", "side", "tick", "lots", "ts_recv"):
        np.testing.assert_array_equal(
            window.column(column)[head:], stream.column(column)[first : first + rows]
        )
    checks = [0, 1, 500, rows // 2, rows]
    expected = _books_at(stream, [first + k for k in checks])
    assert _books_at(window, [head + k for k in checks]) == expected
    assert len(expected[0]) > 100, "a real book, not an empty one"


def test_the_first_window_is_the_stream_itself(stream: MarketStream) -> None:
    start = int(stream.ts_recv[0])
    window = window_stream(stream, start, start + 5_000_000_000)
    n = len(window)
    np.testing.assert_array_equal(window.kind, stream.kind[:n])
    np.testing.assert_array_equal(window.lots, stream.lots[:n])


def test_windows_end_on_a_message_boundary_and_an_empty_window_is_refused(stream: MarketStream) -> None:
    start = int(stream.ts_recv[0]) + 60_000_000_000
    window = window_stream(stream, start, start + 10_000_000_000)
    assert window.flags[-1] & F_LAST
    with pytest.raises(DataError, match="no market data"):
        window_stream(stream, int(stream.ts_recv[-1]) + 10**9, int(stream.ts_recv[-1]) + 2 * 10**9)
    with pytest.raises(ValueError, match="must end after it starts"):
        window_stream(stream, start, start)


def test_prepared_data_is_written_once_and_a_parquet_input_is_used_as_it_is(tmp_path: Path) -> None:
    from tests.integration.research.builders import write_config, write_slice
    from tradewright.config.run import load_run_config

    parquet = write_slice(tmp_path / "slice.parquet", 5)
    config = load_run_config(write_config(tmp_path, parquet))
    prepared = prepare_data(config, tmp_path / "cache")
    assert prepared.path == parquet.resolve() and not (tmp_path / "cache").exists()
    assert prepared.overrides == {"data.paths": [str(parquet.resolve())], "data.format": "parquet"}
    assert prepared.rows > 0 and prepared.end_ns > prepared.start_ns


def test_a_bar_window_reads_back_as_the_same_bars(tmp_path: Path) -> None:
    from tests.conftest import shared_data
    from tests.integration.research.builders import BAR_SERIES, write_bar_config
    from tradewright.config.run import load_run_config
    from tradewright.research.data_slices import load_bars_of, write_bar_window

    config = load_run_config(write_bar_config(tmp_path, shared_data(BAR_SERIES)))
    series = load_bars_of(config)
    start = int(series.ts_open_ns[1000]) + 1  # inside a bar: that bar opened before the window
    end = int(series.ts_open_ns[3000])
    overrides = write_bar_window(series, start, end, tmp_path / "w.feather")
    window = load_bars_of(load_run_config(tmp_path / "cross.toml", overrides))
    assert len(window) == 1999 and window.interval_ns == series.interval_ns
    np.testing.assert_array_equal(window.ts_open_ns, series.ts_open_ns[1001:3000])
    assert window.close_ticks is not None and series.close_ticks is not None
    np.testing.assert_array_equal(window.close_ticks, series.close_ticks[1001:3000])
    np.testing.assert_array_equal(window.low_ticks, series.low_ticks[1001:3000])
    assert window.instrument == series.instrument
