"""Bybit v5 linear market data from real v5 frames.

The cryptofeed Bybit recording (2021) speaks the retired v2 API, which CCXT no longer understands. The
v5 sources are Bybit's own public order-book history file `l2/nautilus/bybit_xrpusdt-ob500.data.zip`
(raw `orderbook.500.XRPUSDT` frames: one snapshot, then deltas whose ``u`` rises by one) and nautilus'
v5 REST fixtures (`venues/bybit/nautilus_rust/http_get_instruments_linear.json`: BTCUSDT, ETHUSDT).
The XRPUSDT instrument row is not in any fixture: it is written in the fixtures' shape (Bybit's v5
documentation), with the grid the recorded frames use (tick 0.0001, size step 1) — marked below.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradewright.core.errors import DataError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.servers._core.accounts import MarketKind, SimMarket
from tradewright.servers._core.books import StringBook
from tradewright.servers._core.recording import WsFrame, load_frame_lines
from tradewright.servers._core.text import dumps
from tradewright.servers._core.timeline import MarketEvent, Row

__all__ = [
    "BYBIT_FEES",
    "apply_frame",
    "bybit_events",
    "bybit_markets",
    "corrupt_frame",
    "instruments_body",
    "load_sources",
    "snapshot_frame",
]

# Bybit's non-VIP linear rates (https://www.bybit.com/en/help-center/article/Trading-Fee-Structure)
BYBIT_FEES = (Decimal("0.0002"), Decimal("0.00055"))

# documented shape (v5 GET /v5/market/instruments-info), grid from the recorded XRPUSDT frames
_XRPUSDT_ROW: dict[str, Any] = {
    "symbol": "XRPUSDT", "contractType": "LinearPerpetual", "status": "Trading", "baseCoin": "XRP",
    "quoteCoin": "USDT", "launchTime": "1653033600000", "deliveryTime": "0", "deliveryFeeRate": "",
    "priceScale": "4", "leverageFilter": {"minLeverage": "1", "maxLeverage": "75.00", "leverageStep": "0.01"},
    "priceFilter": {"minPrice": "0.0001", "maxPrice": "199.9998", "tickSize": "0.0001"},
    "lotSizeFilter": {"maxOrderQty": "1500000", "minOrderQty": "1", "qtyStep": "1", "postOnlyMaxOrderQty": "7000000",
                      "maxMktOrderQty": "500000", "minNotionalValue": "5"},
    "unifiedMarginTrade": True, "fundingInterval": 480, "settleCoin": "USDT",
}  # fmt: skip


def load_sources(
    frames_path: Path | str, instruments_path: Path | str
) -> tuple[list[WsFrame], dict[str, Any]]:
    """The recorded v5 frames and the instrument list they trade in (the fixture plus XRPUSDT)."""
    frames = load_frame_lines(frames_path)
    try:
        body = json.loads(Path(instruments_path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(
            f"Bybit instruments fixture unreadable: {exc}", source=str(instruments_path)
        ) from None
    rows = list(body["result"]["list"])
    if not any(r["symbol"] == "XRPUSDT" for r in rows):
        rows.append(_XRPUSDT_ROW)
    body["result"]["list"] = rows
    return frames, body


def instruments_body(body: dict[str, Any]) -> str:
    return dumps(body)


def bybit_events(frames: list[WsFrame]) -> list[MarketEvent]:
    events = []
    for frame in frames:
        msg = json.loads(frame.text)
        topic = str(msg.get("topic", ""))
        data = msg.get("data") or {}
        if topic.startswith("orderbook."):
            rows: list[Row] = [Row("clear", 0, "0", "0")] if msg.get("type") == "snapshot" else []
            rows += [Row("level", 1, p, s) for p, s in data.get("b", ())]
            rows += [Row("level", -1, p, s) for p, s in data.get("a", ())]
            events.append(MarketEvent(frame.ts_ns, topic, (msg, frame.text), str(data["s"]), tuple(rows)))
        elif topic.startswith("publicTrade."):
            rows = [Row("trade", 1 if t["S"] == "Buy" else -1, t["p"], t["v"]) for t in data]
            events.append(
                MarketEvent(frame.ts_ns, topic, (msg, frame.text), topic.split(".")[1], tuple(rows))
            )
    return events


def bybit_markets(instruments: dict[str, Any], events: list[MarketEvent]) -> list[SimMarket]:
    with_books = {ev.symbol for ev in events if ev.topic.startswith("orderbook.")}
    out = []
    for row in instruments["result"]["list"]:
        if row["symbol"] not in with_books:
            continue
        lot = row["lotSizeFilter"]
        inst = Instrument(
            id=InstrumentId(f"{row['symbol']}-PERP", Venue("BYBIT")), kind=InstrumentKind.PERPETUAL,
            base=row["baseCoin"], quote=row["quoteCoin"], settle=row.get("settleCoin", row["quoteCoin"]),
            tick_size=Decimal(row["priceFilter"]["tickSize"]), lot_size=Decimal(lot["qtyStep"]),
            min_size=Decimal(lot["minOrderQty"]), maker_fee=BYBIT_FEES[0], taker_fee=BYBIT_FEES[1],
        )  # fmt: skip
        out.append(
            SimMarket(row["symbol"], MarketKind.LINEAR, inst, row["baseCoin"], row["quoteCoin"], inst.settle)
        )
    return out


def apply_frame(book: StringBook, msg: dict[str, Any]) -> None:
    data = msg["data"]
    if msg.get("type") == "snapshot":
        book.clear()
        book.synced = True
    for side, key in ((1, "b"), (-1, "a")):
        for p, s in data.get(key, ()):
            book.set(side, p, s)
    book.seq = int(data["u"])
    book.ts_ms = int(msg.get("ts", book.ts_ms))
    book.meta["seq"] = int(data.get("seq", 0))


def snapshot_frame(topic: str, symbol: str, book: StringBook) -> str:
    """A snapshot of the server's book at its current ``u`` (what Bybit sends on (re)subscribe)."""
    data = {"s": symbol, "b": [list(lv) for lv in book.pairs(1)], "a": [list(lv) for lv in book.pairs(-1)],
            "u": book.seq, "seq": book.meta.get("seq", 0)}  # fmt: skip
    return dumps({"topic": topic, "type": "snapshot", "ts": book.ts_ms, "data": data, "cts": book.ts_ms})


def corrupt_frame(text: str) -> str:
    """A delta whose first level's size is not a number: a malformed frame."""
    msg = json.loads(text)
    data = msg["data"]
    key = "b" if data.get("b") else "a"
    if data.get(key):
        data[key][0][1] = "NaN-corrupt"
    else:
        data["b"] = [["0", "NaN-corrupt"]]
    return dumps(msg)
