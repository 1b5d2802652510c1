"""Load a backtest or paper run folder into typed records, refusing anything malformed.

The folder layout and the CSV columns are documented in docs/architecture.md ("Run outputs"). Every
file is validated completely before anything is returned, so a report is drawn from a whole run or not
at all: a missing file, a wrong header, a short or long row, a value that does not parse, a timestamp
that goes backwards, a duplicated id or a file cut off mid-row (no final newline) raises `DataError`
naming the file and the line.

Money and sizes stay exact `Decimal`s; timestamps are integer UTC nanoseconds.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import re
import tomllib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import msgspec
import numpy as np
import numpy.typing as npt

from tradewright.analysis.recorder import EQUITY_COLUMNS as RECORDED_EQUITY_COLUMNS
from tradewright.analysis.recorder import FILL_COLUMNS
from tradewright.analysis.run_folder import ORDER_COLUMNS
from tradewright.core.errors import DataError
from tradewright.core.ids import InstrumentId
from tradewright.model.enums import LiquiditySide, OrderSide, OrderStatus, OrderType, TimeInForce

__all__ = [
    "EQUITY_COLUMNS",
    "FILLS_COLUMNS",
    "FILLS_OPTIONAL_COLUMNS",
    "ORDERS_COLUMNS",
    "EquityTable",
    "FillRecord",
    "OrderRecord",
    "RunOutputs",
    "load_run",
    "read_equity",
    "read_fills",
    "read_orders",
]

# The loader reads exactly what the writers write: one definition of each header.
ORDERS_COLUMNS = ORDER_COLUMNS
FILLS_COLUMNS = FILL_COLUMNS
#: Journal tags a strategy may add to its fills; each may be absent, and an empty cell means "untagged".
FILLS_OPTIONAL_COLUMNS = ("tag_regime", "tag_reason", "risk_r")
EQUITY_COLUMNS = RECORDED_EQUITY_COLUMNS

_E = TypeVar("_E", bound=enum.Enum)
# What the writers emit: plain integers, and decimals as str(Decimal) prints them ("-1.50", "1E+2").
# Python's own parsers also take " 1", "1_000", "Infinity": in a run file those mean garbling.
_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?")


class OrderRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One row of orders.csv: an order's final state. `price` is None for market orders."""

    client_order_id: str
    instrument_id: InstrumentId
    side: OrderSide
    order_type: OrderType
    time_in_force: TimeInForce
    post_only: bool
    reduce_only: bool
    price: Decimal | None
    quantity: Decimal
    status: OrderStatus
    filled_qty: Decimal
    avg_px: Decimal | None
    fees: Decimal
    ts_init_ns: int
    ts_last_ns: int
    reason: str


class FillRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One row of fills.csv. `position_after` is signed (long > 0); `line` is its line in the file."""

    ts_event_ns: int
    client_order_id: str
    venue_order_id: str
    trade_id: str
    instrument_id: InstrumentId
    side: OrderSide
    price: Decimal
    quantity: Decimal
    liquidity: LiquiditySide
    fee: Decimal
    fee_currency: str
    position_after: Decimal
    realized_pnl_after: Decimal
    tag_regime: str | None = None
    tag_reason: str | None = None
    risk_r: Decimal | None = None
    line: int = 0


class EquityTable(msgspec.Struct, frozen=True, kw_only=True):
    """equity.csv as columns, one entry per row. Empty price cells (no book, no own quote) are None."""

    source: str
    ts_ns: npt.NDArray[np.int64]
    mid: tuple[Decimal | None, ...]
    best_bid: tuple[Decimal | None, ...]
    best_ask: tuple[Decimal | None, ...]
    own_bid: tuple[Decimal | None, ...]
    own_ask: tuple[Decimal | None, ...]
    position: tuple[Decimal, ...]
    cash: tuple[Decimal, ...]
    equity: tuple[Decimal, ...]
    realized_pnl: tuple[Decimal, ...]
    unrealized_pnl: tuple[Decimal, ...]
    fees: tuple[Decimal, ...]

    def __len__(self) -> int:
        return int(self.ts_ns.size)

    @staticmethod
    def line_of(row: int) -> int:
        """Return the file line of data row `row` (the header is line 1)."""
        return row + 2

    def as_float(self, column: str) -> npt.NDArray[np.float64]:
        """Return a money/price column as float64 for plotting or returns (None becomes NaN)."""
        values: tuple[Decimal | None, ...] = getattr(self, column)
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


class RunOutputs(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a run folder holds that analysis reads."""

    path: Path
    config_text: str
    config: dict[str, Any]
    summary: dict[str, Any]
    orders: tuple[OrderRecord, ...]
    fills: tuple[FillRecord, ...]
    equity: EquityTable


