"""Recordings of binary (prediction) markets: both outcome books of one market, its public trades, tick-size
changes, status changes and its resolution, in one folder — what `tradewright record --venue polymarket`
(or ``turbine``) writes and what the binary-market backtest replays.

A market's folder ``<out>/<VENUE>/<market_id>/`` holds ``market.json`` (the `BinaryMarket` as the venue
defined it when the recording started: tokens, tick, sizes, fees, end time) and one Parquet file per UTC
hour, rows in arrival order:

| column | meaning |
|---|---|
| ts_event, ts_recv | venue time and our receive time, ns UTC |
| kind | ``clear`` (a snapshot of `token`'s book starts), ``level`` (a level's new total size; 0 deletes), ``trade`` (a public trade of `token`), ``tick`` (the market's new tick size in `price`), ``status`` (``open``/``closed`` in `note`), ``resolved`` (`note` is ``YES``, ``NO`` or ``SPLIT``) |
| token | the outcome token the row is about ("" for market-wide rows) |
| side | +1 bid / -1 ask; a trade's aggressor (+1 buy, -1 sell, 0 unknown) |
| price, size | exact decimal text |
| last | true on the last row of a message (the token's book is consistent after it) |
| note | a trade's id, a status, a resolution |

Prediction markets trade little (a busy market has a few thousand book changes an hour), so the reader
returns plain Python rows with exact `Decimal` values rather than the columnar stream of the L2 path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from tradewright.core.errors import DataError
from tradewright.model.prediction import BinaryMarket, Resolution

__all__ = [
    "KINDS",
    "MARKET_MANIFEST",
    "BinaryRecording",
    "BinaryRecordingWriter",
    "BinaryRow",
    "find_binary_recordings",
    "is_binary_recording",
    "load_binary_recording",
]

MARKET_MANIFEST = "market.json"
KINDS = frozenset({"clear", "level", "trade", "tick", "status", "resolved"})
SCHEMA = pa.schema(
    [
        ("ts_event", pa.int64()), ("ts_recv", pa.int64()), ("kind", pa.string()), ("token", pa.string()),
        ("side", pa.int8()), ("price", pa.string()), ("size", pa.string()), ("last", pa.bool_()),
        ("note", pa.string()),
    ]
)  # fmt: skip


@dataclass(slots=True)
class BinaryRow:
    """One recorded row (see the module docstring); `price` and `size` are exact decimals."""

    ts_event: int
    ts_recv: int
    kind: str
    token: str = ""
    side: int = 0
    price: Decimal = Decimal(0)
    size: Decimal = Decimal(0)
    last: bool = True
    note: str = ""


def is_binary_recording(path: Path) -> bool:
    return path.is_dir() and (path / MARKET_MANIFEST).is_file()


def find_binary_recordings(paths: Iterable[Path]) -> list[Path]:
    """Every market folder named or found under the given paths (sorted, each once)."""
    found: list[Path] = []
    for path in paths:
        if is_binary_recording(path):
            found.append(path)
        elif path.is_dir():
            found += [m.parent for m in path.rglob(MARKET_MANIFEST)]
        else:
            raise DataError("not a binary-market recording (no market.json here or below)", source=str(path))
    out = sorted(dict.fromkeys(p.resolve() for p in found))
    if not out:
        raise DataError("no binary-market recording (market.json) found", source=", ".join(map(str, paths)))
    return out


@dataclass
class BinaryRecordingWriter:
    """Write one market's rows, one Parquet file per UTC hour; a row group per `flush`."""

    folder: Path
    market: BinaryMarket
    rows: list[BinaryRow] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    written: int = 0
    _writer: pq.ParquetWriter | None = None
    _hour: str = ""

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / MARKET_MANIFEST).write_bytes(msgspec.json.encode(self.market))

    def add(self, row: BinaryRow) -> None:
        if row.kind not in KINDS:
            raise ValueError(f"unknown row kind {row.kind!r}")
        hour = dt.datetime.fromtimestamp(row.ts_recv / 1e9, tz=dt.UTC).strftime("%Y-%m-%dT%H")
        if hour != self._hour:
            self.flush()
            self._rotate(hour)
        self.rows.append(row)

    def _rotate(self, hour: str) -> None:
        if self._writer is not None:
            self._writer.close()
        self._hour = hour
        path = self.folder / f"{hour}.parquet"
        n = 1
        while path.exists():  # a second session in the same hour gets its own file
            path = self.folder / f"{hour}.{n}.parquet"
            n += 1
        self._writer = pq.ParquetWriter(path, SCHEMA)
        self.files.append(path)

    def flush(self) -> None:
        if not self.rows or self._writer is None:
            return
        cols: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
        for r in self.rows:
            for name in SCHEMA.names:
                value = getattr(r, name)
                cols[name].append(format(value, "f") if isinstance(value, Decimal) else value)
        self._writer.write_table(pa.table(cols, schema=SCHEMA))
        self.written += len(self.rows)
        self.rows = []

    def close(self) -> None:
        self.flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None


@dataclass(slots=True)
class BinaryRecording:
    """One market's recording: the market as first defined, and its rows in arrival order."""

    folder: Path
    market: BinaryMarket
    rows: list[BinaryRow]
    malformed: int = 0

    @property
    def resolution(self) -> Resolution | None:
        for row in self.rows:
            if row.kind == "resolved":
                return Resolution(row.note)
        return None


def load_binary_recording(path: Path | str) -> BinaryRecording:
    """Read one market folder. Rows that cannot be read (a bad number, a token not of the market, an
    unknown resolution) are counted in `malformed` and skipped; an unreadable manifest or file fails."""
    folder = Path(path)
    try:
        market = msgspec.json.decode((folder / MARKET_MANIFEST).read_bytes(), type=BinaryMarket)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
        raise DataError(
            f"not a binary-market manifest: {exc}", source=str(folder / MARKET_MANIFEST)
        ) from None
    files = sorted(folder.glob("*.parquet"), key=lambda p: (p.name.split(".")[0], len(p.name), p.name))
    if not files:
        raise DataError("the recording holds no Parquet files", source=str(folder))
    try:
        table = pa.concat_tables([pq.read_table(f, schema=SCHEMA) for f in files]).to_pydict()
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"unreadable recording: {exc}", source=str(folder)) from None
    tokens = {t.token_id for t in market.tokens}
    rows: list[BinaryRow] = []
    malformed = 0
    for i in range(len(table["kind"])):
        kind, token = table["kind"][i], table["token"][i] or ""
        try:
            if kind not in KINDS or (kind in ("clear", "level", "trade") and token not in tokens):
                raise ValueError(kind)
            if kind == "resolved":
                Resolution(table["note"][i])
            row = BinaryRow(
                int(table["ts_event"][i]),
                int(table["ts_recv"][i]),
                kind,
                token,
                int(table["side"][i] or 0),
                Decimal(table["price"][i] or "0"),
                Decimal(table["size"][i] or "0"),
                bool(table["last"][i]),
                table["note"][i] or "",
            )
            if not (row.price.is_finite() and row.size.is_finite()) or row.size < 0:
                raise ValueError("number")
        except (ValueError, InvalidOperation, TypeError):
            malformed += 1
            continue
        rows.append(row)
    return BinaryRecording(folder, market, rows, malformed)
