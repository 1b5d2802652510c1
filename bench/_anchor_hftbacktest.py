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
def _state(orders: Any, oid: int) -> int:
    """0: no quote (none sent, filled or cancelled), 1: working or in flight, 2: rejected (GTX would take)."""
    if oid == 0:
        return 0
    order = orders.get(oid)
    if order is None:
        return 0
    st = order.status
    if st == EXPIRED:
        return 2
    if st == FILLED or st == CANCELED:  # noqa: SIM109 (a plain comparison compiles in numba)
        return 0
    return 1


@njit
def _market_maker(hbt: Any, out: np.ndarray, start_ns: int) -> None:
    """1 lot post-only (GTX) at the touch on both sides, |position| <= 5; cancel/replace when the
    touch moves; re-quote at once when a quote is gone (filled or cancelled); after a rejection, wait
    for that side's touch to move (as tradewright's quoter does)."""
    ids = np.zeros(2, dtype=np.int64)  # [bid, ask] order ids
    ticks = np.full(2, -1, dtype=np.int64)
    last = np.full(4, -9, dtype=np.int64)  # last bb, ba, bid state, ask state
    blocked = np.full(2, -1, dtype=np.int64)  # a side's tick just rejected (wait for the touch to move)
    next_id = 1
    calls = 0
    orders = 0
    while True:
        r = hbt.wait_next_feed(True, 3_600_000_000_000)
        if r == 1:
            break
        if r == 0:
            continue  # an hour without data (no strategy call)
        calls += 1
        if calls % 256 == 0:
            # Drop finished orders from the order dictionary (it is scanned on every event otherwise).
            hbt.clear_inactive_orders(0)
        depth = hbt.depth(0)
        bb = depth.best_bid_tick
        ba = depth.best_ask_tick
        if bb <= 0 or ba >= 1 << 62:
            continue  # a side is empty
        od = hbt.orders(0)
        sb = _state(od, ids[0])
        sa = _state(od, ids[1])
        if bb == last[0] and ba == last[1] and sb == last[2] and sa == last[3]:
            continue
        last[0], last[1], last[2], last[3] = bb, ba, sb, sa
        pos = hbt.position(0)
        want = (bb if pos + 1.0 <= 5.0 else -1, ba if pos - 1.0 >= -5.0 else -1)
        states = (sb, sa)
        for i in range(2):
            st = states[i]
            w = want[i]
            if st == 1 and ticks[i] != w:
                order = od.get(ids[i])
                if order.cancellable:
                    hbt.cancel(0, ids[i], False)
                    st = 0
            if st == 2:
                blocked[i] = ticks[i]  # remembered: the order may be cleared from the dictionary
            if w != blocked[i]:
                blocked[i] = -1
            if w > 0 and st != 1 and w != blocked[i]:
                if i == 0:
                    hbt.submit_buy_order(0, next_id, w * TICK, 1.0, GTX, LIMIT, False)
                else:
                    hbt.submit_sell_order(0, next_id, w * TICK, 1.0, GTX, LIMIT, False)
                ids[i] = next_id
                ticks[i] = w
                next_id += 1
                orders += 1
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