def load_run(folder: str | Path) -> RunOutputs:
    """Load and validate orders.csv, fills.csv, equity.csv, summary.json and config.toml of a run."""
    path = Path(folder)
    if not path.is_dir():
        raise DataError("run folder does not exist or is not a directory", source=str(path))
    config_text = _read_text(path / "config.toml")
    try:
        config = tomllib.loads(config_text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"invalid TOML: {exc}", source=str(path / "config.toml")) from None
    return RunOutputs(
        path=path,
        config_text=config_text,
        config=config,
        summary=_read_summary(path / "summary.json"),
        orders=read_orders(path / "orders.csv"),
        fills=read_fills(path / "fills.csv"),
        equity=read_equity(path / "equity.csv"),
    )


def read_orders(path: str | Path) -> tuple[OrderRecord, ...]:
    """Read orders.csv; client order ids must be unique."""
    rows: list[OrderRecord] = []
    seen: dict[str, int] = {}
    for row in _rows(Path(path), ORDERS_COLUMNS, ()):
        coid = row.text("client_order_id", required=True)
        if coid in seen:
            row.fail(f"client_order_id {coid!r} already appeared on line {seen[coid]}")
        seen[coid] = row.line
        order_type = row.enum("order_type", OrderType)
        price = row.opt_decimal("price")
        if price is None and order_type not in (OrderType.MARKET, OrderType.STOP_MARKET):
            row.fail(f"a {order_type} order needs a price")  # a stop market order has only a trigger
        rows.append(
            OrderRecord(
                client_order_id=coid,
                instrument_id=row.instrument_id(),
                side=row.enum("side", OrderSide),
                order_type=order_type,
                time_in_force=row.enum("time_in_force", TimeInForce),
                post_only=row.boolean("post_only"),
                reduce_only=row.boolean("reduce_only"),
                price=price,
                quantity=row.decimal("quantity"),
                status=row.enum("status", OrderStatus),
                filled_qty=row.decimal("filled_qty"),
                avg_px=row.opt_decimal("avg_px"),
                fees=row.decimal("fees"),
                ts_init_ns=row.integer("ts_init_ns"),
                ts_last_ns=row.integer("ts_last_ns"),
                reason=row.text("reason"),
            )
        )
    return tuple(rows)


def read_fills(path: str | Path) -> tuple[FillRecord, ...]:
    """Read fills.csv (with any of the optional tag columns); times must not go backwards."""
    rows: list[FillRecord] = []
    trade_ids: dict[tuple[InstrumentId, str], int] = {}
    last_ts: int | None = None
    for row in _rows(Path(path), FILLS_COLUMNS, FILLS_OPTIONAL_COLUMNS):
        ts = row.integer("ts_event_ns")
        if last_ts is not None and ts < last_ts:
            row.fail(f"ts_event_ns {ts} is before the previous fill's {last_ts}")
        last_ts = ts
        iid = row.instrument_id()
        trade_id = row.text("trade_id")
        if trade_id:
            key = (iid, trade_id)
            if key in trade_ids:
                row.fail(f"trade_id {trade_id!r} of {iid} already appeared on line {trade_ids[key]}")
            trade_ids[key] = row.line
        quantity = row.decimal("quantity")
        if quantity <= 0:
            row.fail(f"quantity must be > 0, got {quantity}")
        rows.append(
            FillRecord(
                ts_event_ns=ts,
                client_order_id=row.text("client_order_id"),
                venue_order_id=row.text("venue_order_id"),
                trade_id=trade_id,
                instrument_id=iid,
                side=row.enum("side", OrderSide),
                price=row.decimal("price"),
                quantity=quantity,
                liquidity=row.enum("liquidity", LiquiditySide),
                fee=row.decimal("fee"),
                fee_currency=row.text("fee_currency", required=True),
                position_after=row.decimal("position_after"),
                realized_pnl_after=row.decimal("realized_pnl_after"),
                tag_regime=row.opt_text("tag_regime"),
                tag_reason=row.opt_text("tag_reason"),
                risk_r=row.opt_decimal("risk_r"),
                line=row.line,
            )
        )
    return tuple(rows)


