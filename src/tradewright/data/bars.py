"""Bar loaders: every OHLCV format in ../shared/data/bars, into one columnar `BarSeries`.

Loading is vectorised (pyarrow + numpy; no pandas). Prices are parsed twice from the file's own
text: to float64 for indicators, and, when an `Instrument` is given, exactly to integer ticks
(a price off the tick grid is a `DataError`, never rounded). Binary sources (feather) hold floats;
there a float counts as on the grid when it is within `FLOAT_NOISE_ULPS` of the double nearest a
grid price.

Timestamps become ``ts_open_ns``, the bar's open time in UTC ns. Formats stamped at the bar's close
are shifted back by one interval (`stamped_at="close"`): backtrader's intraday files (the first
5-minute bar of a 09:00 session is stamped 09:05) and the CME 6EH4 file (each day's last bar is
22:00 and the first after the 22:00-23:00 UTC halt is 23:01). Files without a time zone (backtrader)
are read as UTC wall-clock labels.

Every row is checked: parseable, finite prices, ``low <= min(open, close)``, ``high >= max(open, close)``,
volume >= 0 (NaN when the file has no volume), strictly increasing timestamps. The first bad row
raises `DataError` naming the file and the line (or the row, for binary files).
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.feather as feather

from tradewright.core.errors import DataError
from tradewright.data._parse import checked_header
from tradewright.model.instrument import Instrument

__all__ = [
    "BarSeries",
    "StampedAt",
    "load_backtrader_csv",
    "load_bars",
    "load_bench_bars",
    "load_binance_klines",
    "load_freqtrade_feather",
    "load_freqtrade_json",
    "load_nautilus_csv",
]

StampedAt = Literal["open", "close"]
PRICE_COLUMNS = ("open", "high", "low", "close")
FLOAT_NOISE_ULPS = 4
"""How far (in units in the last place) a float price may sit from the double nearest its grid price.

Float files carry the arithmetic noise of whoever wrote them: freqtrade's 2018 candles hold
0.0016200000000000001 for 0.00162, up to 2 ulps off. A genuinely off-grid price is off by a large
fraction of a tick, many orders of magnitude more."""


@dataclass(frozen=True, slots=True)
class BarSeries:
    """One instrument's bars as parallel read-only arrays.

    `ts_open_ns` (int64) is each bar's open time; `open`..`volume` are float64 (volume NaN when the
    source has none). `interval_ns` is the bar length (the smallest step between bars unless the
    loader was told). When loaded with an `instrument`, `*_ticks` hold the exact prices as int64
    tick counts (``instrument.ticks_to_price(t)`` gives the Decimal back); otherwise they are None.
    """

    ts_open_ns: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    interval_ns: int
    source: str = ""
    instrument: Instrument | None = None
    open_ticks: np.ndarray | None = None
    high_ticks: np.ndarray | None = None
    low_ticks: np.ndarray | None = None
    close_ticks: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.ts_open_ns)
        for name in ("ts_open_ns", *PRICE_COLUMNS, "volume", *(f"{c}_ticks" for c in PRICE_COLUMNS)):
            arr: np.ndarray | None = getattr(self, name)
            if arr is None:
                continue
            if len(arr) != n:
                raise ValueError(f"BarSeries.{name} has {len(arr)} rows, ts_open_ns has {n}")
            arr.setflags(write=False)
        if (self.open_ticks is None) != (self.instrument is None):
            raise ValueError("BarSeries tick arrays and instrument must be given together")

    def __len__(self) -> int:
        return len(self.ts_open_ns)

    @property
    def ts_close_ns(self) -> np.ndarray:
        """Each bar's close time (open time + `interval_ns`)."""
        result: np.ndarray = self.ts_open_ns + self.interval_ns
        return result

    @property
    def has_ticks(self) -> bool:
        return self.instrument is not None

    def slice(self, start: int, stop: int) -> BarSeries:
        """Return rows [start, stop) as views of the same arrays."""

        def cut(arr: np.ndarray | None) -> np.ndarray | None:
            return None if arr is None else arr[start:stop]

        return replace(
            self,
            ts_open_ns=self.ts_open_ns[start:stop],
            open=self.open[start:stop],
            high=self.high[start:stop],
            low=self.low[start:stop],
            close=self.close[start:stop],
            volume=self.volume[start:stop],
            open_ticks=cut(self.open_ticks),
            high_ticks=cut(self.high_ticks),
            low_ticks=cut(self.low_ticks),
            close_ticks=cut(self.close_ticks),
        )


