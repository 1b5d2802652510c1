"""Live venue recordings (what `tradewright record` writes) and their reader.

A recording of one instrument is a folder ``<out>/<VENUE>/<SYMBOL>/`` holding ``instrument.json`` (the
instrument as the venue defined it, the venue, the checksum rule) and one Parquet file per UTC hour
(``2024-12-01T00.parquet``), rows in arrival order:

| column | meaning |
|---|---|
| ts_event, ts_recv | venue time and our receive time, ns UTC |
| kind | ``clear`` (a snapshot starts), ``level`` (a level's new total size; 0 deletes), ``trade``, ``quote`` (the venue's best bid/offer: two rows, bid then ask), ``resync`` (the book was found untrusted and is being rebuilt; its reason in ``note``) |
| side | +1 bid / -1 ask; a trade's aggressor (+1 buy, -1 sell, 0 unknown) |
| price, size | the venue's exact text |
| last | true on the last row of a venue message (the book is consistent after it) |
| update_id, prev_update_id | the venue's sequence ids where it sends them |
| checksum | the venue's checksum of the book after this message (OKX, Bitget, Kraken), on its last row |
| note | a resync's reason, a trade's id |

`load_venue_recording` turns a folder into the columnar `MarketStream` backtests replay (exact ticks
and lots on the instrument's grid) and `book_messages` into the checksum venues' messages that
`tradewright data verify` checks again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from tradewright.core.errors import DataError
from tradewright.data._parse import BookMessage
from tradewright.model.columnar import (
    KIND_CLEAR,
    KIND_DELTA,
    KIND_QUOTE,
    KIND_TRADE,
    MarketStream,
    StreamBuilder,
)
from tradewright.model.instrument import Instrument

__all__ = [
    "MANIFEST",
    "RecordingWriter",
    "Row",
    "book_messages",
    "is_venue_recording",
    "load_venue_recording",
    "read_manifest",
]

MANIFEST = "instrument.json"
SCHEMA = pa.schema(
    [
        ("ts_event", pa.int64()), ("ts_recv", pa.int64()), ("kind", pa.string()), ("side", pa.int8()),
        ("price", pa.string()), ("size", pa.string()), ("last", pa.bool_()), ("update_id", pa.int64()),
        ("prev_update_id", pa.int64()), ("checksum", pa.int64()), ("note", pa.string()),
    ]
)  # fmt: skip
_KINDS = {"clear": KIND_CLEAR, "level": KIND_DELTA, "trade": KIND_TRADE, "quote": KIND_QUOTE}


@dataclass(slots=True)
class Row:
    ts_event: int
    ts_recv: int
    kind: str
    side: int = 0
    price: str = ""
    size: str = ""
    last: bool = False
    update_id: int = 0
    prev_update_id: int = 0
    checksum: int | None = None
    note: str = ""


class _Manifest(msgspec.Struct, frozen=True):
    venue: str
    instrument: Instrument
    checksum_rule: str = ""  # okx | bitget | kraken, or "" for venues without checksums
    book_depth: int = 0  # levels a side the venue keeps (Kraken's subscription depth), 0 = all


def is_venue_recording(path: Path) -> bool:
    return path.is_dir() and (path / MANIFEST).is_file()


def read_manifest(path: Path) -> _Manifest:
    try:
        return msgspec.json.decode((path / MANIFEST).read_bytes(), type=_Manifest)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise DataError(f"not a venue recording manifest: {exc}", source=str(path / MANIFEST)) from None


@dataclass
class RecordingWriter:
    """Write one instrument's rows, one Parquet file per UTC hour; a row group per `flush`."""

    folder: Path
    venue: str
    instrument: Instrument
    checksum_rule: str = ""
    book_depth: int = 0
    rows: list[Row] = field(default_factory=list)
    _writer: pq.ParquetWriter | None = None
    _hour: str = ""
    files: list[Path] = field(default_factory=list)
    written: int = 0

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        manifest = _Manifest(self.venue, self.instrument, self.checksum_rule, self.book_depth)
        (self.folder / MANIFEST).write_bytes(msgspec.json.encode(manifest))

    def add(self, row: Row) -> None:
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
                cols[name].append(getattr(r, name))
        self._writer.write_table(pa.table(cols, schema=SCHEMA))
        self.written += len(self.rows)
        self.rows = []

    def close(self) -> None:
        self.flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _read(path: Path) -> pa.Table:
    files = sorted(path.glob("*.parquet"), key=lambda p: (p.name.split(".")[0], len(p.name), p.name))
    if not files:
        raise DataError("the recording holds no Parquet files", source=str(path))
    try:
        return pa.concat_tables([pq.read_table(f, schema=SCHEMA) for f in files])
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"unreadable recording: {exc}", source=str(path)) from None