def read_equity(path: str | Path) -> EquityTable:
    """Read equity.csv into columns; times must not go backwards."""
    path = Path(path)
    ts: list[int] = []
    optional: dict[str, list[Decimal | None]] = {
        c: [] for c in ("mid", "best_bid", "best_ask", "own_bid", "own_ask")
    }
    money: dict[str, list[Decimal]] = {
        c: [] for c in ("position", "cash", "equity", "realized_pnl", "unrealized_pnl", "fees")
    }
    for row in _rows(path, EQUITY_COLUMNS, ()):
        t = row.integer("ts_ns")
        if ts and t < ts[-1]:
            row.fail(f"ts_ns {t} is before the previous row's {ts[-1]}")
        ts.append(t)
        for name, opt_values in optional.items():
            opt_values.append(row.opt_decimal(name))
        for name, values in money.items():
            values.append(row.decimal(name))
    return EquityTable(
        source=str(path),
        ts_ns=np.array(ts, dtype=np.int64),
        mid=tuple(optional["mid"]),
        best_bid=tuple(optional["best_bid"]),
        best_ask=tuple(optional["best_ask"]),
        own_bid=tuple(optional["own_bid"]),
        own_ask=tuple(optional["own_ask"]),
        position=tuple(money["position"]),
        cash=tuple(money["cash"]),
        equity=tuple(money["equity"]),
        realized_pnl=tuple(money["realized_pnl"]),
        unrealized_pnl=tuple(money["unrealized_pnl"]),
        fees=tuple(money["fees"]),
    )


# --- parsing ------------------------------------------------------------------------------------------


class _Row:
    """One CSV data row with typed accessors that fail naming the file, line and column."""

    __slots__ = ("_cells", "line", "source")

    def __init__(self, source: str, line: int, cells: dict[str, str]) -> None:
        self.source = source
        self.line = line
        self._cells = cells

    def fail(self, message: str) -> NoReturn:
        raise DataError(message, source=self.source, line=self.line)

    def _bad(self, column: str, expected: str) -> DataError:
        return DataError(
            f"column {column!r}: {self._cells[column]!r} is not {expected}",
            source=self.source,
            line=self.line,
        )

    def text(self, column: str, *, required: bool = False) -> str:
        value = self._cells[column]
        if required and not value:
            self.fail(f"column {column!r} must not be empty")
        return value

    def opt_text(self, column: str) -> str | None:
        value = self._cells.get(column, "")
        return value if value else None

    def integer(self, column: str) -> int:
        value = self._cells[column]
        if _INTEGER.fullmatch(value) is None:
            raise self._bad(column, "an integer")
        return int(value)

    def decimal(self, column: str) -> Decimal:
        value = self._cells[column]
        if _DECIMAL.fullmatch(value) is None:
            raise self._bad(column, "a decimal number")
        return Decimal(value)

    def opt_decimal(self, column: str) -> Decimal | None:
        if not self._cells.get(column, ""):
            return None
        return self.decimal(column)

    def boolean(self, column: str) -> bool:
        value = self._cells[column].lower()
        if value in ("true", "1"):
            return True
        if value in ("false", "0"):
            return False
        raise self._bad(column, "a boolean (true/false)")

    def enum(self, column: str, kind: type[_E]) -> _E:
        try:
            return kind(self._cells[column])
        except ValueError:
            names = ", ".join(str(m.value) for m in kind)
            raise self._bad(column, f"one of {names}") from None

    def instrument_id(self) -> InstrumentId:
        try:
            return InstrumentId.parse(self._cells["instrument_id"])
        except ValueError:
            raise self._bad("instrument_id", "an instrument id SYMBOL.VENUE") from None


def _rows(path: Path, columns: tuple[str, ...], optional: tuple[str, ...]) -> Iterator[_Row]:
    source = str(path)
    text = _read_text(path)
    if not text:
        raise DataError("file is empty (expected a header line)", source=source, line=1)
    if not text.endswith("\n"):
        last = text.count("\n") + 1
        raise DataError(
            "the last line has no line end: the file was cut off mid-row", source=source, line=last
        )
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
        _check_header(header, columns, optional, source)
        for cells in reader:
            if len(cells) != len(header):
                raise DataError(
                    f"expected {len(header)} fields, found {len(cells)}", source=source, line=reader.line_num
                )
            yield _Row(source, reader.line_num, dict(zip(header, cells, strict=True)))
    except csv.Error as exc:
        raise DataError(f"malformed CSV: {exc}", source=source, line=reader.line_num) from None


def _check_header(
    header: list[str], columns: tuple[str, ...], optional: tuple[str, ...], source: str
) -> None:
    extra = header[len(columns) :]
    unknown = [c for c in extra if c not in optional]
    if tuple(header[: len(columns)]) != columns or unknown or len(set(extra)) != len(extra):
        expected = ",".join(columns) + (f" (then optionally {','.join(optional)})" if optional else "")
        raise DataError(f"unexpected header {','.join(header)!r}; expected {expected}", source=source, line=1)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError("file is missing from the run folder", source=str(path)) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text: {exc.reason} at byte {exc.start}", source=str(path)) from None
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror}", source=str(path)) from None


def _read_summary(path: Path) -> dict[str, Any]:
    text = _read_text(path)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", source=str(path), line=exc.lineno) from None
    if not isinstance(value, dict):
        raise DataError(f"expected a JSON object, got {type(value).__name__}", source=str(path), line=1)
    return value
