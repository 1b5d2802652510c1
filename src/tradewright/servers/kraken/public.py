"""Kraken spot market data: the 2021 WebSocket v1 recording transcoded to the v2 wire CCXT speaks.

What the transcoder does (see ../shared/reference/cex-wire-replay.md, "Kraken"):

* v1 `book-1000` messages (``as``/``bs`` snapshots, ``a``/``b`` updates, several blocks per message)
  are applied to the server's full book, truncated to 1000 levels a side as Kraken's v1 rule says;
* each v2 subscriber gets the window of the book it subscribed (``depth`` 10/25/100/500/1000): a
  snapshot of that window, then updates for every level that changed inside it, entered it or left it
  (``qty`` 0) — what Kraken's v2 book channel sends;
* the v2 ``checksum`` is **recomputed** from the server's book by the v2 rule: the top 10 asks then
  bids, price formatted to the pair's ``pair_decimals`` and quantity to its ``lot_decimals``, dots and
  leading zeros removed, CRC32. (The recorded v1 ``c`` hashes 8-decimal wire strings, a different text.)
  v2 numbers are JSON numbers written from the exact decimals;
* v1 pair names become v2 symbols (``XBT`` -> ``BTC``, ``XDG`` -> ``DOGE``); v1 trades become v2
  `trade` objects (v1 has no trade id: the id is written from the message's time and the row's place).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tradewright.core.errors import DataError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.servers._core.accounts import MarketKind, SimMarket
from tradewright.servers._core.books import StringBook
from tradewright.servers._core.recording import Recording
from tradewright.servers._core.timeline import MarketEvent, Row

__all__ = [
    "BookWindow",
    "Pair",
    "apply_v1",
    "book_frame",
    "checksum",
    "kraken_events",
    "kraken_markets",
    "pairs",
    "v2_symbol",
]

V1_DEPTH = 1000
_RENAME = {"XBT": "BTC", "XDG": "DOGE"}


def v2_symbol(v1_pair: str) -> str:
    base, _, quote = v1_pair.partition("/")
    return f"{_RENAME.get(base, base)}/{_RENAME.get(quote, quote)}"


@dataclass(frozen=True, slots=True)
class Pair:
    """An AssetPairs row: its ids and the precisions the v2 wire and checksum use."""

    key: str
    altname: str
    wsname: str
    base: str
    quote: str
    pair_decimals: int
    lot_decimals: int
    ordermin: Decimal
    maker_fee: Decimal
    taker_fee: Decimal

    def px(self, value: Decimal) -> str:
        return format(value, f".{self.pair_decimals}f")

    def qty(self, value: Decimal) -> str:
        return format(value, f".{self.lot_decimals}f")


def pairs(rec: Recording) -> dict[str, Pair]:
    """Every recorded AssetPairs row, by v2 symbol."""
    out: dict[str, Pair] = {}
    for r in rec.http_matching("/0/public/AssetPairs"):
        try:
            for key, row in json.loads(r.body)["result"].items():
                if "wsname" not in row:
                    continue
                fees, makers = (
                    row.get("fees") or [[0, 0]],
                    row.get("fees_maker") or row.get("fees") or [[0, 0]],
                )
                out[v2_symbol(row["wsname"])] = Pair(
                    key, row["altname"], row["wsname"], row["base"], row["quote"], int(row["pair_decimals"]),
                    int(row["lot_decimals"]), Decimal(str(row.get("ordermin", "0"))),
                    Decimal(str(makers[0][1])) / 100, Decimal(str(fees[0][1])) / 100,
                )  # fmt: skip
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise DataError(f"Kraken AssetPairs answer is malformed: {exc}", source=r.url) from None
    return out


def _blocks(msg: list[Any]) -> list[dict[str, Any]]:
    return [part for part in msg[1:-2] if isinstance(part, dict)]


def kraken_events(rec: Recording) -> list[MarketEvent]:
    """The recorded v1 book and trade messages (all files, merged by time), with their v2 symbols."""
    raw: list[tuple[int, Any]] = []
    for session in rec.sessions_matching("ws.kraken.com"):
        for frame in session.frames:
            msg = json.loads(frame.text)
            if isinstance(msg, list) and len(msg) >= 4:
                raw.append((frame.ts_ns, msg))
    raw.sort(key=lambda item: item[0])
    events = []
    for ts_ns, msg in raw:
        channel, symbol = str(msg[-2]), v2_symbol(str(msg[-1]))
        if channel.startswith("book"):
            rows: list[Row] = []
            for block in _blocks(msg):
                if "as" in block or "bs" in block:
                    rows.append(Row("clear", 0, "0", "0"))
                for key, side in (("as", -1), ("a", -1), ("bs", 1), ("b", 1)):
                    rows += [Row("level", side, lv[0], lv[1]) for lv in block.get(key, ())]
            events.append(MarketEvent(ts_ns, f"book:{symbol}", msg, symbol, tuple(rows)))
        elif channel == "trade":
            rows = [Row("trade", 1 if t[3] == "b" else -1, t[0], t[1]) for t in msg[1]]
            events.append(MarketEvent(ts_ns, f"trade:{symbol}", msg, symbol, tuple(rows)))
    return events


def kraken_markets(table: dict[str, Pair], events: list[MarketEvent]) -> list[SimMarket]:
    with_books = {ev.symbol for ev in events if ev.topic.startswith("book:") and ev.symbol is not None}
    out = []
    for symbol in sorted(with_books):
        p = table.get(symbol)
        if p is None:
            continue
        base, _, quote = symbol.partition("/")
        inst = Instrument(
            id=InstrumentId(p.altname, Venue("KRAKEN")), kind=InstrumentKind.SPOT, base=base, quote=quote, settle=quote,
            tick_size=Decimal(1).scaleb(-p.pair_decimals), lot_size=Decimal(1).scaleb(-p.lot_decimals),
            min_size=p.ordermin, maker_fee=p.maker_fee, taker_fee=p.taker_fee,
        )  # fmt: skip
        out.append(SimMarket(symbol, MarketKind.SPOT, inst, base, quote, quote))
    return out


def apply_v1(book: StringBook, msg: list[Any]) -> bool:
    """Apply a v1 book message to the server's book (truncated to 1000 levels a side); True if it held a snapshot."""
    snapshot = False
    for block in _blocks(msg):
        if "as" in block or "bs" in block:
            book.clear()
            book.synced = True
            snapshot = True
        for key, side in (("as", -1), ("a", -1), ("bs", 1), ("b", 1)):
            for lv in block.get(key, ()):
                book.set(side, lv[0], lv[1])
                book.ts_ms = int(Decimal(lv[2]) * 1000)
    for side in (1, -1):
        while book.depth(side) > V1_DEPTH:
            worst = book.top(side)[-1]
            book.set(side, worst[0], "0")
    return snapshot