# --- public loaders ---------------------------------------------------------------------------


def load_bars(
    path: str | Path,
    instrument: Instrument | None = None,
    *,
    stamped_at: StampedAt | None = None,
    interval_ns: int | None = None,
) -> BarSeries:
    """Load any bar file in a known format, chosen by its name and first line.

    `stamped_at=None` takes the format's convention (see the module docstring); pass
    ``"close"`` for close-stamped nautilus-style CSVs such as the 6EH4 file.
    """
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".feather"):
        return load_freqtrade_feather(path, instrument, interval_ns=interval_ns)
    if name.endswith((".json", ".json.gz")):
        return load_freqtrade_json(path, instrument, interval_ns=interval_ns)
    if name.endswith((".txt", ".txt.gz")):
        return load_backtrader_csv(path, instrument, stamped_at=stamped_at, interval_ns=interval_ns)
    header = _first_line(path)
    if header[:1].isdigit():
        return load_binance_klines(path, instrument)
    if header.split(",")[0].strip() == "ts":
        return load_bench_bars(path, instrument)
    return load_nautilus_csv(path, instrument, stamped_at=stamped_at or "open", interval_ns=interval_ns)


def load_nautilus_csv(
    path: str | Path,
    instrument: Instrument | None = None,
    *,
    stamped_at: StampedAt = "open",
    interval_ns: int | None = None,
) -> BarSeries:
    """Load a nautilus test-data bar CSV: a timestamp column first, then open, high, low, close[, volume].

    The timestamp is ISO text, naive (read as UTC) or with an offset (FXCM's ``+00:00``).
    """
    path = Path(path)
    table = _read_csv(path)
    where = _TextRows(path, header_lines=1)
    ts_col = table.column_names[0]
    _require(table, (ts_col, *PRICE_COLUMNS), where)
    ts = _timestamps(table[ts_col], where)
    return _build(table, ts, where, instrument, stamped_at=stamped_at, interval_ns=interval_ns)


def load_binance_klines(path: str | Path, instrument: Instrument | None = None) -> BarSeries:
    """Load a Binance kline CSV without header (open_time ms, open, high, low, close, volume, close_time ms, ...).

    The interval is exact: ``close_time - open_time + 1 ms``. Volume is in the base asset.
    """
    path = Path(path)
    names = ["open_time", *PRICE_COLUMNS, "volume", "close_time", "quote_volume", "trades",
             "taker_base", "taker_quote", "ignore"]  # fmt: skip
    table = _read_csv(path, names=names)
    where = _TextRows(path, header_lines=0)
    open_ms = _integers(table["open_time"], "open_time", where)
    close_ms = _integers(table["close_time"], "close_time", where)
    _ms_to_ns(close_ms, "close_time", where)  # in range (checked before the subtraction can wrap)
    open_ns = _ms_to_ns(open_ms, "open_time", where)
    lengths = close_ms - open_ms + 1
    if len(lengths) and (lengths != lengths[0]).any():
        row = int(np.argmax(lengths != lengths[0]))
        raise where.error(row, f"bar length {lengths[row]} ms differs from the first bar's {lengths[0]} ms")
    interval = int(lengths[0]) * 1_000_000 if len(lengths) else 0
    return _build(
        table,
        open_ns,
        where,
        instrument,
        stamped_at="open",
        interval_ns=interval,
    )


def load_freqtrade_feather(
    path: str | Path, instrument: Instrument | None = None, *, interval_ns: int | None = None
) -> BarSeries:
    """Load a freqtrade candle feather file: `date` (UTC, open time), open, high, low, close, volume floats.

    Freqtrade's funding-rate files (rate in `open`, zeros elsewhere) are not bars and are refused.
    """
    path = Path(path)
    try:
        table = feather.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataError(f"cannot read feather file: {exc}", source=str(path)) from None
    where = _BinaryRows(path)
    _require(table, ("date", *PRICE_COLUMNS), where)
    date = table["date"]
    if not pa.types.is_timestamp(date.type):
        raise DataError(f"column 'date' has type {date.type}, expected a timestamp", source=str(path))
    if date.null_count:
        raise where.error(_first_null(date), "date is missing")
    ts = _as_numpy(pc.cast(date, pa.timestamp("ns", tz="UTC")).cast(pa.int64()))
    return _build(table, ts, where, instrument, stamped_at="open", interval_ns=interval_ns)


