"""Parsing shared by the loaders: exact decimal scaling, issues, checksum-venue messages, format sniffing.

Recordings carry prices and sizes as decimal text ("61800.20"). Converting through float would round;
converting through `Decimal` one value at a time costs microseconds each. Here the text of a whole file
is handed to compiled kernels in one buffer, which scale each number to the instrument's step exactly:
a value that is not a plain decimal (or is negative where that is not allowed) is MALFORMED, one with
more digits than an int64 count of steps holds is OUT_OF_RANGE, one that is not a whole number of steps
is OFF_GRID.

A step is written ``m * 10**-e`` with integer ``m`` (0.25 -> (25, 2), 0.1 -> (1, 1), 100 -> (100, 0)),
so a value ``v * 10**-f`` is ``v * 10**(e - f) / m`` steps, which must come out whole.
"""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import msgspec
import numpy as np
import pyarrow as pa
from numba import njit

from tradewright.core.errors import DataError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.model.instrument import Instrument, InstrumentKind

__all__ = [
    "MALFORMED",
    "OFF_GRID",
    "OK",
    "OUT_OF_RANGE",
    "BookMessage",
    "Issue",
    "checked_header",
    "detect_format",
    "finest_step",
    "grid_instrument",
    "log_issue",
    "parse_checksum_recording",
    "parse_level_arrays",
    "scale_arrow_strings",
    "scale_strings",
    "split_step",
]

OK = 0
MALFORMED = 1
OFF_GRID = 2
OUT_OF_RANGE = 3

_QUOTE = 34
_COMMA = 44
_MINUS = 45
_DOT = 46
_OPEN = 91
_CLOSE = 93
_MAX_MANTISSA = (2**63 - 1 - 9) // 10

_log = logging.getLogger("tradewright.data")


@dataclass(frozen=True, slots=True)
class Issue:
    """Something wrong with the input that a loader reported and handled (skipped, resynchronised)."""

    kind: str  # "malformed", "sequence_gap", "unsynced", ...
    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.kind}: {self.message}"


def checked_header(table: pa.Table, path: Path) -> list[str]:
    """A CSV table's column names, or `DataError` when the header is not UTF-8 text."""
    try:
        names: list[str] = table.column_names
    except UnicodeDecodeError:
        raise DataError("the header is not UTF-8 text", source=str(path)) from None
    return names


def log_issue(issue: Issue) -> None:
    """The default issue sink: a warning in the ``tradewright.data`` log."""
    _log.warning("%s", issue)


def split_step(step: Decimal) -> tuple[int, int]:
    """Write a positive step as (m, e) with step == m * 10**-e and m a whole number."""
    if not step.is_finite() or step <= 0:
        raise DataError(f"step must be a positive number, got {step}")
    _, digits, exponent = step.normalize().as_tuple()
    assert isinstance(exponent, int)  # finite
    mantissa = int("".join(map(str, digits)))
    if exponent >= 0:
        return mantissa * 10**exponent, 0
    return mantissa, -exponent


def grid_instrument(exchange: str, symbol: str, tick_size: Decimal, lot_size: Decimal) -> Instrument:
    """A grid-only instrument ``SYMBOL.EXCHANGE``: no fees, multiplier 1, perpetual if the name says so.

    For replaying and checking books whose venue spec is not at hand; pass a real instrument for PnL.
    """
    name = symbol.upper()
    perpetual = "PERP" in name or "SWAP" in name
    return Instrument(
        id=InstrumentId(name, Venue(exchange.upper())),
        kind=InstrumentKind.PERPETUAL if perpetual else InstrumentKind.SPOT,
        base="",
        quote="",
        settle="",
        tick_size=tick_size,
        lot_size=lot_size,
    )


def finest_step(values: Sequence[str]) -> Decimal:
    """The coarsest power-of-ten step on which every value lies (trailing zeros do not count).

    Used only where the caller explicitly asks to infer a grid from the data.
    """
    decimals = 0
    for value in values:
        _, dot, frac = value.partition(".")
        if dot:
            decimals = max(decimals, len(frac.rstrip("0")))
    return Decimal(1).scaleb(-decimals)