def checksum(book: StringBook, pair: Pair) -> int:
    """Kraken's v2 book checksum of the server's book."""
    text = ""
    for side in (-1, 1):
        for px, qty in book.pairs(side, 10):
            for part in (pair.px(Decimal(px)), pair.qty(Decimal(qty))):
                text += part.replace(".", "").lstrip("0")
    return zlib.crc32(text.encode())


@dataclass(slots=True)
class BookWindow:
    """What one v2 subscriber holds of a book: its depth and the levels it was last told."""

    depth: int
    levels: dict[int, dict[Decimal, Decimal]] = field(default_factory=lambda: {1: {}, -1: {}})

    def snapshot(self, book: StringBook) -> dict[int, list[tuple[Decimal, Decimal]]]:
        out: dict[int, list[tuple[Decimal, Decimal]]] = {}
        for side in (1, -1):
            top = [(Decimal(p), Decimal(q)) for p, q in book.pairs(side, self.depth)]
            self.levels[side] = dict(top)
            out[side] = top
        return out

    def diff(self, book: StringBook) -> dict[int, list[tuple[Decimal, Decimal]]]:
        out: dict[int, list[tuple[Decimal, Decimal]]] = {}
        for side in (1, -1):
            new = {Decimal(p): Decimal(q) for p, q in book.pairs(side, self.depth)}
            old = self.levels[side]
            changes = [(p, q) for p, q in new.items() if old.get(p) != q]
            changes += [(p, Decimal(0)) for p in old if p not in new]
            self.levels[side] = new
            out[side] = changes
        return out


def _levels_json(levels: list[tuple[Decimal, Decimal]], pair: Pair) -> str:
    return (
        "[" + ",".join(f'{{"price":{_num(pair.px(p))},"qty":{_num(pair.qty(q))}}}' for p, q in levels) + "]"
    )


def _num(text: str) -> str:
    """A JSON number from exact decimal text (trailing zeros dropped, as Kraken writes them)."""
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def book_frame(
    symbol: str, pair: Pair, kind: str, levels: dict[int, list[tuple[Decimal, Decimal]]], crc: int, ts_ms: int
) -> str:
    """A v2 `book` message (snapshot or update) with exact JSON numbers."""
    stamp = datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
    return (
        f'{{"channel":"book","type":"{kind}","data":[{{"symbol":"{symbol}","bids":{_levels_json(levels[1], pair)},'
        f'"asks":{_levels_json(levels[-1], pair)},"checksum":{crc},"timestamp":"{stamp}"}}]}}'
    )