def load_freqtrade_json(
    path: str | Path, instrument: Instrument | None = None, *, interval_ns: int | None = None
) -> BarSeries:
    """Load pandas ``to_json(orient="columns")`` candles (`date` in epoch ms, open time), e.g. orderflow_candles.json.gz.

    Prices keep their decimal text (parsed exactly), as in the CSV formats.
    """
    path = Path(path)
    try:
        with _open_text(path) as fh:
            doc = json.load(fh, parse_float=str)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read JSON: {exc}", source=str(path)) from None
    if not isinstance(doc, dict) or "date" not in doc or not isinstance(doc["date"], dict):
        raise DataError('expected pandas orient="columns" JSON with a "date" object', source=str(path))
    keys = list(doc["date"])
    if all(key.isdigit() for key in keys):
        keys.sort(key=int)
    where = _BinaryRows(path, labels=keys)
    columns: dict[str, pa.Array] = {}
    for name, values in doc.items():
        if not isinstance(values, dict) or values.keys() != doc["date"].keys():
            raise DataError(f'column "{name}" does not have the same rows as "date"', source=str(path))
        columns[name] = pa.array([None if values[k] is None else str(values[k]) for k in keys], pa.string())
    table = pa.table(columns)
    _require(table, ("date", *PRICE_COLUMNS), where)
    ts = _ms_to_ns(_integers(table["date"], "date", where), "date", where)
    return _build(table, ts, where, instrument, stamped_at="open", interval_ns=interval_ns)


def load_backtrader_csv(
    path: str | Path,
    instrument: Instrument | None = None,
    *,
    stamped_at: StampedAt | None = None,
    interval_ns: int | None = None,
) -> BarSeries:
    """Load a backtrader data file: ``Date[,Time],Open,High,Low,Close[,Adj Close],Volume[,OpenInterest]``.

    Rows with one field more than the header and a time second are read as ``Date,Time,...`` (the
    2006-01-02 1-minute file's header omits Time). Daily bars are stamped at the open (the date);
    intraday bars at the close unless `stamped_at` says otherwise. `Adj Close` is ignored: the
    series holds the traded prices.
    """
    path = Path(path)
    header = [name.strip() for name in _first_line(path).split(",")]
    first_row = _first_data_line(path).split(",")
    if len(first_row) == len(header) + 1 and "Time" not in header and ":" in first_row[1]:
        header = [header[0], "Time", *header[1:]]
    names = [name.lower().replace(" ", "_") for name in header]
    table = _read_csv(path, names=names, skip_rows=1)
    where = _TextRows(path, header_lines=1)
    _require(table, ("date", *PRICE_COLUMNS), where)
    stamp = table["date"]
    intraday = "time" in names
    if intraday:
        stamp = pc.binary_join_element_wise(table["date"], table["time"], " ")
    ts = _timestamps(stamp, where)
    if stamped_at is None:
        stamped_at = "close" if intraday else "open"
    return _build(table, ts, where, instrument, stamped_at=stamped_at, interval_ns=interval_ns)


def load_bench_bars(path: str | Path, instrument: Instrument | None = None) -> BarSeries:
    """Load the benchmark bar stream (``ts,open,high,low,close,volume``; ts ISO UTC, bar open time)."""
    path = Path(path)
    table = _read_csv(path)
    where = _TextRows(path, header_lines=1)
    _require(table, ("ts", *PRICE_COLUMNS, "volume"), where)
    ts = _timestamps(table["ts"], where)
    return _build(table, ts, where, instrument, stamped_at="open", interval_ns=None)


# --- error locations --------------------------------------------------------------------------