@njit(cache=True, nogil=True)
def _scale(data: np.ndarray, start: int, stop: int, m: int, e: int, signed: bool) -> tuple[int, int]:
    """Scale the decimal text data[start:stop] to whole steps: return (value, status)."""
    i = start
    negative = False
    if signed and i < stop and data[i] == _MINUS:
        negative = True
        i += 1
    mantissa = 0
    frac = -1
    digits = 0
    while i < stop:
        c = data[i]
        if 48 <= c <= 57:
            if mantissa > _MAX_MANTISSA:
                return 0, OUT_OF_RANGE
            mantissa = mantissa * 10 + (c - 48)
            digits += 1
            if frac >= 0:
                frac += 1
        elif c == _DOT and frac < 0:
            frac = 0
        else:
            return 0, MALFORMED
        i += 1
    if digits == 0:
        return 0, MALFORMED
    if frac < 0:
        frac = 0
    # units of 10**-e
    if frac <= e:
        for _ in range(e - frac):
            if mantissa > _MAX_MANTISSA:
                return 0, OUT_OF_RANGE
            mantissa *= 10
    else:
        div = 1
        for _ in range(frac - e):
            div *= 10
        if mantissa % div != 0:
            return 0, OFF_GRID
        mantissa //= div
    if mantissa % m != 0:
        return 0, OFF_GRID
    value = mantissa // m
    return (-value if negative else value), OK


@njit(cache=True, nogil=True)
def _scale_many(
    data: np.ndarray, offsets: np.ndarray, m: int, e: int, signed: bool, out: np.ndarray, status: np.ndarray
) -> int:
    """Scale every string data[offsets[k]:offsets[k+1]]; return the number of failures."""
    bad = 0
    for k in range(len(out)):
        value, code = _scale(data, offsets[k], offsets[k + 1], m, e, signed)
        out[k] = value
        status[k] = code
        if code != OK:
            bad += 1
    return bad


def scale_arrow_strings(
    array: pa.Array | pa.ChunkedArray, step: Decimal, *, signed: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Scale an Arrow string column to whole steps: return (int64 values, int8 status per value).

    A leading minus sign is allowed only when `signed` (prices can be negative; sizes cannot).
    """
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.null_count:
        array = array.fill_null("")  # an empty string is MALFORMED, which names the row
    array = array.cast(pa.large_string())
    _, offsets_buf, data_buf = array.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    # Read-only like the bytes `parse_level_arrays` reads: one compiled `_scale` serves both (cold start).
    data.flags.writeable = False
    m, e = split_step(step)
    out = np.empty(len(array), dtype=np.int64)
    status = np.empty(len(array), dtype=np.int8)
    _scale_many(data, np.ascontiguousarray(offsets), m, e, signed, out, status)
    return out, status


def scale_strings(
    values: Sequence[str], step: Decimal, *, signed: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Scale Python strings to whole steps: return (int64 values, int8 status per value)."""
    # The bytes and offsets are built here rather than through `pa.array`: converting Python objects
    # makes pyarrow import pandas (about a second of every backtest's start, for nothing).
    encoded = [v.encode() for v in values]
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)  # read-only, as `scale_arrow_strings` reads
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
    offsets.flags.writeable = False  # the types `scale_arrow_strings` passes: one compiled `_scale_many`
    m, e = split_step(step)
    out = np.empty(len(encoded), dtype=np.int64)
    status = np.empty(len(encoded), dtype=np.int8)
    _scale_many(data, offsets, m, e, signed, out, status)
    return out, status


@njit(cache=True, nogil=True)
def _skip_ws(data: np.ndarray, i: int, end: int) -> int:
    while i < end and (data[i] == 32 or data[i] == 10 or data[i] == 13 or data[i] == 9):
        i += 1
    return i


