"""Gate v4 USDT futures market data from a cryptofeed recording (2023), replayed verbatim.

`GATEIO_FUTURES.0.gz` holds the contract list, `GATEIO_FUTURES.http.0.0.gz` one REST order-book snapshot
(`with_id=true`) per contract and `GATEIO_FUTURES.ws.1.0.gz` the WebSocket's `futures.order_book_update`
(``U``/``u`` update ids) and `futures.book_ticker` frames. A client's REST snapshot is served from the
server's own book at its current update id, in the recorded body's shape, so a client that
(re)subscribes at any time chains its diffs onto it exactly as on Gate.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from tradewright.core.errors import DataError
from tradewright.core.ids import InstrumentId, Venue
from tradewright.model.instrument import Instrument, InstrumentKind
from tradewright.servers._core.accounts import MarketKind, SimMarket
from tradewright.servers._core.books import StringBook
from tradewright.servers._core.recording import Recording
from tradewright.servers._core.text import dumps
from tradewright.servers._core.timeline import MarketEvent, Row

__all__ = [
    "apply_update",
    "book_body",
    "contracts",
    "corrupt_update",
    "gate_events",
    "gate_markets",
    "seed_books",
]


def contracts(rec: Recording) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in rec.http_matching("/api/v4/futures/usdt/contracts"):
        try:
            for row in json.loads(r.body):
                out[row["name"]] = row
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DataError(f"Gate contracts answer is malformed: {exc}", source=r.url) from None
    return out


def _snapshots(rec: Recording) -> dict[str, dict[str, Any]]:
    out = {}
    for r in rec.http_matching("/api/v4/futures/usdt/order_book"):
        out[r.query.split("contract=")[1].split("&")[0]] = json.loads(r.body)
    return out


def gate_events(rec: Recording) -> list[MarketEvent]:
    """The recorded futures order-book diffs, book tickers and trades, in arrival order.

    Each contract's book starts from its recorded REST snapshot (a `snapshot:` event, published to no
    one, that seeds the matching engine); diffs it already contains change nothing.
    """
    snaps = _snapshots(rec)
    seeded: set[str] = set()
    events = []
    for session in rec.sessions_matching("/v4/ws/usdt"):
        for frame in session.frames:
            msg = json.loads(frame.text)
            if msg.get("event") != "update":
                continue
            channel, result = msg.get("channel", ""), msg.get("result")
            if channel == "futures.order_book_update":
                name = result["s"]
                snap = snaps.get(name)
                if snap is not None and name not in seeded:
                    seeded.add(name)
                    rows = (Row("clear", 0, "0", "0"), *(Row("level", 1, lv["p"], str(lv["s"])) for lv in snap["bids"]),
                            *(Row("level", -1, lv["p"], str(lv["s"])) for lv in snap["asks"]))  # fmt: skip
                    events.append(MarketEvent(frame.ts_ns, f"snapshot:{name}", None, name, rows))
                stale = snap is not None and int(result["u"]) <= int(snap["id"])
                rows = (
                    ()
                    if stale
                    else tuple(Row("level", 1, lv["p"], str(lv["s"])) for lv in result.get("b", ()))
                    + tuple(Row("level", -1, lv["p"], str(lv["s"])) for lv in result.get("a", ()))
                )
                events.append(MarketEvent(frame.ts_ns, f"{channel}:{name}", (msg, frame.text), name, rows))
            elif channel == "futures.trades":
                for t in result:
                    row = Row(
                        "trade", 1 if int(t["size"]) > 0 else -1, str(t["price"]), str(abs(int(t["size"])))
                    )
                    events.append(
                        MarketEvent(
                            frame.ts_ns,
                            f"{channel}:{t['contract']}",
                            (msg, frame.text),
                            t["contract"],
                            (row,),
                        )
                    )
            elif channel == "futures.book_ticker":
                events.append(MarketEvent(frame.ts_ns, f"{channel}:{result['s']}", (msg, frame.text)))
    return events


def gate_markets(rec: Recording, events: list[MarketEvent]) -> list[SimMarket]:
    rows = contracts(rec)
    with_books = sorted(
        {
            ev.symbol
            for ev in events
            if ev.symbol is not None and ev.topic.startswith("futures.order_book_update:")
        }
    )
    out = []
    for name in with_books:
        row = rows.get(name)
        if row is None:
            continue
        base, _, quote = name.partition("_")
        inst = Instrument(
            id=InstrumentId(f"{name}-PERP", Venue("GATE")), kind=InstrumentKind.PERPETUAL, base=base, quote=quote,
            settle=quote, tick_size=Decimal(row["order_price_round"]), lot_size=Decimal(1),
            min_size=Decimal(str(row.get("order_size_min", 1))), multiplier=Decimal(row["quanto_multiplier"]),
            maker_fee=Decimal(row.get("maker_fee_rate", "0")), taker_fee=Decimal(row.get("taker_fee_rate", "0")),
        )  # fmt: skip
        out.append(SimMarket(name, MarketKind.LINEAR, inst, base, quote, quote))
    return out


def seed_books(rec: Recording, names: list[str]) -> dict[str, StringBook]:
    """The recorded REST snapshots: each book starts there, at the snapshot's id."""
    books = {name: StringBook() for name in names}
    for name, body in _snapshots(rec).items():
        book = books.get(name)
        if book is None:
            continue
        book.clear()
        for side, key in ((1, "bids"), (-1, "asks")):
            for lv in body[key]:
                book.set(side, lv["p"], str(lv["s"]))
        book.seq = int(body["id"])
        book.ts_ms = int(Decimal(str(body["update"])) * 1000)
        book.synced = True
    return books


def apply_update(book: StringBook, result: dict[str, Any]) -> bool:
    """Apply a diff to the server's book (a diff the book already contains is skipped); True if applied."""
    if int(result["u"]) <= book.seq:
        return False
    for side, key in ((1, "b"), (-1, "a")):
        for lv in result.get(key, ()):
            book.set(side, lv["p"], str(lv["s"]))
    book.seq = int(result["u"])
    book.ts_ms = int(result.get("t", book.ts_ms))
    return True


def book_body(book: StringBook, limit: int, now_s: float) -> str:
    """GET /api/v4/futures/usdt/order_book?with_id=true from the server's book (recorded body's shape)."""

    def side(s: int) -> list[dict[str, Any]]:
        return [{"s": int(Decimal(sz)), "p": px} for px, sz in book.pairs(s, limit)]

    return dumps(
        {
            "id": book.seq,
            "current": round(now_s, 3),
            "update": book.ts_ms / 1000,
            "asks": side(-1),
            "bids": side(1),
        }
    )


def corrupt_update(text: str) -> str:
    """A diff whose first level has a size that is not a number: a malformed frame."""
    msg = json.loads(text)
    result = msg["result"]
    for key in ("b", "a"):
        if result.get(key):
            result[key][0]["s"] = "NaN-corrupt"
            return dumps(msg)
    result["b"] = [{"p": "0", "s": "NaN-corrupt"}]
    return dumps(msg)
