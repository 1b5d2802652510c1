"""bench/anchors.py cases on hftbacktest (the rules are in that script's docstring).

The ES stream is read with tradewright's loader (timed as loading) and turned into hftbacktest's
event array (one depth or trade event per row, exchange and local time equal: no feed latency, as in
tradewright's run); building the backtester from it is timed apart. The strategy is hftbacktest's own
kind: a numba function that steps the backtester feed by feed. Its compilation is the JIT warm-up
(run first on a short slice). Risk-averse queue model (tradewright's conservative one), no partial
fills, constant 1 ms order entry and 1 ms response latency, zero fees, contract size 50.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from _common import es_stream
from hftbacktest import (
    BUY_EVENT,
    CANCELED,
    DEPTH_EVENT,
    EXCH_EVENT,
    EXPIRED,
    FILLED,
    GTX,
    LIMIT,
    LOCAL_EVENT,
    SELL_EVENT,
    TRADE_EVENT,
    BacktestAsset,
    HashMapMarketDepthBacktest,
)
from hftbacktest.types import event_dtype
from numba import njit

from tradewright.model.columnar import KIND_DELTA, KIND_TRADE, MarketStream

TICK = 0.25
MULT = 50.0
WARMUP_ROWS = 20_000


def _events(s: MarketStream) -> np.ndarray:
    keep = (s.kind == KIND_DELTA) | (s.kind == KIND_TRADE)
    kind, side = s.kind[keep], s.side[keep]
    ev = np.where(kind == KIND_DELTA, DEPTH_EVENT, TRADE_EVENT).astype(np.uint64)
    ev |= np.where(side > 0, BUY_EVENT, SELL_EVENT).astype(np.uint64)
    ev |= np.uint64(EXCH_EVENT | LOCAL_EVENT)
    out = np.zeros(len(ev), dtype=event_dtype)
    out["ev"] = ev
    out["exch_ts"] = s.ts_recv[keep]
    out["local_ts"] = s.ts_recv[keep]
    out["px"] = s.tick[keep] * TICK
    out["qty"] = s.lots[keep].astype(np.float64)
    return out


def _backtest(events: np.ndarray) -> Any:
    asset = (
        BacktestAsset()
        .data(events)
        .linear_asset(MULT)
        .constant_order_latency(1_000_000, 1_000_000)
        .risk_adverse_queue_model()
        .no_partial_fill_exchange()
        .trading_value_fee_model(0.0, 0.0)
        .tick_size(TICK)
        .lot_size(1.0)
        .last_trades_capacity(0)
    )
    return HashMapMarketDepthBacktest([asset])


@njit
def _alive(orders: Any, oid: int) -> bool:
    if oid == 0:
        return False
    order = orders.get(oid)
    if order is None:
        return False
    st = order.status
    return st != FILLED and st != CANCELED and st != EXPIRED


@njit
def _market_maker(hbt: Any, out: np.ndarray, start_ns: int) -> None:
    """1 lot post-only (GTX) at the touch on both sides, |position| <= 5; cancel/replace when the
    touch moves; re-quote at once when a quote is gone (filled or cancelled)."""
    bid_id = 0
    ask_id = 0
    bid_tick = -1
    ask_tick = -1
    next_id = 1
    calls = 0
    orders = 0
    last_bb = -1
    last_ba = -1
    last_bid_alive = False
    last_ask_alive = False
    while True:
        r = hbt.wait_next_feed(True, 3_600_000_000_000)
        if r == 1:
            break
        if r == 0:
            continue  # an hour without data (no strategy call)
        calls += 1
        depth = hbt.depth(0)
        bb = depth.best_bid_tick
        ba = depth.best_ask_tick
        if bb <= 0 or ba >= 1 << 62:
            continue  # a side is empty
        od = hbt.orders(0)
        bid_alive = _alive(od, bid_id)
        ask_alive = _alive(od, ask_id)
        if bb == last_bb and ba == last_ba and bid_alive == last_bid_alive and ask_alive == last_ask_alive:
            continue
        pos = hbt.position(0)
        want_bid = bb if pos + 1.0 <= 5.0 else -1
        want_ask = ba if pos - 1.0 >= -5.0 else -1
        if bid_alive and bid_tick != want_bid:
            order = od.get(bid_id)
            if order.cancellable:
                hbt.cancel(0, bid_id, False)
                bid_alive = False
        if not bid_alive and want_bid > 0:
            hbt.submit_buy_order(0, next_id, want_bid * TICK, 1.0, GTX, LIMIT, False)
            bid_id = next_id
            bid_tick = want_bid
            next_id += 1
            orders += 1
            bid_alive = True
        if ask_alive and ask_tick != want_ask:
            order = od.get(ask_id)
            if order.cancellable:
                hbt.cancel(0, ask_id, False)
                ask_alive = False
        if not ask_alive and want_ask > 0:
            hbt.submit_sell_order(0, next_id, want_ask * TICK, 1.0, GTX, LIMIT, False)
            ask_id = next_id
            ask_tick = want_ask
            next_id += 1
            orders += 1
            ask_alive = True
        last_bb, last_ba = bb, ba
        last_bid_alive, last_ask_alive = bid_alive, ask_alive
        if orders % 64 == 0:
            hbt.clear_inactive_orders(0)
    depth = hbt.depth(0)
    sv = hbt.state_values(0)
    out[0] = calls
    out[1] = orders
    out[2] = sv.num_trades
    out[3] = sv.position
    out[4] = sv.balance + sv.position * (depth.best_bid + depth.best_ask) / 2.0 * MULT


@njit
def _replay(hbt: Any, out: np.ndarray, start_ns: int) -> None:
    """No strategy: step through the data a second at a time, reading the top of book."""
    seen = 0
    while hbt.elapse(1_000_000_000) == 0:
        depth = hbt.depth(0)
        if depth.best_bid_tick > 0:
            seen += 1
    depth = hbt.depth(0)
    out[0] = depth.best_bid
    out[1] = depth.best_ask
    out[2] = seen


def _case(fn: Any, n_out: int) -> tuple[dict[str, Any], np.ndarray]:
    t0 = time.perf_counter()
    stream = es_stream()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    events = _events(stream)
    warm = _backtest(_events(stream.slice(0, WARMUP_ROWS)))
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    start = int(stream.ts_recv[0])
    fn(warm, np.zeros(n_out), start)
    warm.close()
    warm_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    hbt = _backtest(events)
    build_s += time.perf_counter() - t0
    out = np.zeros(n_out)
    t0 = time.perf_counter()
    fn(hbt, out, start)
    run_s = time.perf_counter() - t0
    hbt.close()
    return {
        "events": len(stream),
        "load_s": load_s,
        "build_s": build_s,
        "warmup_s": warm_s,
        "run_s": run_s,
    }, out


def mm_every() -> dict[str, Any]:
    result, out = _case(_market_maker, 5)
    result["outcome"] = {
        "strategy_calls": int(out[0]),
        "orders": int(out[1]),
        "fills": int(out[2]),
        "position": f"{out[3]:g}",
        "pnl_usd": f"{out[4]:.3f}",
    }
    return result


def replay() -> dict[str, Any]:
    result, out = _case(_replay, 3)
    result["outcome"] = {"best_bid": f"{out[0]:.2f}", "best_ask": f"{out[1]:.2f}"}
    return result


CASES = {"A-every": mm_every, "B-replay": replay}