@njit(cache=True, nogil=True)
def _string_end(data: np.ndarray, i: int, end: int) -> int:
    """Given data[i] == '"', return the index of the closing quote (or -1)."""
    j = i + 1
    while j < end and data[j] != _QUOTE:
        if data[j] == 92:  # backslash: numbers never contain one
            return -1
        j += 1
    return j if j < end else -1


@njit(cache=True, nogil=True)
def _parse_one_array(
    data: np.ndarray,
    i: int,
    end: int,
    pm: int,
    pe: int,
    qm: int,
    qe: int,
    out_tick: np.ndarray,
    out_lots: np.ndarray,
    row: int,
) -> tuple[int, int]:
    """Parse one JSON ``[["px","qty",...],...]`` at data[i:end] into rows from `row`: (rows, status)."""
    _UNSIGNED = bool(np.bool_(False))  # a typed False, not a literal: `_scale` is compiled once (cold start)
    i = _skip_ws(data, i, end)
    if i >= end or data[i] != _OPEN:
        return 0, MALFORMED
    i = _skip_ws(data, i + 1, end)
    n = 0
    worst = OK
    if i < end and data[i] == _CLOSE:
        return 0, OK
    while True:
        if i >= end or data[i] != _OPEN:
            return n, MALFORMED
        i = _skip_ws(data, i + 1, end)
        # price, then size, then anything else the venue adds (ignored)
        field = 0
        while True:
            if i >= end or data[i] != _QUOTE:
                return n, MALFORMED
            j = _string_end(data, i, end)
            if j < 0:
                return n, MALFORMED
            if field == 0:
                value, code = _scale(data, i + 1, j, pm, pe, _UNSIGNED)
                out_tick[row + n] = value
            elif field == 1:
                value, code = _scale(data, i + 1, j, qm, qe, _UNSIGNED)
                out_lots[row + n] = value
            else:
                code = OK
            if code == MALFORMED or code == OUT_OF_RANGE:  # noqa: SIM109 (compiled: no tuple tests)
                return n, code
            if code != OK:
                worst = code
            field += 1
            i = _skip_ws(data, j + 1, end)
            if i < end and data[i] == _COMMA:
                i = _skip_ws(data, i + 1, end)
                continue
            break
        if field < 2 or i >= end or data[i] != _CLOSE:
            return n, MALFORMED
        n += 1
        i = _skip_ws(data, i + 1, end)
        if i < end and data[i] == _COMMA:
            i = _skip_ws(data, i + 1, end)
            continue
        if i < end and data[i] == _CLOSE:
            i = _skip_ws(data, i + 1, end)
            if i != end:
                return n, MALFORMED
            return n, worst
        return n, MALFORMED


@njit(cache=True, nogil=True)
def _parse_arrays(
    data: np.ndarray,
    bounds: np.ndarray,
    pm: int,
    pe: int,
    qm: int,
    qe: int,
    out_tick: np.ndarray,
    out_lots: np.ndarray,
    counts: np.ndarray,
    status: np.ndarray,
) -> int:
    row = int(np.int64(0))  # typed, not a literal 0: one compilation of the callee, not two (cold start)
    for c in range(len(bounds) - 1):
        n, code = _parse_one_array(data, bounds[c], bounds[c + 1], pm, pe, qm, qe, out_tick, out_lots, row)
        status[c] = code
        if code == MALFORMED or code == OUT_OF_RANGE:  # noqa: SIM109 (compiled: no tuple tests)
            n = 0  # a malformed array contributes no rows
        counts[c] = n
        row += n
    return row


