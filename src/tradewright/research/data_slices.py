"""Market data for research runs: one Parquet copy of a config's recording, and time windows of it.

Every run of a sweep reads the same data, so the sweep loads the recording once and writes it as a
Parquet cache (`tradewright.data.cache`), which each run then reads in a fraction of the time; a
recording that already is a cache is used as it is. Walk-forward windows are cut from that stream.

An L2 window cannot just start at some row: the book at that moment is the result of everything
before it. `window_stream` therefore starts each window with a snapshot: a KIND_CLEAR row and one
KIND_DELTA row per price level of the book as it stands when the window opens (rebuilt from the last
snapshot before it), stamped at the window's start, followed by the window's own rows. Cuts are moved
to message boundaries so a window never starts or ends in the middle of a venue message.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tradewright.config.run import RunConfig
from tradewright.core.errors import DataError
from tradewright.data.cache import read_stream, read_summary, write_stream
from tradewright.data.loading import detect_format, load_stream
from tradewright.model.columnar import COLUMNS, F_LAST, KIND_CLEAR, KIND_DELTA, MarketStream
from tradewright.model.instrument import Instrument

__all__ = ["PreparedData", "data_fingerprint", "prepare_data", "window_stream"]


@dataclass(frozen=True, slots=True)
class PreparedData:
    """A Parquet stream the runs read (`overrides` point a config at it)."""

    path: Path
    instrument: Instrument
    rows: int
    start_ns: int
    end_ns: int
    fingerprint: str

    @property
    def overrides(self) -> dict[str, object]:
        return {"data.paths": [str(self.path)], "data.format": "parquet"}


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
    """Return a Parquet copy of the config's data in `cache_dir` (written once; a Parquet input is used directly)."""
    fingerprint = data_fingerprint(config)
    paths = [config.resolve(p).resolve() for p in config.data.paths]
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
    )


def load_prepared(data: PreparedData) -> MarketStream:
    return read_stream(data.path)


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
