"""OKX v5 market data from a cryptofeed recording, replayed verbatim.

The 2022 recording (`OKX.0.gz`, `OKX.ws.1.0.gz`) holds the REST instrument lists ccxt's `load_markets`
asks for and the public WebSocket's `books` (400 levels, CRC32 checksum), `trades` and `tickers`
channels. Frames go out exactly as recorded; what the recording cannot hold — the snapshot a client gets
when it subscribes mid-stream or again after a resync — is built from the server's own copy of the book,
in the recorded snapshot's shape (levels ``[px, sz, "0", orders]``), with the checksum computed by OKX's
rule (`tradewright.model.checksum.okx_checksum`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from tradewright.core.errors import DataError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.model.checksum import okx_checksum
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.servers._core.accounts import MarketKind, SimMarket
from tradewright.servers._core.books import StringBook
from tradewright.servers._core.recording import Recording
from tradewright.servers._core.text import dumps, num
from tradewright.servers._core.timeline import MarketEvent, Row

__all__ = [
    "BOOK_CHANNELS",
    "OKX_FEES",
    "apply_book",
    "bad_checksum",
    "corrupt_frame",
    "instrument_rows",
    "okx_events",
    "okx_markets",
    "snapshot_frame",
]

BOOK_CHANNELS = ("books",)
# OKX's regular-user (VIP0) spot and swap rates: the recording has no fee data (documented values).
OKX_FEES = {"SPOT": (Decimal("0.0008"), Decimal("0.001")), "SWAP": (Decimal("0.0002"), Decimal("0.0005"))}


def instrument_rows(rec: Recording) -> dict[str, dict[str, Any]]:
    """Every instrument in the recorded instrument lists, by instId (the newest answer wins)."""
    out: dict[str, dict[str, Any]] = {}
    for r in rec.http_matching("/api/v5/public/instruments"):
        try:
            for row in json.loads(r.body)["data"]:
                out[row["instId"]] = row
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DataError(f"OKX instruments answer is malformed: {exc}", source=r.url) from None
    return out


def _market(row: dict[str, Any]) -> SimMarket:
    inst_type = row["instType"]
    ct_type = row.get("ctType", "")
    kind = (
        MarketKind.SPOT
        if inst_type == "SPOT"
        else MarketKind.INVERSE
        if ct_type == "inverse"
        else MarketKind.LINEAR
    )
    maker, taker = OKX_FEES.get(inst_type, OKX_FEES["SWAP"])
    if kind is MarketKind.SPOT:
        base, quote = row["baseCcy"], row["quoteCcy"]
        settle, mult = quote, Decimal(1)
    else:
        uly = row.get("uly") or row["instId"]
        base, _, quote = uly.partition("-")
        settle = row.get("settleCcy") or quote
        mult = Decimal(row.get("ctVal") or "1") * Decimal(row.get("ctMult") or "1")
    instrument = Instrument(
        id=InstrumentId(row["instId"], Venue("OKX")),
        kind=InstrumentKind.SPOT if kind is MarketKind.SPOT else InstrumentKind.PERPETUAL,
        base=base,
        quote=quote,
        settle=settle,
        tick_size=Decimal(row["tickSz"]),
        lot_size=Decimal(row["lotSz"]),
        min_size=Decimal(row.get("minSz") or "0"),
        maker_fee=maker,
        taker_fee=taker,
        multiplier=mult,
        inverse=kind is MarketKind.INVERSE,
    )
    return SimMarket(row["instId"], kind, instrument, base, quote, settle)


def _frames(rec: Recording) -> Iterable[tuple[int, dict[str, Any], str]]:
    for session in rec.sessions_matching("/ws/v5/public"):
        for frame in session.frames:
            try:
                msg = json.loads(frame.text)
            except json.JSONDecodeError as exc:
                raise DataError(f"OKX frame is not JSON: {exc}", source=session.source) from None
            if isinstance(msg, dict) and "arg" in msg and "data" in msg:
                yield frame.ts_ns, msg, frame.text


def okx_events(rec: Recording) -> list[MarketEvent]:
    """The recorded `books`, `trades` and `tickers` frames as market events, in arrival order."""
    events = []
    for ts_ns, msg, text in _frames(rec):
        arg = msg["arg"]
        channel, inst = arg.get("channel", ""), arg.get("instId", "")
        rows: list[Row] = []
        symbol = None
        if channel in BOOK_CHANNELS:
            symbol = inst
            data = msg["data"][0]
            if msg.get("action") == "snapshot":
                rows.append(Row("clear", 0, "0", "0"))
            rows += [Row("level", 1, lv[0], lv[1]) for lv in data.get("bids", [])]
            rows += [Row("level", -1, lv[0], lv[1]) for lv in data.get("asks", [])]
        elif channel == "trades":
            symbol = inst
            rows = [Row("trade", 1 if t["side"] == "buy" else -1, t["px"], t["sz"]) for t in msg["data"]]
        events.append(MarketEvent(ts_ns, f"{channel}:{inst}", (msg, text), symbol, tuple(rows)))
    return events


def okx_markets(rec: Recording, events: list[MarketEvent]) -> list[SimMarket]:
    """The instruments the recording has books for (the ones the server can match orders on)."""
    rows = instrument_rows(rec)
    with_books = {ev.symbol for ev in events if ev.symbol is not None and ev.topic.startswith("books:")}
    return [_market(rows[i]) for i in sorted(with_books) if i in rows]


def apply_book(book: StringBook, msg: dict[str, Any]) -> None:
    """Apply a `books` frame to the server's copy of the book."""
    data = msg["data"][0]
    if msg.get("action") == "snapshot":
        book.clear()
        book.synced = True
    for side, key in ((1, "bids"), (-1, "asks")):
        for level in data.get(key, []):
            book.set(side, level[0], level[1], *level[2:])
    book.ts_ms = int(data.get("ts", book.ts_ms) or 0)


def snapshot_frame(channel: str, inst_id: str, book: StringBook) -> str:
    """A `books` snapshot of the server's current book, with OKX's checksum."""
    bids, asks = book.top(1), book.top(-1)
    checksum = okx_checksum(book.pairs(1, 25), book.pairs(-1, 25))

    def levels(side: list[tuple[str, ...]]) -> list[list[str]]:
        return [[lv[0], lv[1], *(lv[2:] or ("0", "1"))] for lv in side]

    return dumps(
        {
            "arg": {"channel": channel, "instId": inst_id},
            "action": "snapshot",
            "data": [
                {"asks": levels(asks), "bids": levels(bids), "ts": str(book.ts_ms), "checksum": checksum}
            ],
        }
    )


def corrupt_frame(text: str, book: StringBook) -> str:
    """The frame with the best bid's size doubled (its checksum left as it was): a corrupt level."""
    msg = json.loads(text)
    top = book.top(1, 1)
    if not top:
        return text
    price, size = top[0][0], top[0][1]
    data = msg["data"][0]
    data["bids"] = [lv for lv in data.get("bids", []) if Decimal(lv[0]) != Decimal(price)]
    data["bids"].append([price, num(Decimal(size) * 2), "0", "1"])
    return dumps(msg)


def bad_checksum(text: str) -> str:
    msg = json.loads(text)
    data = msg["data"][0]
    if "checksum" in data:
        data["checksum"] = data["checksum"] ^ 1
    return dumps(msg)
