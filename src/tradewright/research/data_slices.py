"""Market data for research runs: one Parquet copy of a config's recording, and time windows of it.

Every run of a sweep reads the same data, so the sweep loads an L2 recording once and writes it as a
Parquet cache (`tradewright.data.cache`), which each run then reads in a fraction of the time; a
recording that already is a cache is used as it is. Bar files (`data.format = "bars"`) load fast and
are used as they are. Walk-forward windows are cut from the loaded data.

An L2 window cannot just start at some row: the book at that moment is the result of everything
before it. `window_stream` therefore starts each window with a snapshot: a KIND_CLEAR row and one
KIND_DELTA row per price level of the book as it stands when the window opens (rebuilt from the last
snapshot before it), stamped at the window's start, followed by the window's own rows. Cuts are moved
to message boundaries so a window never starts or ends in the middle of a venue message.

A bar window is the bars that open inside it, written as a freqtrade-style feather file (open time,
OHLCV as float64: the same doubles the original file gave, so every price is still on the tick grid).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather

from tradewright.config.run import RunConfig
from tradewright.core.errors import DataError
from tradewright.data.bars import BarSeries
from tradewright.data.cache import read_stream, read_summary, write_stream
from tradewright.data.loading import detect_format, load_bar_series, load_stream
from tradewright.model.columnar import COLUMNS, F_LAST, KIND_CLEAR, KIND_DELTA, MarketStream
from tradewright.model.instrument import Instrument

__all__ = [
    "PreparedData",
    "data_fingerprint",
    "load_bars_of",
    "load_prepared",
    "prepare_data",
    "window_stream",
    "write_bar_window",
]


@dataclass(frozen=True, slots=True)
class PreparedData:
    """The data the runs read: `overrides` point a run config at it (none: the config's own files).

    `kind` is "l2" (a Parquet stream at `path`) or "bars"; `start_ns`/`end_ns` bound its time (for bars,
    the first bar's open and the last bar's close).
    """

    path: Path
    instrument: Instrument
    rows: int
    start_ns: int
    end_ns: int
    fingerprint: str
    kind: str = "l2"
    overrides: dict[str, object] = field(default_factory=dict)
    bars: BarSeries | None = field(
        default=None, repr=False
    )  # the loaded bars (kind "bars", coordinator only)


def data_fingerprint(config: RunConfig) -> str:
    """Identify the data a config reads: its files (path, size, modification time) and how it reads them."""
    files = []
    for raw in config.data.paths:
        path = config.resolve(raw).resolve()
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise DataError("data file not found", source=str(path)) from None
        files.append([str(path), stat.st_size, stat.st_mtime_ns])
    key = {
        "files": files,
        "format": config.data.format,
        "market": config.data.market,
        "symbol": config.data.symbol,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def prepare_data(config: RunConfig, cache_dir: Path) -> PreparedData:
    """Return the data every run of a sweep reads: for L2, a Parquet copy in `cache_dir` (written once; a
    Parquet input is used directly); bar files as they are."""
    fingerprint = data_fingerprint(config)
    paths = [config.resolve(p).resolve() for p in config.data.paths]
    if config.data.format == "bars":
        series = load_bars_of(config)
        assert series.instrument is not None
        return PreparedData(
            path=paths[0],
            instrument=series.instrument,
            rows=len(series),
            start_ns=int(series.ts_open_ns[0]),
            end_ns=int(series.ts_close_ns[-1]),
            fingerprint=fingerprint,
            kind="bars",
            bars=series,
        )
    fmt = config.data.format if config.data.format != "auto" else detect_format(paths[0])
    if fmt == "parquet" and len(paths) == 1:
        return _prepared(paths[0], fingerprint)
    target = (cache_dir / f"{fingerprint[:16]}.parquet").resolve()
    if not target.exists():
        stream = load_stream(
            paths, fmt=config.data.format, market=config.data.market, symbol=config.data.symbol
        )
        if len(stream) == 0:
            raise DataError("the recording has no rows", source=str(paths[0]))
        write_stream(stream, target)
    return _prepared(target, fingerprint)


def _prepared(path: Path, fingerprint: str) -> PreparedData:
    summary = read_summary(path)
    return PreparedData(
        path=path,
        instrument=summary.instrument,
        rows=summary.rows,
        start_ns=summary.ts_recv_start,
        end_ns=summary.ts_recv_end,
        fingerprint=fingerprint,
        overrides={"data.paths": [str(path)], "data.format": "parquet"},
    )


def load_prepared(data: PreparedData) -> MarketStream:
    """Read a prepared L2 stream."""
    return read_stream(data.path)


def load_bars_of(config: RunConfig) -> BarSeries:
    """Load a bar config's series as a bar backtest does."""
    series = load_bar_series([config.resolve(p) for p in config.data.paths], config.data)
    if len(series) == 0:
        raise DataError("the bar file has no bars", source=str(config.data.paths[0]))
    return series


def write_bar_window(series: BarSeries, start_ns: int, end_ns: int, target: Path) -> dict[str, object]:
    """Write the bars that open in [start_ns, end_ns) as a feather file; return the config overrides
    that make a bar run read it."""
    first = int(np.searchsorted(series.ts_open_ns, start_ns, side="left"))
    stop = int(np.searchsorted(series.ts_open_ns, end_ns, side="left"))
    if stop - first < 2:
        raise DataError(
            f"fewer than two bars between {start_ns} and {end_ns} ns", source=series.source or "bars"
        )
    table = pa.table(
        {
            "date": pa.array(series.ts_open_ns[first:stop], type=pa.timestamp("ns", tz="UTC")),
            "open": series.open[first:stop],
            "high": series.high[first:stop],
            "low": series.low[first:stop],
            "close": series.close[first:stop],
            "volume": series.volume[first:stop],
        }
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    feather.write_feather(table, tmp)
    tmp.replace(target)
    return {
        "data.paths": [str(target.resolve())],
        "data.bar_format": "freqtrade_feather",
        "data.stamped_at": "",
    }


def window_stream(stream: MarketStream, start_ns: int, end_ns: int) -> MarketStream:
    """Return the rows received in [start_ns, end_ns), opened by a snapshot of the book at start_ns."""
    if end_ns <= start_ns:
        raise ValueError(f"a window must end after it starts ({start_ns} → {end_ns})")
    ts = stream.ts_recv
    first = _message_start(stream, int(np.searchsorted(ts, start_ns, side="left")))
    stop = _message_start(stream, int(np.searchsorted(ts, end_ns, side="left")))
    if stop <= first:
        raise DataError(
            f"no market data between {start_ns} and {end_ns} ns", source=stream.source or "stream"
        )
    prefix = _snapshot_rows(stream, first, start_ns)
    cols: dict[str, np.ndarray] = {}
    for name, dtype in COLUMNS.items():
        cols[name] = np.ascontiguousarray(
            np.concatenate([prefix[name], stream.column(name)[first:stop]]).astype(dtype, copy=False)
        )
    return MarketStream(stream.instrument, source=stream.source, stats=dict(stream.stats), **cols)


def _message_start(stream: MarketStream, index: int) -> int:
    """Move a cut forward to the first row of a venue message (or the end)."""
    n = len(stream)
    while 0 < index < n and not stream.flags[index - 1] & F_LAST:
        index += 1
    return index


def _snapshot_rows(stream: MarketStream, first: int, start_ns: int) -> dict[str, np.ndarray]:
    """The book before row `first` as rows: CLEAR, then one DELTA per level (bids high→low, asks low→high)."""
    if first == 0:
        return {name: np.empty(0, dtype=dtype) for name, dtype in COLUMNS.items()}
    kind = stream.kind[:first]
    clears = np.flatnonzero(kind == KIND_CLEAR)
    since = int(clears[-1]) + 1 if clears.size else 0
    deltas = np.flatnonzero(kind[since:] == KIND_DELTA) + since
    side = stream.side[deltas].astype(np.int64)
    tick = stream.tick[deltas]
    # The last delta of each (side, price) level holds its size now; 0 means the level is gone.
    key = side * (1 << 40) + tick
    reversed_key = key[::-1]
    _, last_in_reversed = np.unique(reversed_key, return_index=True)
    last = deltas[::-1][last_in_reversed]
    levels = last[stream.lots[last] > 0]
    bids = levels[stream.side[levels] > 0]
    asks = levels[stream.side[levels] < 0]
    ordered = np.concatenate(
        [
            bids[np.argsort(-stream.tick[bids], kind="stable")],
            asks[np.argsort(stream.tick[asks], kind="stable")],
        ]
    )
    count = ordered.size + 1
    update_id = int(stream.update_id[first - 1])
    rows: dict[str, np.ndarray] = {
        "ts_event": np.full(count, start_ns, dtype=np.int64),
        "ts_recv": np.full(count, start_ns, dtype=np.int64),
        "kind": np.concatenate([[KIND_CLEAR], np.full(ordered.size, KIND_DELTA)]).astype(np.int8),
        "side": np.concatenate([[0], stream.side[ordered]]).astype(np.int8),
        "tick": np.concatenate([[0], stream.tick[ordered]]).astype(np.int64),
        "lots": np.concatenate([[0], stream.lots[ordered]]).astype(np.int64),
        "flags": np.zeros(count, dtype=np.int8),
        "update_id": np.full(count, update_id, dtype=np.int64),
    }
    rows["flags"][-1] = F_LAST
    return rows
