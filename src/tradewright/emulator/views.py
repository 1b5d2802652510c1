"""REST market-data views computed from the trades replayed so far: klines, tickers, aggregate trades."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np

from tradewright.emulator.errors import VenueErrors
from tradewright.emulator.market import MarketReplay

__all__ = [
    "INTERVAL_MS",
    "agg_trades",
    "book_ticker",
    "klines",
    "recent_trades",
    "ticker_24hr",
    "ticker_price",
]

_MIN = 60_000
INTERVAL_MS: dict[str, int] = {
    "1s": 1000,
    "1m": _MIN,
    "3m": 3 * _MIN,
    "5m": 5 * _MIN,
    "15m": 15 * _MIN,
    "30m": 30 * _MIN,
    "1h": 60 * _MIN,
    "2h": 120 * _MIN,
    "4h": 240 * _MIN,
    "6h": 360 * _MIN,
    "8h": 480 * _MIN,
    "12h": 720 * _MIN,
    "1d": 1440 * _MIN,
    "3d": 3 * 1440 * _MIN,
    "1w": 7 * 1440 * _MIN,
}


def _trade_arrays(m: MarketReplay) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rows = m.trades_upto()
    s = m.stream
    return rows, s.ts_event[rows] // 1_000_000, s.tick[rows], s.lots[rows], s.side[rows]


def recent_trades(m: MarketReplay, limit: int) -> list[dict[str, Any]]:
    rows = m.trades_upto()
    return [m.trade_json(int(k)) for k in rows[max(0, len(rows) - limit) :]]


def agg_trades(
    m: MarketReplay, limit: int, from_id: int | None, start_ms: int | None, end_ms: int | None
) -> list[dict[str, Any]]:
    """One aggregate trade per recorded trade (the recordings hold individual trades)."""
    rows, times, _, _, _ = _trade_arrays(m)
    ids = m.stream.update_id[rows]
    mask = np.ones(len(rows), dtype=bool)
    if from_id is not None:
        mask &= ids >= from_id
    if start_ms is not None:
        mask &= times >= start_ms
    if end_ms is not None:
        mask &= times <= end_ms
    chosen = rows[mask]
    chosen = chosen[:limit] if (from_id is not None or start_ms is not None) else chosen[-limit:]
    return [m.agg_json(int(k)) for k in chosen]


def klines(
    m: MarketReplay, interval: str, start_ms: int | None, end_ms: int | None, limit: int, errors: VenueErrors
) -> list[list[Any]]:
    step = INTERVAL_MS.get(interval)
    if step is None:
        raise errors.bad_interval()
    _, times, ticks, lots, sides = _trade_arrays(m)
    if len(times) == 0:
        return []
    opens = times - times % step
    inst = m.spec.instrument
    price, qty, amount = m.spec.price, m.spec.qty, m.spec.amount
    starts = np.flatnonzero(np.r_[True, opens[1:] != opens[:-1]])
    stops = np.r_[starts[1:], len(times)]
    out: list[list[Any]] = []
    for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
        t0 = int(opens[a])
        if (start_ms is not None and t0 + step - 1 < start_ms) or (end_ms is not None and t0 > end_ms):
            continue
        tk, lt, sd = ticks[a:b], lots[a:b], sides[a:b]
        notional_units = int(np.dot(tk.astype(object), lt.astype(object)))
        buy = sd > 0
        buy_units = int(np.dot(tk[buy].astype(object), lt[buy].astype(object)))
        unit = inst.tick_size * inst.lot_size
        out.append(
            [
                t0,
                price(inst.ticks_to_price(int(tk[0]))),
                price(inst.ticks_to_price(int(tk.max()))),
                price(inst.ticks_to_price(int(tk.min()))),
                price(inst.ticks_to_price(int(tk[-1]))),
                qty(inst.lots_to_size(int(lt.sum()))),
                t0 + step - 1,
                amount(unit * notional_units),
                b - a,
                qty(inst.lots_to_size(int(lt[buy].sum()))),
                amount(unit * buy_units),
                "0",
            ]
        )
    if start_ms is not None:
        return out[:limit]
    return out[-limit:]


def book_ticker(m: MarketReplay, now_ms: int) -> dict[str, Any]:
    book = m.book
    spec = m.spec
    out: dict[str, Any] = {}
    if spec.futures:
        out["lastUpdateId"] = m.last_depth_id
    out |= {
        "symbol": spec.symbol,
        "bidPrice": spec.price(book.best_bid or Decimal(0)),
        "bidQty": spec.qty(book.best_bid_size),
        "askPrice": spec.price(book.best_ask or Decimal(0)),
        "askQty": spec.qty(book.best_ask_size),
    }
    if spec.futures:
        out["time"] = now_ms
    return out


def ticker_price(m: MarketReplay, now_ms: int) -> dict[str, Any]:
    rows = m.trades_upto()
    inst = m.spec.instrument
    last = inst.ticks_to_price(int(m.stream.tick[rows[-1]])) if len(rows) else Decimal(0)
    out: dict[str, Any] = {"symbol": m.spec.symbol, "price": m.spec.price(last)}
    if m.spec.futures:
        out["time"] = now_ms
    return out


def ticker_24hr(m: MarketReplay, now_ms: int) -> dict[str, Any]:
    rows, times, ticks, lots, _ = _trade_arrays(m)
    keep = times >= now_ms - 86_400_000
    rows, times, ticks, lots = rows[keep], times[keep], ticks[keep], lots[keep]
    spec = m.spec
    inst = spec.instrument
    price, qty, amount = spec.price, spec.qty, spec.amount
    zero = Decimal(0)
    if len(rows):
        first, last = inst.ticks_to_price(int(ticks[0])), inst.ticks_to_price(int(ticks[-1]))
        volume = inst.lots_to_size(int(lots.sum()))
        quote_volume = inst.tick_size * inst.lot_size * int(np.dot(ticks.astype(object), lots.astype(object)))
        high, low = inst.ticks_to_price(int(ticks.max())), inst.ticks_to_price(int(ticks.min()))
        ids = m.stream.update_id[rows]
        first_id, last_id, open_ms = int(ids[0]), int(ids[-1]), int(times[0])
        last_qty = inst.lots_to_size(int(lots[-1]))
    else:
        first = last = high = low = volume = quote_volume = last_qty = zero
        first_id = last_id = -1
        open_ms = now_ms
    change = last - first
    pct = (change / first * 100) if first else zero
    weighted = quote_volume / volume if volume else zero
    out: dict[str, Any] = {
        "symbol": spec.symbol,
        "priceChange": price(change),
        "priceChangePercent": f"{pct.quantize(Decimal('0.001')):f}",
        "weightedAvgPrice": price(weighted),
    }
    if not spec.futures:
        out["prevClosePrice"] = price(first)
    out |= {"lastPrice": price(last), "lastQty": qty(last_qty)}
    if not spec.futures:
        book = m.book
        out |= {
            "bidPrice": price(book.best_bid or zero),
            "bidQty": qty(book.best_bid_size),
            "askPrice": price(book.best_ask or zero),
            "askQty": qty(book.best_ask_size),
        }
    out |= {
        "openPrice": price(first),
        "highPrice": price(high),
        "lowPrice": price(low),
        "volume": qty(volume),
        "quoteVolume": amount(quote_volume),
        "openTime": open_ms,
        "closeTime": now_ms,
        "firstId": first_id,
        "lastId": last_id,
        "count": len(rows),
    }
    return out
