"""Load Tardis.dev normalised CSVs (``incremental_book_L2`` and ``trades``) into a `MarketStream`.

Timestamps are µs since the epoch: ``timestamp`` is the exchange's (-> ``ts_event``), ``local_timestamp``
the receive time (-> ``ts_recv``). Rows sharing ``local_timestamp`` came in one venue message, so the last
of them carries F_LAST. In ``incremental_book_L2`` a run of ``is_snapshot=true`` rows is a snapshot
(KIND_CLEAR first); ``amount`` is the new total at the level (0 deletes it). Tardis has no sequence ids:
``update_id`` is 0 for book rows, and the trade id for trades when the venue's ids are numbers (else 0).

The instrument is an argument. With ``infer_grid=True`` and no instrument, a grid-only instrument is made
from the finest decimals in the file (see `grid_instrument`): fine for replay and book checks, but it has
no fees, multiplier or contract terms, so pass a real one for PnL.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from tradewright.core.errors import DataError
from tradewright.data._parse import OK, checked_header, finest_step, grid_instrument, scale_arrow_strings
from tradewright.model.columnar import F_LAST, KIND_CLEAR, KIND_DELTA, KIND_TRADE, MarketStream
from tradewright.model.instrument import Instrument

__all__ = ["BOOK_COLUMNS", "TRADE_COLUMNS", "load_tardis_book", "load_tardis_trades"]

BOOK_COLUMNS = [
    "exchange",
    "symbol",
    "timestamp",
    "local_timestamp",
    "is_snapshot",
    "side",
    "price",
    "amount",
]
TRADE_COLUMNS = ["exchange", "symbol", "timestamp", "local_timestamp", "id", "side", "price", "amount"]


def load_tardis_book(
    path: Path | str,
    instrument: Instrument | None = None,
    *,
    infer_grid: bool = False,
    symbol: str | None = None,
) -> MarketStream:
    """Load an ``incremental_book_L2`` CSV (gzip or plain)."""
    path = Path(path)
    table = _read(path, BOOK_COLUMNS, symbol)
    inst = _instrument(path, table, instrument, infer_grid)
    n = table.num_rows
    ts_event, ts_recv, clamped = _times(table)
    side_col = table.column("side")
    is_bid = pc.equal(side_col, "bid").to_numpy(zero_copy_only=False)
    is_ask = pc.equal(side_col, "ask").to_numpy(zero_copy_only=False)
    snap_col = table.column("is_snapshot")
    is_snap = pc.equal(snap_col, "true").to_numpy(zero_copy_only=False)
    not_snap = pc.equal(snap_col, "false").to_numpy(zero_copy_only=False)
    ticks, tick_st = scale_arrow_strings(table.column("price"), inst.tick_size)
    lots, lot_st = scale_arrow_strings(table.column("amount"), inst.lot_size)
    _fail(path, ~(is_bid | is_ask), "side is not bid or ask")
    _fail(path, ~(is_snap | not_snap), "is_snapshot is not true or false")
    _fail(path, tick_st != OK, f"price is not a non-negative decimal on the tick grid of {inst.tick_size}")
    _fail(path, lot_st != OK, f"amount is not a non-negative decimal on the lot grid of {inst.lot_size}")

    block_start = is_snap & ~np.concatenate(([False], is_snap[:-1]))
    dest = np.arange(n) + np.cumsum(block_start)
    total = n + int(block_start.sum())
    clear_rows = dest[block_start] - 1
    cols = _empty(total)
    for name, values in (("ts_event", ts_event), ("ts_recv", ts_recv)):
        cols[name][dest] = values
        cols[name][clear_rows] = values[block_start]
    cols["kind"][clear_rows] = KIND_CLEAR
    cols["side"][dest] = np.where(is_bid, 1, -1)
    cols["tick"][dest] = ticks
    cols["lots"][dest] = lots
    # a message ends where the receive time (or snapshot-ness) changes
    last = np.ones(n, dtype=bool)
    last[:-1] = (ts_recv[1:] != ts_recv[:-1]) | (is_snap[1:] != is_snap[:-1])
    cols["flags"][dest[last]] = F_LAST
    stats = {
        "rows": n,
        "snapshots": int(block_start.sum()),
        "messages": int(last.sum()),
        "ts_recv_clamped": clamped,
    }
    return MarketStream(inst, source=str(path), stats=stats, **cols)


def load_tardis_trades(
    path: Path | str,
    instrument: Instrument | None = None,
    *,
    infer_grid: bool = False,
    symbol: str | None = None,
) -> MarketStream:
    """Load a ``trades`` CSV (gzip or plain); side is the aggressor (buy +1, sell -1, unknown 0)."""
    path = Path(path)
    table = _read(path, TRADE_COLUMNS, symbol)
    inst = _instrument(path, table, instrument, infer_grid)
    n = table.num_rows
    ts_event, ts_recv, clamped = _times(table)
    side_col = table.column("side")
    buy = pc.equal(side_col, "buy").to_numpy(zero_copy_only=False)
    sell = pc.equal(side_col, "sell").to_numpy(zero_copy_only=False)
    unknown = pc.equal(side_col, "unknown").to_numpy(zero_copy_only=False)
    ticks, tick_st = scale_arrow_strings(table.column("price"), inst.tick_size)
    lots, lot_st = scale_arrow_strings(table.column("amount"), inst.lot_size)
    _fail(path, ~(buy | sell | unknown), "side is not buy, sell or unknown")
    _fail(path, tick_st != OK, f"price is not a non-negative decimal on the tick grid of {inst.tick_size}")
    _fail(path, lot_st != OK, f"amount is not a non-negative decimal on the lot grid of {inst.lot_size}")
    ids = table.column("id")
    numeric = bool(pc.all(pc.match_substring_regex(ids, r"^[0-9]{1,18}$")).as_py()) if n else True
    cols = _empty(n)
    cols["ts_event"][:] = ts_event
    cols["ts_recv"][:] = ts_recv
    cols["kind"][:] = KIND_TRADE
    cols["side"][:] = buy.astype(np.int8) - sell.astype(np.int8)
    cols["tick"][:] = ticks
    cols["lots"][:] = lots
    if numeric:
        cols["update_id"][:] = ids.cast(pa.int64()).to_numpy()
    last = np.ones(n, dtype=bool)
    last[:-1] = ts_recv[1:] != ts_recv[:-1]
    cols["flags"][last] = F_LAST
    stats = {"rows": n, "trades": n, "trade_ids_not_numeric": 0 if numeric else n, "ts_recv_clamped": clamped}
    return MarketStream(inst, source=str(path), stats=stats, **cols)


def _read(path: Path, columns: list[str], symbol: str | None) -> pa.Table:
    types = {name: pa.string() for name in columns} | {"timestamp": pa.int64(), "local_timestamp": pa.int64()}
    try:
        table = pacsv.read_csv(
            path, convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False)
        )
    except FileNotFoundError:
        raise DataError("file not found", source=str(path)) from None
    except (pa.ArrowInvalid, OSError, EOFError) as exc:
        raise DataError(f"not a Tardis CSV: {exc}", source=str(path)) from None
    header = checked_header(table, path)
    if header != columns:
        raise DataError(f"header is {header}, expected {columns}", source=str(path))
    for name in ("timestamp", "local_timestamp"):
        if table.column(name).null_count:
            raise DataError(f"column {name} has empty values", source=str(path))
    symbols = pc.unique(table.column("symbol")).to_pylist()
    if symbol is not None:
        table = table.filter(pc.equal(table.column("symbol"), symbol))
        if table.num_rows == 0:
            raise DataError(f"no rows for symbol {symbol} (the file has {symbols})", source=str(path))
    elif len(symbols) > 1:
        raise DataError(f"the file holds several symbols {symbols}; pass symbol=", source=str(path))
    return table


def _instrument(path: Path, table: pa.Table, instrument: Instrument | None, infer_grid: bool) -> Instrument:
    if instrument is not None:
        return instrument
    if not infer_grid:
        raise DataError("Tardis files do not say their tick and lot size: pass instrument= or infer_grid=True",
                        source=str(path))  # fmt: skip
    if table.num_rows == 0:
        raise DataError("cannot infer a grid from an empty file", source=str(path))
    return grid_instrument(
        str(table.column("exchange")[0]),
        str(table.column("symbol")[0]),
        finest_step(table.column("price").to_pylist()),
        finest_step(table.column("amount").to_pylist()),
    )


def _times(table: pa.Table) -> tuple[np.ndarray, np.ndarray, int]:
    """(ts_event ns, ts_recv ns kept non-decreasing, how many receive times were raised to keep order)."""
    ts_event = table.column("timestamp").to_numpy() * 1_000
    raw = table.column("local_timestamp").to_numpy() * 1_000
    ts_recv = np.maximum.accumulate(raw) if len(raw) else raw
    return ts_event, ts_recv, int(np.count_nonzero(ts_recv != raw))


def _empty(total: int) -> dict[str, np.ndarray]:
    return {
        "ts_event": np.zeros(total, dtype=np.int64),
        "ts_recv": np.zeros(total, dtype=np.int64),
        "kind": np.full(total, KIND_DELTA, dtype=np.int8),
        "side": np.zeros(total, dtype=np.int8),
        "tick": np.zeros(total, dtype=np.int64),
        "lots": np.zeros(total, dtype=np.int64),
        "flags": np.zeros(total, dtype=np.int8),
        "update_id": np.zeros(total, dtype=np.int64),
    }


def _fail(path: Path, rows: np.ndarray, what: str) -> None:
    bad = np.flatnonzero(rows)
    if len(bad):
        raise DataError(f"{what} ({len(bad)} rows like this)", source=str(path), line=int(bad[0]) + 2)
