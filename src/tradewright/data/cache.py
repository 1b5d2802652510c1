"""Store a `MarketStream` as Parquet and read it back exactly.

The file holds the eight columns with their own dtypes (so reading gives back the same bytes) and, in
the schema metadata, everything else a backtest needs without the recording: the instrument (msgspec
JSON), the source, the loader's stats, and a summary (rows, receive-time span, rows per kind) that the
catalog lists without reading any column.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tradewright.core.errors import DataError
from tradewright.model.columnar import (
    COLUMNS,
    KIND_CLEAR,
    KIND_DELTA,
    KIND_QUOTE,
    KIND_TRADE,
    MarketStream,
)
from tradewright.model.instrument import Instrument

__all__ = ["FORMAT_VERSION", "KIND_NAMES", "StreamSummary", "read_stream", "read_summary", "write_stream"]

FORMAT_VERSION = 1
KIND_NAMES = {KIND_DELTA: "delta", KIND_CLEAR: "clear", KIND_TRADE: "trade", KIND_QUOTE: "quote"}
_KEY = "tradewright."


class StreamSummary(msgspec.Struct, frozen=True):
    """What a cached stream holds, readable from the file footer alone."""

    instrument: Instrument
    source: str
    stats: dict[str, int]
    rows: int
    ts_recv_start: int
    ts_recv_end: int
    kinds: dict[str, int]


def _summary(stream: MarketStream) -> StreamSummary:
    counts = (
        np.bincount(stream.kind.astype(np.int64), minlength=len(KIND_NAMES)) if len(stream) else np.zeros(4)
    )
    return StreamSummary(
        instrument=stream.instrument,
        source=stream.source,
        stats=dict(stream.stats),
        rows=len(stream),
        ts_recv_start=int(stream.ts_recv[0]) if len(stream) else 0,
        ts_recv_end=int(stream.ts_recv[-1]) if len(stream) else 0,
        kinds={name: int(counts[kind]) for kind, name in KIND_NAMES.items()},
    )


def write_stream(stream: MarketStream, path: Path | str) -> Path:
    """Write the stream to `path` (zstd-compressed Parquet); return the path."""
    path = Path(path)
    arrays = []
    for name, dtype in COLUMNS.items():
        column = stream.column(name)
        if column.dtype != dtype:
            raise DataError(f"column {name} is {column.dtype}, the stream format says {np.dtype(dtype)}")
        arrays.append(pa.array(column, type=pa.from_numpy_dtype(np.dtype(dtype))))
    metadata = {
        f"{_KEY}format": str(FORMAT_VERSION),
        f"{_KEY}summary": msgspec.json.encode(_summary(stream)).decode(),
    }
    table = pa.Table.from_arrays(arrays, names=list(COLUMNS), metadata=metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd", use_dictionary=False)
    tmp.replace(path)  # never leave a half-written file under the real name
    return path


def read_summary(path: Path | str) -> StreamSummary:
    """Read only the footer: instrument, source, stats, rows, span and rows per kind."""
    path = Path(path)
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataError(f"not a Parquet file: {exc}", source=str(path)) from None
    version = metadata.get(f"{_KEY}format".encode())
    if version is None:
        raise DataError("not a tradewright market-data cache (no tradewright.format)", source=str(path))
    if int(version) != FORMAT_VERSION:
        raise DataError(
            f"cache format {int(version)} is not {FORMAT_VERSION}; import it again", source=str(path)
        )
    try:
        return msgspec.json.decode(metadata[f"{_KEY}summary".encode()], type=StreamSummary)
    except (KeyError, msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise DataError(f"cache metadata is unreadable: {exc}", source=str(path)) from None


def read_stream(path: Path | str) -> MarketStream:
    """Read a stream written by `write_stream`: the same arrays, instrument, source and stats."""
    path = Path(path)
    summary = read_summary(path)
    table = pq.read_table(path)
    if table.column_names != list(COLUMNS):
        raise DataError(f"columns are {table.column_names}, expected {list(COLUMNS)}", source=str(path))
    cols: dict[str, np.ndarray] = {}
    for name, dtype in COLUMNS.items():
        column = table.column(name)
        if column.null_count:
            raise DataError(f"column {name} has nulls", source=str(path))
        cols[name] = np.ascontiguousarray(column.to_numpy(), dtype=dtype)
    if table.num_rows != summary.rows:
        raise DataError(f"{table.num_rows} rows, the footer says {summary.rows}", source=str(path))
    return MarketStream(summary.instrument, source=summary.source, stats=dict(summary.stats), **cols)