class _TextRows:
    """Turn a data-row index into the file's physical line number for error messages."""

    def __init__(self, path: Path, header_lines: int) -> None:
        self.path = path
        self.header_lines = header_lines

    def line_of(self, row: int) -> int:
        # pyarrow skips blank lines, so count non-blank lines after the header.
        seen = -1
        for number, line in enumerate(_lines(self.path), start=1):
            if number <= self.header_lines or not line.strip():
                continue
            seen += 1
            if seen == row:
                return number
        return self.header_lines + row + 1

    def error(self, row: int, message: str) -> DataError:
        return DataError(message, source=str(self.path), line=self.line_of(row))

    def parse_error(self, expected_fields: int, detail: str) -> DataError:
        for number, line in enumerate(_lines(self.path), start=1):
            if number > self.header_lines and line.strip() and line.count(",") + 1 != expected_fields:
                return DataError(
                    f"expected {expected_fields} fields, got {line.count(',') + 1}",
                    source=str(self.path),
                    line=number,
                )
        return DataError(f"cannot parse CSV: {detail}", source=str(self.path))


class _BinaryRows:
    """Name rows of binary or JSON sources by index (or by the JSON's own row key)."""

    def __init__(self, path: Path, labels: list[str] | None = None) -> None:
        self.path = path
        self.labels = labels

    def error(self, row: int, message: str) -> DataError:
        label = row if self.labels is None else repr(self.labels[row])
        return DataError(f"row {label}: {message}", source=str(self.path))


_Where = _TextRows | _BinaryRows


# --- parsing helpers --------------------------------------------------------------------------


def _open_text(path: Path) -> IO[str]:
    # Bytes that are not UTF-8 are shown as U+FFFD here (the header, error line numbers); the column
    # parser refuses them, naming the line.
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return path.open(encoding="utf-8", errors="replace")


def _lines(path: Path) -> Iterator[str]:
    with _open_text(path) as fh:
        yield from fh


def _first_line(path: Path) -> str:
    for line in _lines(path):
        return line.strip().lstrip("\ufeff")
    raise DataError("file is empty", source=str(path))


def _first_data_line(path: Path) -> str:
    for number, line in enumerate(_lines(path)):
        if number >= 1 and line.strip():
            return line.strip()
    raise DataError("file has a header but no rows", source=str(path))


def _read_csv(path: Path, *, names: list[str] | None = None, skip_rows: int = 0) -> pa.Table:
    """Read every column as text; conversion happens per column so errors can name the row."""
    read = pcsv.ReadOptions(column_names=names, skip_rows=skip_rows)
    try:
        if names is None:
            header = [n.strip() for n in _first_line(path).split(",")]
            convert = pcsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string()))
        else:
            convert = pcsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
        table = pcsv.read_csv(path, read_options=read, convert_options=convert)
        checked_header(table, path)  # a header that is not UTF-8 fails here, not at first use
        return table
    except pa.ArrowInvalid as exc:
        expected = len(names) if names is not None else len(_first_line(path).split(","))
        header_lines = 0 if names is not None and skip_rows == 0 else 1
        raise _TextRows(path, header_lines).parse_error(expected, str(exc)) from None


def _require(table: pa.Table, columns: tuple[str, ...], where: _Where) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise DataError(f"missing column(s) {', '.join(missing)}; found {', '.join(table.column_names)}",
                        source=str(where.path))  # fmt: skip


