"""Load the CME E-mini S&P 500 benchmark streams (../shared/data/bench/es_l2_*.csv.gz).

Columns ``ts,kind,side,px,qty``: ``ts`` ns UTC; ``kind`` S (snapshot level), D (level update: ``qty`` is
the new total, 0 deletes) or T (trade: ``qty`` traded, ``side`` the aggressor or 0); ``px`` a decimal
price on the 0.25 grid. Parsing is columnar (pyarrow.csv, then compiled exact decimal scaling): no
Python work per row.

Rows: each block of S rows becomes KIND_CLEAR followed by KIND_DELTA rows; D rows are KIND_DELTA; T rows
KIND_TRADE. All rows that share a ``ts`` form one message, whose last row carries F_LAST. There is no
separate venue time or sequence id, so ``ts_event == ts_recv == ts`` and ``update_id`` is 0.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from tradewright.core.errors import DataError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.data._parse import OK, checked_header, scale_arrow_strings
from tradewright.model.columnar import F_LAST, KIND_CLEAR, KIND_DELTA, KIND_TRADE, MarketStream
from tradewright.model.instrument import Instrument, InstrumentKind

__all__ = ["ES_INSTRUMENT", "load_es_l2"]

#: ESH4 (March 2024 E-mini S&P 500): last trade 2024-03-15 09:30 ET = 13:30 UTC. Exchange fees are per
#: contract, which the instrument's fee rates cannot express, so they are left at 0 here.
ES_INSTRUMENT = Instrument(
    id=InstrumentId("ESH4", Venue("CME")),
    kind=InstrumentKind.FUTURE,
    base="ES",
    quote="USD",
    settle="USD",
    tick_size=Decimal("0.25"),
    lot_size=Decimal(1),
    min_size=Decimal(1),
    multiplier=Decimal(50),
    expiry_ns=1_710_509_400_000_000_000,
)

_HEADER = ["ts", "kind", "side", "px", "qty"]


def load_es_l2(path: Path | str, instrument: Instrument = ES_INSTRUMENT) -> MarketStream:
    """Load one benchmark CSV (gzip or plain) into a stream; malformed rows raise `DataError`."""
    path = Path(path)
    table = _read(path)
    n = table.num_rows
    ts = table.column("ts").to_numpy()
    side = table.column("side").to_numpy().astype(np.int8)
    qty = table.column("qty").to_numpy()
    kind_col = table.column("kind")
    is_s = pc.equal(kind_col, "S").to_numpy(zero_copy_only=False)
    is_d = pc.equal(kind_col, "D").to_numpy(zero_copy_only=False)
    is_t = pc.equal(kind_col, "T").to_numpy(zero_copy_only=False)
    ticks, status = scale_arrow_strings(table.column("px"), instrument.tick_size)

    def fail(rows: np.ndarray, what: str) -> None:
        bad = np.flatnonzero(rows)
        if len(bad):
            line = int(bad[0]) + 2  # 1-based, after the header
            raise DataError(f"{what} ({len(bad)} rows like this)", source=str(path), line=line)

    fail(~(is_s | is_d | is_t), "kind is not S, D or T")
    fail(status != OK, f"price is not a non-negative decimal on the tick grid of {instrument.tick_size}")
    fail(qty < 0, "qty is negative")
    fail((is_s | is_d) & (np.abs(side) != 1), "a book row's side is not +1 or -1")
    fail(is_t & (np.abs(side) > 1), "a trade's side is not +1, -1 or 0")
    fail(np.diff(ts) < 0, "ts goes backwards")

    block_start = is_s & ~np.concatenate(([False], is_s[:-1]))  # each snapshot starts with a CLEAR
    dest = np.arange(n) + np.cumsum(block_start)
    total = n + int(block_start.sum())
    kind = np.full(total, KIND_DELTA, dtype=np.int8)
    kind[dest[is_t]] = KIND_TRADE
    kind[dest[block_start] - 1] = KIND_CLEAR
    cols = {
        "ts_event": np.empty(total, dtype=np.int64),
        "ts_recv": np.empty(total, dtype=np.int64),
        "kind": kind,
        "side": np.zeros(total, dtype=np.int8),
        "tick": np.zeros(total, dtype=np.int64),
        "lots": np.zeros(total, dtype=np.int64),
        "flags": np.zeros(total, dtype=np.int8),
        "update_id": np.zeros(total, dtype=np.int64),
    }
    clear_rows = dest[block_start] - 1
    cols["ts_recv"][dest] = ts
    cols["ts_recv"][clear_rows] = ts[block_start]
    cols["ts_event"][:] = cols["ts_recv"]
    cols["side"][dest] = side
    cols["tick"][dest] = ticks
    cols["lots"][dest] = qty  # lot size 1: a quantity is already a number of lots
    if instrument.lot_size != 1:
        raise DataError(f"{instrument.id}: the benchmark's quantities are contracts; lot size must be 1")
    last = np.ones(n, dtype=bool)
    last[:-1] = ts[1:] != ts[:-1]
    cols["flags"][dest[last]] = F_LAST
    stats = {
        "rows": n,
        "snapshot_levels": int(is_s.sum()),
        "level_updates": int(is_d.sum()),
        "trades": int(is_t.sum()),
        "messages": int(last.sum()),
    }
    return MarketStream(instrument, source=str(path), stats=stats, **cols)


def _read(path: Path) -> pa.Table:
    try:
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types={"ts": pa.int64(), "kind": pa.string(), "side": pa.int64(), "px": pa.string(),
                              "qty": pa.int64()},
                strings_can_be_null=False,
            ),
        )  # fmt: skip
    except FileNotFoundError:
        raise DataError("file not found", source=str(path)) from None
    except (pa.ArrowInvalid, OSError, EOFError) as exc:
        raise DataError(f"not a benchmark CSV: {exc}", source=str(path)) from None
    header = checked_header(table, path)
    if header != _HEADER:
        raise DataError(f"header is {header}, expected {_HEADER}", source=str(path))
    for name in ("ts", "side", "qty"):
        if table.column(name).null_count:
            raise DataError(f"column {name} has empty values", source=str(path))
    return table
