"""Bitget spot market data: the 2022 cryptofeed recording (API v1) transcoded to the v2 wire CCXT speaks.

What the transcoder changes, and only that (the proof in ../shared/reference/cex-wire-replay.md):

* REST: v1 `GET /api/spot/v1/public/products` rows become v2 `GET /api/v2/spot/public/symbols` rows
  (``symbolName`` -> ``symbol``, ``priceScale`` -> ``pricePrecision``, ``quantityScale`` ->
  ``quantityPrecision``; the other v2 fields a client reads, written from Bitget's v2 documentation);
* WebSocket `books`: ``arg.instType`` ``sp`` -> ``SPOT``. Levels, checksums and timestamps are the
  recorded ones (v1 and v2 share the checksum rule: CRC32 of the top 25 levels interleaved);
* WebSocket `trade`: v1 rows ``[ts, price, size, side]`` become v2 objects
  ``{ts, price, size, side, tradeId}`` (v1 sends no trade id: the id is written from the timestamp and
  the row's position in its message — documented v2 shape, synthesised id).
"""

from __future__ import annotations

import json
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
    "apply_book",
    "bad_checksum",
    "bitget_events",
    "bitget_markets",
    "corrupt_frame",
    "products",
    "snapshot_frame",
    "symbols_body",
]


def products(rec: Recording) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for r in rec.http_matching("/api/spot/v1/public/products"):
        try:
            rows = json.loads(r.body)["data"]
        except (json.JSONDecodeError, KeyError) as exc:
            raise DataError(f"Bitget v1 products answer is malformed: {exc}", source=r.url) from None
    return rows


def _v2_symbol(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "symbol": row["symbolName"], "baseCoin": row["baseCoin"], "quoteCoin": row["quoteCoin"],
        "minTradeAmount": row["minTradeAmount"], "maxTradeAmount": row["maxTradeAmount"],
        "takerFeeRate": row["takerFeeRate"], "makerFeeRate": row["makerFeeRate"],
        "pricePrecision": row["priceScale"], "quantityPrecision": row["quantityScale"],
        "quotePrecision": row["priceScale"], "status": row["status"], "minTradeUSDT": "1",
        "buyLimitPriceRatio": "0.05", "sellLimitPriceRatio": "0.05", "areaSymbol": "no", "orderQuantity": "200",
        "openTime": "0", "offTime": "",
    }  # fmt: skip


def symbols_body(rows: list[dict[str, Any]], now_ms: int) -> str:
    return dumps(
        {"code": "00000", "msg": "success", "requestTime": now_ms, "data": [_v2_symbol(r) for r in rows]}
    )


def bitget_events(rec: Recording) -> list[MarketEvent]:
    """The recorded spot `books` and `trade` frames, transcoded to v2, in arrival order."""
    events = []
    for session in rec.sessions_matching("/spot/v1/stream"):
        for frame in session.frames:
            msg = json.loads(frame.text)
            arg = msg.get("arg")
            if not isinstance(arg, dict) or "data" not in msg:
                continue
            arg["instType"] = "SPOT"
            channel, inst = arg.get("channel"), str(arg.get("instId"))
            if channel == "books":
                data = msg["data"][0]
                rows = [Row("clear", 0, "0", "0")] if msg.get("action") == "snapshot" else []
                rows += [Row("level", 1, p, s) for p, s in data.get("bids", ())]
                rows += [Row("level", -1, p, s) for p, s in data.get("asks", ())]
                events.append(MarketEvent(frame.ts_ns, f"books:{inst}", msg, inst, tuple(rows)))
            elif channel == "trade":
                trades = [
                    {"ts": str(t[0]), "price": t[1], "size": t[2], "side": t[3], "tradeId": f"{t[0]}{i:03d}"}
                    for i, t in enumerate(msg["data"])
                ]
                msg["data"] = trades
                rows = [Row("trade", 1 if t["side"] == "buy" else -1, t["price"], t["size"]) for t in trades]
                events.append(
                    MarketEvent(
                        frame.ts_ns,
                        f"trade:{inst}",
                        msg,
                        inst,
                        tuple(rows) if msg.get("action") == "update" else (),
                    )
                )
    return events


def bitget_markets(rows: list[dict[str, Any]], events: list[MarketEvent]) -> list[SimMarket]:
    with_books = {ev.symbol for ev in events if ev.topic.startswith("books:")}
    out = []
    for row in rows:
        name = row["symbolName"]
        if name not in with_books:
            continue
        inst = Instrument(
            id=InstrumentId(name, Venue("BITGET")), kind=InstrumentKind.SPOT, base=row["baseCoin"], quote=row["quoteCoin"],
            settle=row["quoteCoin"], tick_size=Decimal(1).scaleb(-int(row["priceScale"])),
            lot_size=Decimal(1).scaleb(-int(row["quantityScale"])), min_size=Decimal(row["minTradeAmount"]),
            maker_fee=Decimal(row["makerFeeRate"]), taker_fee=Decimal(row["takerFeeRate"]),
        )  # fmt: skip
        out.append(
            SimMarket(name, MarketKind.SPOT, inst, row["baseCoin"], row["quoteCoin"], row["quoteCoin"])
        )
    return out


def apply_book(book: StringBook, msg: dict[str, Any]) -> None:
    data = msg["data"][0]
    if msg.get("action") == "snapshot":
        book.clear()
        book.synced = True
    for side, key in ((1, "bids"), (-1, "asks")):
        for p, s in data.get(key, ()):
            book.set(side, p, s)
    book.ts_ms = int(data.get("ts", book.ts_ms) or 0)


def snapshot_frame(inst: str, book: StringBook) -> str:
    """A `books` snapshot of the server's book with Bitget's checksum (what a (re)subscription gets)."""
    data = {"asks": [list(lv) for lv in book.pairs(-1)], "bids": [list(lv) for lv in book.pairs(1)],
            "checksum": okx_checksum(book.pairs(1, 25), book.pairs(-1, 25)), "ts": str(book.ts_ms)}  # fmt: skip
    return dumps(
        {
            "action": "snapshot",
            "arg": {"instType": "SPOT", "channel": "books", "instId": inst},
            "data": [data],
            "ts": book.ts_ms,
        }
    )


def corrupt_frame(text: str, book: StringBook) -> str:
    """The frame with the best bid's size doubled (checksum kept): a corrupt level."""
    msg = json.loads(text)
    top = book.top(1, 1)
    if not top:
        return text
    price, size = top[0][0], top[0][1]
    data = msg["data"][0]
    data["bids"] = [lv for lv in data.get("bids", []) if Decimal(lv[0]) != Decimal(price)] + [
        [price, num(Decimal(size) * 2)]
    ]
    return dumps(msg)


def bad_checksum(text: str) -> str:
    msg = json.loads(text)
    if "checksum" in msg["data"][0]:
        msg["data"][0]["checksum"] ^= 1
    return dumps(msg)