def _as_numpy(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    result: np.ndarray = column.to_numpy(zero_copy_only=False)
    return result


def _first_null(column: pa.ChunkedArray | pa.Array) -> int:
    return int(np.argmax(_as_numpy(pc.is_null(column))))


def _convert(
    column: pa.ChunkedArray,
    to: pa.DataType,
    what: str,
    where: _Where,
    check: Callable[[str], object],
) -> pa.ChunkedArray:
    """Cast text to `to`; on failure find the first row `check` rejects and name it."""
    if column.null_count:
        raise where.error(_first_null(column), f"{what} is missing")
    try:
        return pc.cast(column, to)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as failed:
        for row, text in enumerate(column.to_pylist()):
            try:
                check(text)
            except (ValueError, ArithmeticError) as exc:
                raise where.error(row, f"{what} {text[:80]!r} is invalid: {exc}") from None
        # Python's parsers take what Arrow's do not (``1_000``, Unicode digits): name Arrow's reason
        raise DataError(f"{what}: {str(failed)[:200]}", source=str(where.path)) from None


def _timestamps(column: pa.ChunkedArray, where: _Where) -> np.ndarray:
    """Parse ISO timestamps to UTC ns: naive ones are read as UTC, offsets (``Z``, ``+00:00``) are honoured."""
    if column.null_count:
        raise where.error(_first_null(column), "timestamp is missing")
    for target in (pa.timestamp("ns"), pa.timestamp("ns", tz="UTC")):
        try:
            return _as_numpy(pc.cast(column, target).cast(pa.int64()))
        except pa.ArrowInvalid:
            continue
    aware: bool | None = None
    for row, text in enumerate(column.to_pylist()):
        try:
            value = datetime.fromisoformat(text)
        except ValueError as exc:
            raise where.error(row, f"timestamp {text!r} is invalid: {exc}") from None
        if aware is None:
            aware = value.tzinfo is not None
        elif aware != (value.tzinfo is not None):
            raise where.error(row, f"timestamp {text!r}: some rows have a time zone and others do not")
    raise DataError("timestamps cannot be parsed", source=str(where.path))


_MAX_MS = (2**63 - 1) // 1_000_000
_INT_TEXT = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)
_FLOAT_TEXT = re.compile(
    r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*|(?i:[+-]?(nan|inf|infinity))", re.ASCII
)


def _checked(pattern: re.Pattern[str], convert: Callable[[str], object]) -> Callable[[str], object]:
    """A per-row check as strict as Arrow's number parser (Python's also takes ``1_000`` and ``١``)."""

    def check(text: str) -> object:
        if not pattern.fullmatch(text):
            raise ValueError("not a number")
        return convert(text)

    return check


def _ms_to_ns(ms: np.ndarray, what: str, where: _Where) -> np.ndarray:
    """Milliseconds to nanoseconds, refusing times that int64 nanoseconds cannot hold (they would wrap)."""
    bad = (ms < 0) | (ms > _MAX_MS)
    if bad.any():
        row = int(np.argmax(bad))
        raise where.error(row, f"{what} {int(ms[row])} ms is outside 0..{_MAX_MS} (int64 nanoseconds)")
    result: np.ndarray = ms * 1_000_000
    return result


def _integers(column: pa.ChunkedArray, what: str, where: _Where) -> np.ndarray:
    return _as_numpy(_convert(column, pa.int64(), what, where, _checked(_INT_TEXT, int)))


def _floats(column: pa.ChunkedArray, what: str, where: _Where) -> np.ndarray:
    if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
        return _as_numpy(column.cast(pa.float64()))
    return _as_numpy(_convert(column, pa.float64(), what, where, _checked(_FLOAT_TEXT, float)))


def _tick_scale(tick_size: Decimal) -> tuple[int, int]:
    """Write the tick as ``m / 10**s`` with integer m and s >= 0."""
    exponent = tick_size.as_tuple().exponent
    scale = max(0, -exponent) if isinstance(exponent, int) else 0
    return int(tick_size.scaleb(scale)), scale


def _ticks_from_text(column: pa.ChunkedArray, tick_size: Decimal, what: str, where: _Where) -> np.ndarray:
    """Exact decimal text -> ticks; a price with more digits than the tick, or off its multiple, is an error."""
    m, scale = _tick_scale(tick_size)

    def check(text: str) -> object:
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError("not a number") from None
        if not value.is_finite() or value % tick_size != 0:
            raise ValueError(f"not on the tick grid of {tick_size}")
        return value

    exact = _convert(column, pa.decimal128(38, scale), what, where, check).combine_chunks()
    words = np.frombuffer(exact.buffers()[1], dtype="<i8")[2 * exact.offset : 2 * (exact.offset + len(exact))]
    low, high = words[0::2], words[1::2]
    if not np.array_equal(high, low >> 63):
        raise where.error(int(np.argmax(high != (low >> 63))), f"{what} is too large for 64-bit ticks")
    off_grid = low % m != 0
    if off_grid.any():
        row = int(np.argmax(off_grid))
        text = column[row].as_py()
        raise where.error(row, f"{what} {text!r} is invalid: not on the tick grid of {tick_size}")
    result: np.ndarray = low // m
    return result