def load_venue_recording(path: Path | str) -> MarketStream:
    """The recording as a columnar stream on its instrument's grid (a resync row starts no data: the
    snapshot that follows it does; resyncs and off-grid rows are counted in `stats`)."""
    folder = Path(path)
    manifest = read_manifest(folder)
    inst = manifest.instrument
    table = _read(folder).to_pydict()
    builder = StreamBuilder(inst, str(folder))
    for i in range(len(table["kind"])):
        kind = table["kind"][i]
        if kind == "resync":
            builder.count("resyncs")
            continue
        tick = lots = 0
        if kind != "clear":
            try:
                tick = inst.price_to_ticks(table["price"][i])
                lots = _lots(inst, table["size"][i])
            except (ArithmeticError, ValueError):
                builder.count("malformed_lines")
                continue
        builder.add(
            table["ts_event"][i],
            table["ts_recv"][i],
            _KINDS[kind],
            table["side"][i],
            tick,
            lots,
            table["update_id"][i] or 0,
        )
        if table["last"][i]:
            builder.end_message()
    builder.count("messages", int(sum(1 for x in table["last"] if x)))
    return builder.build()


def _lots(inst: Instrument, size: str) -> int:
    """Whole lots of a size; market data can be finer than the order lot: it is rounded down."""
    return int(Decimal(size) / inst.lot_size)


def book_messages(path: Path | str) -> tuple[str, Instrument, list[BookMessage]]:
    """The recorded book messages as `data verify` checks them: (checksum rule, instrument, messages)."""
    folder = Path(path)
    manifest = read_manifest(folder)
    t = _read(folder).to_pydict()
    out: list[BookMessage] = []
    bids: list[tuple[str, str]] = []
    asks: list[tuple[str, str]] = []
    snapshot = False
    for i in range(len(t["kind"])):
        kind = t["kind"][i]
        if kind == "clear":
            snapshot, bids, asks = True, [], []
        elif kind == "level":
            (bids if t["side"][i] > 0 else asks).append((t["price"][i], t["size"][i]))
        if kind in ("clear", "level") and t["last"][i]:
            checksum = t["checksum"][i]
            seq = t["update_id"][i] or None
            prev = t["prev_update_id"][i] or None
            out.append(BookMessage(
                key=str(manifest.instrument.id.symbol), line=i + 1, is_snapshot=snapshot, bids=list(bids), asks=list(asks),
                checksum=checksum, seq=seq if manifest.checksum_rule == "okx" and prev else None,
                prev_seq=prev if manifest.checksum_rule == "okx" else None, depth=manifest.book_depth if snapshot else 0,
            ))  # fmt: skip
            snapshot, bids, asks = False, [], []
    return manifest.checksum_rule, manifest.instrument, out


def _chain_gaps(path: Path) -> tuple[int, int, list[str]]:
    """(messages checked, gaps, examples): each book message must continue from the previous one's id
    (its `prev_update_id` no later than it, its `update_id` later); a snapshot or a resync restarts it."""
    t = _read(path).to_pydict()
    last: int | None = None
    in_snapshot = False
    checked, gaps = 0, 0
    examples: list[str] = []
    for i in range(len(t["kind"])):
        kind = t["kind"][i]
        if kind == "resync":
            last = None
        if kind == "clear":
            in_snapshot = True
        if kind not in ("clear", "level") or not t["last"][i]:
            continue
        uid, prev = t["update_id"][i] or 0, t["prev_update_id"][i] or 0
        if uid and last is not None and not in_snapshot and prev:
            checked += 1
            if prev > last or uid <= last:
                gaps += 1
                if len(examples) < 5:
                    examples.append(f"row {i + 1}: continues from {prev}, the book was at {last}")
        if uid:
            last = uid
        in_snapshot = False
    return checked, gaps, examples


def verify_venue_recording(path: Path | str) -> list[Any]:
    """Check a recording again: its sequence chain, its checksums (where the venue sends them) and
    what the loader could not read. One `Verification` for the stream, one for the checksums."""
    from tradewright.data.verify import ChecksumReplay, verify_stream

    folder = Path(path)
    stream = load_venue_recording(folder)
    result = verify_stream(stream)
    _, gaps, examples = _chain_gaps(folder)
    result.sequence_gaps += gaps
    result.examples.extend(examples)
    results: list[Any] = [result]
    rule, inst, messages = book_messages(folder)
    if rule and messages:
        replay = ChecksumReplay(rule, {inst.id.symbol: inst}, str(folder))
        for msg in messages:
            replay.apply(msg)
        results += replay.results()
    return results
