"""Decode the lines of a Binance recording into typed messages, refusing what breaks the rules.

Each line is ``<local_ns> <json>``. `Reader` decodes it straight into the payload record of its stream
(depth diff, trade, bookTicker) or the REST snapshot, and refuses — reports, counts and skips — what is
not a message of the venue, by the rules of `tradewright.data._checks`. The loader
(`tradewright.data.binance`) then synchronises the book and converts the numbers.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import msgspec

from tradewright.core.errors import DataError
from tradewright.data._checks import INT64_MAX, TIME_TOLERANCE_MS, Id, Ms, validation_reason
from tradewright.data._parse import Issue
from tradewright.model.instrument import Instrument

__all__ = [
    "DIFF",
    "QUOTE",
    "SNAPSHOT",
    "TRADE",
    "BookTicker",
    "Depth",
    "Payload",
    "Reader",
    "Recording",
    "Snapshot",
    "Trade",
    "count_rejection",
    "describe_values",
    "read_bytes",
]

# --- venue payloads (gc=False: they hold only ints, strings and raw bytes, so cannot form cycles) ----
# Ids and venue times carry their range in the type, so decoding refuses anything beyond int64 (as ns).
_PrevId = Annotated[int, msgspec.Meta(ge=-1, le=INT64_MAX)]


class Snapshot(msgspec.Struct, gc=False):
    final_id: Id = msgspec.field(name="lastUpdateId")
    bids: msgspec.Raw
    asks: msgspec.Raw
    event_ms: Ms = msgspec.field(name="E", default=0)
    txn_ms: Ms = msgspec.field(name="T", default=0)
    symbol: str = ""  # only COIN-M snapshots name their symbol


class Depth(msgspec.Struct, gc=False):
    event_ms: Ms = msgspec.field(name="E")
    first_id: Id = msgspec.field(name="U")
    final_id: Id = msgspec.field(name="u")
    bids: msgspec.Raw = msgspec.field(name="b")
    asks: msgspec.Raw = msgspec.field(name="a")
    txn_ms: Ms = msgspec.field(name="T", default=0)
    prev_final_id: _PrevId | None = msgspec.field(name="pu", default=None)


class Trade(msgspec.Struct, gc=False):
    trade_id: Id = msgspec.field(name="t")
    price: str = msgspec.field(name="p")
    qty: str = msgspec.field(name="q")
    txn_ms: Ms = msgspec.field(name="T")
    buyer_is_maker: bool = msgspec.field(name="m")
    order_type: str = msgspec.field(name="X", default="MARKET")  # futures only


class BookTicker(msgspec.Struct, gc=False):
    update_id: Id = msgspec.field(name="u")
    bid: str = msgspec.field(name="b")
    bid_qty: str = msgspec.field(name="B")
    ask: str = msgspec.field(name="a")
    ask_qty: str = msgspec.field(name="A")
    txn_ms: Ms = msgspec.field(name="T", default=0)
    event_ms: Ms = msgspec.field(name="E", default=0)


class _Envelope(msgspec.Struct, gc=False):
    stream: str | None = None
    data: msgspec.Raw = msgspec.Raw()


Payload = Snapshot | Depth | Trade | BookTicker
SNAPSHOT, DIFF, TRADE, QUOTE = 0, 1, 2, 3
_STREAMS: dict[str, tuple[int, type[msgspec.Struct]]] = {
    "depth": (DIFF, Depth),
    "trade": (TRADE, Trade),
    "bookTicker": (QUOTE, BookTicker),
}
_PREFIX = b'{"stream":"'


@dataclass(slots=True)
class Recording:
    """Every decodable message of the recording in file order, as parallel lists."""

    files: list[str]
    kind: list[int] = field(default_factory=list)
    payload: list[Payload] = field(default_factory=list)
    ts_recv: list[int] = field(default_factory=list)
    source: list[int] = field(default_factory=list)  # index into `files`
    line: list[int] = field(default_factory=list)
    symbol: list[str] = field(default_factory=list)  # "" for snapshots that name no symbol
    stats: dict[str, int] = field(default_factory=dict)  # of the files (lines no symbol can be told for)
    by_symbol: dict[str, dict[str, int]] = field(default_factory=dict)  # rejections of one symbol's messages
    dropped: set[int] = field(default_factory=set)  # messages refused after they were read (time outliers)

    def count(self, key: str, n: int = 1, symbol: str = "") -> None:
        stats = self.by_symbol.setdefault(symbol, {}) if symbol else self.stats
        stats[key] = stats.get(key, 0) + n

    def where(self, index: int) -> tuple[str, int]:
        return self.files[self.source[index]], self.line[index]


_SYMBOL = re.compile(r"[a-z0-9_]{1,40}", re.ASCII)
_Known = tuple[int, "msgspec.json.Decoder[Any]", str] | None  # None: a stream we do not load


class _Guard:
    """The checks that need a stream's history: venue time and trade ids, per stream of each symbol.

    One guard spans the files of one load, so a recording that continues another is checked across the
    seam. A snapshot (REST, stamped by another clock) is not part of a stream.

    Venue time: a message more than `TIME_TOLERANCE_MS` before the stream's latest is refused — unless
    it agrees with the time before that latest one, in which case the latest was the odd one out (a
    single time corrupted into the future, which would otherwise make every later message look late):
    that one is refused after the fact (`outliers`) and this one kept.
    """

    __slots__ = ("_last_trade", "_streams", "outliers")

    def __init__(self) -> None:
        # (kind, symbol) -> [latest ms, index of the message that set it (-1: none), the latest before it]
        self._streams: dict[tuple[int, str], list[int]] = {}
        self._last_trade: dict[str, int] = {}
        self.outliers: list[tuple[int, str]] = []  # (index of an accepted message, why) to refuse after all

    def check(self, kind: int, payload: Payload, symbol: str, index: int) -> tuple[str, str] | None:
        """(reason, what) if the message breaks its stream's order, else None (and remember it as the
        message at `index`)."""
        trade_id = -1
        if kind == DIFF:
            assert isinstance(payload, Depth)
            if payload.first_id > payload.final_id:
                return (
                    "update_ids",
                    f"first update id U={payload.first_id} is above the last u={payload.final_id}",
                )
            ms = payload.txn_ms or payload.event_ms
        elif kind == TRADE:
            assert isinstance(payload, Trade)
            trade_id = payload.trade_id
            last = self._last_trade.get(symbol)
            if last is not None and trade_id <= last:
                if trade_id == last:
                    return "duplicate_trade", f"trade id {trade_id} was already printed"
                return "trade_id_backwards", f"trade id {trade_id} comes after trade id {last}"
            ms = payload.txn_ms
        elif kind == QUOTE:
            assert isinstance(payload, BookTicker)
            ms = payload.txn_ms or payload.event_ms
        else:
            return None
        if ms:
            broken = self._time(kind, symbol, ms, index)
            if broken is not None:
                return broken
        if trade_id >= 0:
            self._last_trade[symbol] = trade_id
        return None

    def _time(self, kind: int, symbol: str, ms: int, index: int) -> tuple[str, str] | None:
        stream = self._streams.get((kind, symbol))
        if stream is None:
            self._streams[(kind, symbol)] = [ms, index, ms]
            return None
        latest, latest_index, before = stream
        if ms + TIME_TOLERANCE_MS >= latest:
            if ms > latest:
                stream[:] = [ms, index, latest]
            return None
        if latest_index >= 0 and ms + TIME_TOLERANCE_MS >= before:
            self.outliers.append(
                (latest_index, f"venue time {latest} ms is {latest - ms} ms ahead of the messages around it")
            )
            stream[:] = [max(ms, before), index, before]
            return None
        return "time_backwards", (
            f"venue time {ms} ms is {latest - ms} ms before the stream's latest {latest} ms "
            f"(tolerance {TIME_TOLERANCE_MS} ms)"
        )


class Reader:
    """Decode lines into typed payloads; report and skip what cannot be decoded or breaks the rules."""

    def __init__(self, strict: bool, on_issue: Callable[[Issue], None]) -> None:
        self.strict = strict
        self.on_issue = on_issue
        self._envelope = msgspec.json.Decoder(_Envelope)
        self._snapshot = msgspec.json.Decoder(Snapshot)
        self._known: dict[bytes, _Known] = {}
        self._guard = _Guard()

    def read(self, paths: Sequence[Path]) -> Recording:
        rec = Recording([str(p) for p in paths])
        for source, path in enumerate(paths):
            self._read_file(rec, source, path)
        return rec

    def _read_file(self, rec: Recording, source: int, path: Path) -> None:
        last_ts = 0
        lines = 0
        append_kind, append_payload = rec.kind.append, rec.payload.append
        append_ts, append_line, append_symbol = rec.ts_recv.append, rec.line.append, rec.symbol.append
        guard = self._guard.check
        for line_no, line in enumerate(read_bytes(path).split(b"\n"), start=1):
            if not line or line.isspace():
                continue
            lines += 1
            stamp, _, body = line.partition(b" ")
            if not stamp.isdigit():  # int() would also take "+1", "1_000" and " 1"
                self._reject(rec, source, line_no, "malformed", "no '<local_ns> ' prefix", line)
                continue
            ts_recv = int(stamp)
            if not 0 < ts_recv <= INT64_MAX:
                why = f"local timestamp {stamp[:40].decode()} is outside 1..2^63-1 ns"
                self._reject(rec, source, line_no, "out_of_range", why, line)
                continue
            try:
                decoded = self._decode(body)
            except ValueError as exc:  # msgspec's DecodeError and ValidationError are ValueErrors
                self._reject(rec, source, line_no, validation_reason(str(exc)), str(exc), line)
                continue
            except RecursionError:
                self._reject(rec, source, line_no, "too_deep", "JSON nested too deeply", line)
                continue
            if decoded is None:
                rec.count("other_streams")
                continue
            kind, payload, symbol = decoded
            broken = guard(kind, payload, symbol, len(rec.kind))
            if broken is not None:
                self._reject(rec, source, line_no, broken[0], broken[1], line, symbol)
                continue
            if self._guard.outliers:
                self._refuse_outliers(rec, source)
            if ts_recv < last_ts:
                rec.count("ts_recv_clamped")  # keep the stream sorted without reordering messages
                ts_recv = last_ts
            last_ts = ts_recv
            append_kind(kind)
            append_payload(payload)
            append_ts(ts_recv)
            append_line(line_no)
            append_symbol(symbol)
        rec.source.extend([source] * (len(rec.kind) - len(rec.source)))
        rec.count("lines", lines)

    def _refuse_outliers(self, rec: Recording, current: int) -> None:
        """Refuse, after the fact, messages the guard found out of line with those around them."""
        for index, why in self._guard.outliers:
            source = rec.source[index] if index < len(rec.source) else current  # sources are set per file
            path, line = rec.files[source], rec.line[index]
            if self.strict:
                raise DataError(f"rejected line (time_backwards): {why}", source=path, line=line)
            rec.dropped.add(index)
            count_rejection(rec, "time_backwards", rec.symbol[index])
            self.on_issue(Issue("time_backwards", path, line, f"{why}; skipped"))
        self._guard.outliers.clear()

    def _reject(
        self, rec: Recording, source: int, line: int, reason: str, why: str, raw: bytes, symbol: str = ""
    ) -> None:
        path = rec.files[source]
        if self.strict:
            what = "malformed line" if reason == "malformed" else f"rejected line ({reason})"
            raise DataError(f"{what}: {why}", source=path, line=line)
        count_rejection(rec, reason, symbol)
        self.on_issue(Issue(reason, path, line, f"{why}; skipped: {raw[:200]!r}"))

    def _decode(self, body: bytes) -> tuple[int, Payload, str] | None:
        end = body.find(b'"', len(_PREFIX))
        if end > 0 and body.startswith(_PREFIX):  # the usual shape: one decode straight into the payload
            name = body[len(_PREFIX) : end]
            if name in self._known:
                known = self._known[name]
            else:
                known = _classify(name.decode(errors="replace"))
                if len(self._known) < 1024:  # a corrupt file must not grow the cache without bound
                    self._known[name] = known
            if known is None:
                return None
            kind, decoder, symbol = known
            return kind, decoder.decode(body).data, symbol
        envelope = self._envelope.decode(body)  # other key orders, and the REST snapshot
        if envelope.stream is None:
            snapshot = self._snapshot.decode(body)
            return SNAPSHOT, snapshot, snapshot.symbol.upper()
        known = _classify(envelope.stream)
        if known is None:
            return None
        kind, _, symbol = known
        payload: Payload = msgspec.json.decode(envelope.data, type=_STREAMS_BY_KIND[kind])  # type: ignore[assignment]
        return kind, payload, symbol


def count_rejection(rec: Recording, reason: str, symbol: str = "") -> None:
    """Count one refused message under its reason (malformed ones also as `malformed_lines`)."""
    rec.count(f"rejected_{reason}", symbol=symbol)
    rec.count("rejected", symbol=symbol)
    if reason == "malformed":
        rec.count("malformed_lines", symbol=symbol)


_STREAMS_BY_KIND: dict[int, type[msgspec.Struct]] = {kind: t for kind, t in _STREAMS.values()}


def _classify(stream: str) -> _Known:
    name, _, rest = stream.partition("@")
    found = _STREAMS.get(rest.partition("@")[0])
    if found is None:
        return None
    if not _SYMBOL.fullmatch(name):  # Binance's stream names are lower-case letters, digits and _
        raise ValueError(f"stream name {stream[:60]!r} does not name a Binance symbol")
    kind, _ = found
    return kind, _ENVELOPES[kind], name.upper()


def _envelope_decoder(payload_type: type[msgspec.Struct]) -> msgspec.json.Decoder[Any]:
    envelope = msgspec.defstruct(
        f"{payload_type.__name__}Envelope", [("stream", str), ("data", payload_type)], gc=False
    )
    return msgspec.json.Decoder(envelope)


# One decoder per kind of stream (not per stream name: a corrupt recording may name thousands of them).
_ENVELOPES: dict[int, msgspec.json.Decoder[Any]] = {
    kind: _envelope_decoder(payload_type) for kind, payload_type in _STREAMS.values()
}


def read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read recording: {exc.strerror}", source=str(path)) from None
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(f"corrupt gzip data: {exc}", source=str(path)) from None
    return raw


def describe_values(payload: Payload, inst: Instrument) -> str:
    """Name the first bad value of a message (slow path, only for messages that failed a check)."""
    pairs: list[tuple[object, object]] = []
    if isinstance(payload, Depth | Snapshot):
        for raw in (payload.bids, payload.asks):
            try:
                pairs += [(level[0], level[1]) for level in msgspec.json.decode(raw)]
            except (ValueError, TypeError, IndexError, KeyError, RecursionError):
                return f"level array is malformed: {bytes(raw)[:120]!r}"
    elif isinstance(payload, Trade):
        pairs = [(payload.price, payload.qty)]
    else:
        pairs = [(payload.bid, payload.bid_qty), (payload.ask, payload.ask_qty)]
    for price, size in pairs:
        if not isinstance(price, str) or not isinstance(size, str):
            return f"level {[price, size]!r} does not hold two decimal strings"[:200]
        try:
            ticks = inst.price_to_ticks(price)
            if inst.size_to_lots(size) < 0 or price.startswith("-"):
                return f"negative value in level {[price, size]!r}"
        except (ArithmeticError, ValueError) as exc:  # GridError is a ValueError
            return str(exc)[:200]
        if ticks <= 0 or (isinstance(payload, Trade) and inst.size_to_lots(size) == 0):
            break
    if isinstance(payload, Depth | Snapshot):
        return f"level {[price, size]!r}" if pairs else "no levels"
    if isinstance(payload, BookTicker):
        return f"bid {payload.bid} x {payload.bid_qty}, ask {payload.ask} x {payload.ask_qty}"
    if isinstance(payload, Trade):
        return f"trade {payload.trade_id} at {payload.price} x {payload.qty}"
    return "a value is malformed"