def _ticks_from_floats(values: np.ndarray, tick_size: Decimal, what: str, where: _Where) -> np.ndarray:
    """Floats -> ticks: each float must lie within `FLOAT_NOISE_ULPS` of the double nearest a grid price."""
    m, scale = _tick_scale(tick_size)
    if scale > 22:
        raise DataError(f"tick size {tick_size} is too fine for float prices", source=str(where.path))
    denominator = 10.0**scale  # exact for scale <= 22
    ticks = np.rint(values * denominator / m)
    units = ticks * m
    if len(units) and np.abs(units).max() >= 2.0**53:
        raise DataError(f"{what} too large to check against the tick grid exactly", source=str(where.path))
    # units and the power of ten are exact doubles, so one IEEE division is the correctly rounded
    # grid price; the stored float may sit a few ulps away from it (see FLOAT_NOISE_ULPS).
    grid = units / denominator
    off_grid = np.abs(values - grid) > FLOAT_NOISE_ULPS * np.spacing(np.abs(grid))
    if off_grid.any():
        row = int(np.argmax(off_grid))
        raise where.error(row, f"{what} {float(values[row])!r} is not on the tick grid of {tick_size}")
    result: np.ndarray = ticks.astype(np.int64)
    return result


def _infer_interval(ts: np.ndarray) -> int:
    steps = np.diff(ts)
    positive = steps[steps > 0]
    return int(positive.min()) if len(positive) else 0


def _build(
    table: pa.Table,
    ts: np.ndarray,
    where: _Where,
    instrument: Instrument | None,
    *,
    stamped_at: StampedAt,
    interval_ns: int | None,
) -> BarSeries:
    prices = {name: _floats(table[name], name, where) for name in PRICE_COLUMNS}
    if "volume" in table.column_names:
        volume = _floats(table["volume"], "volume", where)
    else:
        volume = np.full(len(ts), np.nan)
    _validate(ts, prices, volume, where)
    interval = _infer_interval(ts) if interval_ns is None else interval_ns
    if stamped_at == "close":
        if interval <= 0:
            raise DataError("cannot shift close stamps to open times: the bar interval is unknown",
                            source=str(where.path))  # fmt: skip
        ts = ts - interval
    ticks: dict[str, np.ndarray] = {}
    if instrument is not None:
        for name in PRICE_COLUMNS:
            column = table[name]
            if pa.types.is_floating(column.type):
                ticks[name] = _ticks_from_floats(prices[name], instrument.tick_size, name, where)
            else:
                ticks[name] = _ticks_from_text(column, instrument.tick_size, name, where)
    return BarSeries(
        ts_open_ns=np.ascontiguousarray(ts, dtype=np.int64),
        open=prices["open"],
        high=prices["high"],
        low=prices["low"],
        close=prices["close"],
        volume=volume,
        interval_ns=interval,
        source=str(where.path),
        instrument=instrument,
        open_ticks=ticks.get("open"),
        high_ticks=ticks.get("high"),
        low_ticks=ticks.get("low"),
        close_ticks=ticks.get("close"),
    )


def _validate(ts: np.ndarray, prices: dict[str, np.ndarray], volume: np.ndarray, where: _Where) -> None:
    """Raise `DataError` at the first row that is not a well-formed bar."""
    o, h, lo, c = (prices[name] for name in PRICE_COLUMNS)

    def num(arr: np.ndarray, row: int) -> str:
        return repr(float(arr[row]))

    problems: list[tuple[np.ndarray, Callable[[int], str]]] = [
        (
            ~(np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c)),
            lambda r: "price is not finite",
        ),
        (h < np.maximum(o, c), lambda r: f"high {num(h, r)} is below open {num(o, r)} or close {num(c, r)}"),
        (lo > np.minimum(o, c), lambda r: f"low {num(lo, r)} is above open {num(o, r)} or close {num(c, r)}"),
        (
            ~(np.isnan(volume) | ((volume >= 0) & np.isfinite(volume))),
            lambda r: f"volume {num(volume, r)} is invalid",
        ),
        (
            np.r_[False, np.diff(ts) <= 0],
            lambda r: f"timestamp {ts[r]} ns is not after the previous {ts[r - 1]} ns",
        ),
    ]
    bad_rows = [(int(np.argmax(mask)), describe) for mask, describe in problems if mask.any()]
    if bad_rows:
        row, describe = min(bad_rows, key=lambda item: item[0])
        raise where.error(row, describe(row))