def parse_level_arrays(
    chunks: Sequence[bytes | memoryview], price_step: Decimal, size_step: Decimal
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parse JSON level arrays ``[["px","qty"],...]`` (one per chunk) into grid integers (both >= 0).

    Return (ticks, lots, rows per chunk, status per chunk); a MALFORMED or OUT_OF_RANGE chunk contributes
    no rows.
    """
    lengths = np.fromiter((len(c) for c in chunks), dtype=np.int64, count=len(chunks))
    bounds = np.zeros(len(chunks) + 1, dtype=np.int64)
    np.cumsum(lengths, out=bounds[1:])
    data = np.frombuffer(b"".join(chunks), dtype=np.uint8)
    capacity = len(data) // 9 + 1  # the shortest level, ["1","0"], takes 9 bytes
    ticks = np.empty(capacity, dtype=np.int64)
    lots = np.empty(capacity, dtype=np.int64)
    counts = np.empty(len(chunks), dtype=np.int64)
    status = np.empty(len(chunks), dtype=np.int8)
    pm, pe = split_step(price_step)
    qm, qe = split_step(size_step)
    rows = _parse_arrays(data, bounds, pm, pe, qm, qe, ticks, lots, counts, status)
    return ticks[:rows], lots[:rows], counts, status


# --- cryptofeed recordings of checksum venues (OKX v5, Bitget v1, Kraken v1 books) -----------------
@dataclass(slots=True)
class BookMessage:
    """One venue book message, normalised: the exact level strings, and what to check them against."""

    key: str  # the venue's instrument name (OKX/Bitget instId, Kraken pair)
    line: int
    is_snapshot: bool
    bids: list[tuple[str, str]]
    asks: list[tuple[str, str]]
    checksum: int | None = None
    seq: int | None = None
    prev_seq: int | None = None
    depth: int = 0  # levels a side the venue keeps (Kraken's subscription depth); 0 = unbounded


class _Arg(msgspec.Struct, gc=False):
    channel: str = ""
    inst_id: str = msgspec.field(name="instId", default="")


class _Books(msgspec.Struct, gc=False):
    asks: list[list[str]] = msgspec.field(default_factory=list)
    bids: list[list[str]] = msgspec.field(default_factory=list)
    checksum: int | None = None
    seq: int | None = msgspec.field(name="seqId", default=None)
    prev_seq: int | None = msgspec.field(name="prevSeqId", default=None)


class _Push(msgspec.Struct, gc=False):
    """OKX v5 and Bitget v1 push: ``{"arg": {...}, "action": "snapshot"|"update", "data": [...]}``."""

    arg: _Arg | None = None
    action: str | None = None
    data: msgspec.Raw = msgspec.Raw()


_BOOK_CHANNELS = {"books", "books-l2-tbt", "books50-l2-tbt"}
_CRYPTOFEED_RECEIVED = re.compile(rb"^(\d+(?:\.\d+)?): (.*)$", re.DOTALL)
_VENUE_HOSTS = {b"ws.okx.com": "okx", b"ws.bitget.com": "bitget", b"ws.kraken.com": "kraken"}


def _levels(rows: list[list[str]], line: int) -> list[tuple[str, str]]:
    levels = []
    for row in rows:
        if (
            not isinstance(row, list)
            or len(row) < 2
            or not isinstance(row[0], str)
            or not isinstance(row[1], str)
        ):
            raise ValueError(f"a level is not [price, size, ...] as strings: {str(row)[:80]}")
        levels.append((row[0], row[1]))
    return levels


def _okx_like(body: bytes, line: int, push_decoder: msgspec.json.Decoder[_Push]) -> list[BookMessage]:
    push = push_decoder.decode(body)
    if push.arg is None or push.action is None or push.arg.channel not in _BOOK_CHANNELS:
        return []
    snapshot = push.action == "snapshot"
    return [
        BookMessage(
            push.arg.inst_id,
            line,
            snapshot,
            _levels(b.bids, line),
            _levels(b.asks, line),
            b.checksum,
            b.seq,
            b.prev_seq,
        )
        for b in msgspec.json.decode(push.data, type=list[_Books])
    ]


def _kraken(body: bytes, line: int) -> list[BookMessage]:
    msg = msgspec.json.decode(body)
    if not isinstance(msg, list) or len(msg) < 4 or not str(msg[-2]).startswith("book"):
        return []
    channel, pair = str(msg[-2]), str(msg[-1])
    depth = int(channel.partition("-")[2] or 0)
    parts = [p for p in msg[1:-2] if isinstance(p, dict)]
    snapshot = any("as" in p or "bs" in p for p in parts)
    bids: list[tuple[str, str]] = []
    asks: list[tuple[str, str]] = []
    checksum: int | None = None
    for part in parts:
        asks += _levels(part["as"] if "as" in part else part.get("a", []), line)
        bids += _levels(part["bs"] if "bs" in part else part.get("b", []), line)
        if "c" in part:
            checksum = int(part["c"])
    return [BookMessage(pair, line, snapshot, bids, asks, checksum, depth=depth)]


def parse_checksum_recording(
    path: Path, lines: Sequence[bytes] | None = None, on_issue: Callable[[Issue], None] | None = None
) -> tuple[str, list[BookMessage]]:
    """Read a cryptofeed recording of OKX, Bitget or Kraken books: return (venue, book messages).

    `lines` may be given instead of reading `path` (e.g. a test that edits one message). A message that
    cannot be decoded raises `DataError` naming its line, or — with `on_issue` — is reported and skipped.
    """
    if lines is None:
        with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as fh:
            lines = fh.read().split(b"\n")
    venue = ""
    push_decoder = msgspec.json.Decoder(_Push)
    messages: list[BookMessage] = []
    for line_no, line in enumerate(lines, start=1):
        if not venue and line.startswith(b"wss://"):
            host = line[6:].split(b" ")[0].split(b"/")[0].split(b":")[0]
            venue = _VENUE_HOSTS.get(host, "")
            if not venue:
                raise DataError(f"no checksum rule for {host.decode(errors='replace')}", source=str(path))
        match = _CRYPTOFEED_RECEIVED.match(line)
        if match is None:
            continue
        body = match.group(2)
        try:
            if venue == "kraken":
                messages += _kraken(body, line_no)
            elif venue:
                messages += _okx_like(body, line_no, push_decoder)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
            # any of these means the message is not the venue's shape (KeyError: a field missing, ...)
            why = f"malformed {venue} book message: {type(exc).__name__}: {str(exc)[:200]}"
            if on_issue is None:
                raise DataError(why, source=str(path), line=line_no) from None
            on_issue(Issue("malformed", str(path), line_no, f"{why}; skipped: {line[:200]!r}"))
    if not venue:
        raise DataError("not a cryptofeed recording of a checksum venue (no wss:// line)", source=str(path))
    return venue, messages


# --- what kind of file is this? --------------------------------------------------------------------
_BINANCE_LINE = re.compile(rb"^\d+ \{")
_HEADERS = {
    b"exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount": "tardis_book",
    b"exchange,symbol,timestamp,local_timestamp,id,side,price,amount": "tardis_trades",
    b"ts,kind,side,px,qty": "es",
}


def detect_format(path: Path) -> str:
    """Tell a file's format from its name and first line.

    One of ``parquet`` (our cache), ``binance``, ``tardis_book``, ``tardis_trades``, ``es``,
    ``cryptofeed`` (a checksum venue's recording); raise `DataError` if it is none of them.
    """
    if path.suffix == ".parquet":
        return "parquet"
    try:
        with path.open("rb") as fh:
            gz = fh.read(2) == b"\x1f\x8b"
        with gzip.open(path, "rb") if gz else path.open("rb") as fh:
            first = fh.readline(1 << 20).rstrip(b"\r\n")
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read: {exc}", source=str(path)) from None
    if first in _HEADERS:
        return _HEADERS[first]
    if _BINANCE_LINE.match(first) and (b'"stream"' in first or b'"lastUpdateId"' in first):
        return "binance"
    if first.startswith((b"wss://", b"configuration:", b"http")):
        return "cryptofeed"
    raise DataError(
        f"cannot tell the format from the first line {first[:80]!r}; pass --format", source=str(path)
    )
