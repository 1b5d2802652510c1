"""Compiled per-row logic of the simulated venue: book update, queue positions, fill detection.

Own resting orders live in parallel arrays (`OwnOrders`); slot j is in use when active[j] == 1.
`watch` = [n_active, bid_min, bid_max, ask_min, ask_max] lets a row that cannot touch our orders be
skipped with two comparisons. A row handler never creates fills itself: it writes the lots to fill
into `fill[j]` and returns FILL; Python turns those into fill events (one implementation of fees,
ids and latency).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradewright.model._ladder_jit import ladder_set
from tradewright.model.columnar import KIND_CLEAR, KIND_DELTA, KIND_TRADE
from tradewright.sim.queue import QUEUE_CUSTOM, queue_after_decrease

__all__ = ["ROW_CLEAR", "ROW_CUSTOM_QUEUE", "ROW_FILL", "ROW_OK", "ROW_OUT_OF_RANGE", "venue_row"]

ROW_OK = 0
ROW_FILL = 1
ROW_CLEAR = 2
ROW_CUSTOM_QUEUE = 3
ROW_OUT_OF_RANGE = 4

NO_BID = -(1 << 62)
NO_ASK = 1 << 62


@njit(cache=True, nogil=True)
def refresh_watch(active: np.ndarray, side: np.ndarray, tick: np.ndarray, watch: np.ndarray) -> None:
    n = 0
    bid_min, bid_max, ask_min, ask_max = NO_ASK, NO_BID, NO_ASK, NO_BID
    for j in range(len(active)):
        if active[j] == 0:
            continue
        n += 1
        t = tick[j]
        if side[j] > 0:
            bid_min = min(bid_min, t)
            bid_max = max(bid_max, t)
        else:
            ask_min = min(ask_min, t)
            ask_max = max(ask_max, t)
    watch[0] = n
    watch[1] = bid_min
    watch[2] = bid_max
    watch[3] = ask_min
    watch[4] = ask_max


@njit(cache=True, nogil=True)
def _mark_cross(
    active: np.ndarray,
    side: np.ndarray,
    tick: np.ndarray,
    leaves: np.ndarray,
    fill: np.ndarray,
    our_side: int,
    limit_tick: int,
) -> bool:
    """Our orders on `our_side` at or beyond `limit_tick` were traded through: fill them completely."""
    hit = False
    for j in range(len(active)):
        if active[j] == 0 or side[j] != our_side:
            continue
        if (our_side > 0 and tick[j] >= limit_tick) or (our_side < 0 and tick[j] <= limit_tick):
            fill[j] = leaves[j]
            hit = True
    return hit


@njit(cache=True, nogil=True)
def _trade_at(
    active: np.ndarray,
    side: np.ndarray,
    tick: np.ndarray,
    leaves: np.ndarray,
    front: np.ndarray,
    cum_trade: np.ndarray,
    fill: np.ndarray,
    our_side: int,
    t: int,
    q: int,
) -> bool:
    """A trade of q lots at tick t against our side: consume the queue ahead, fill what is left over."""
    hit = False
    for j in range(len(active)):
        if active[j] == 0 or side[j] != our_side:
            continue
        through = tick[j] > t if our_side > 0 else tick[j] < t
        if through:
            fill[j] = leaves[j]
            hit = True
        elif tick[j] == t:
            front[j] -= q
            cum_trade[j] += q
            if front[j] < 0.0:
                f = int(-front[j])
                front[j] = 0.0
                if f > leaves[j]:
                    f = leaves[j]
                if f > 0:
                    fill[j] = f
                    hit = True
    return hit


@njit(cache=True, nogil=True)
def venue_row(
    k: int,
    kind: np.ndarray,
    rside: np.ndarray,
    rtick: np.ndarray,
    rlots: np.ndarray,
    vb: np.ndarray,
    va: np.ndarray,
    vst: np.ndarray,
    active: np.ndarray,
    side: np.ndarray,
    tick: np.ndarray,
    leaves: np.ndarray,
    front: np.ndarray,
    cum_trade: np.ndarray,
    fill: np.ndarray,
    watch: np.ndarray,
    qcode: int,
    qparam: float,
    scratch: np.ndarray,
) -> int:
    """Apply row k to the venue's book and to our queue positions. See the module docstring."""
    kd = kind[k]
    n_own = watch[0]
    # Sides as typed values, not literals: numba compiles a callee once per literal argument, and a
    # cold first run pays for every extra compilation.
    _BID = int(np.int64(1))
    _ASK = int(np.int64(-1))
    if kd == KIND_DELTA:
        s = rside[k]
        t = rtick[k]
        q = rlots[k]
        i = t - vst[0]
        if vst[0] < 0 or i < 0 or i >= vst[3]:
            if q == 0:
                return ROW_OK
            return ROW_OUT_OF_RANGE
        old = vb[i] if s > 0 else va[i]
        ladder_set(vb, va, vst, s, t, q)
        if n_own == 0:
            return ROW_OK
        if s > 0:
            if watch[1] <= t <= watch[2]:
                if q < old and qcode == QUEUE_CUSTOM:
                    scratch[0] = old
                    return ROW_CUSTOM_QUEUE
                for j in range(len(active)):
                    if active[j] == 1 and side[j] > 0 and tick[j] == t:
                        if q < old:
                            front[j] = queue_after_decrease(qcode, qparam, front[j], old, q, cum_trade[j])
                        cum_trade[j] = 0.0
            # a bid at or above one of our asks: the market went through it
            if q > 0 and t <= watch[4] and _mark_cross(active, side, tick, leaves, fill, _ASK, t):
                return ROW_FILL
        else:
            if watch[3] <= t <= watch[4]:
                if q < old and qcode == QUEUE_CUSTOM:
                    scratch[0] = old
                    return ROW_CUSTOM_QUEUE
                for j in range(len(active)):
                    if active[j] == 1 and side[j] < 0 and tick[j] == t:
                        if q < old:
                            front[j] = queue_after_decrease(qcode, qparam, front[j], old, q, cum_trade[j])
                        cum_trade[j] = 0.0
            if q > 0 and t >= watch[1] and _mark_cross(active, side, tick, leaves, fill, _BID, t):
                return ROW_FILL
        return ROW_OK
    if kd == KIND_TRADE:
        if n_own == 0:
            return ROW_OK
        s = rside[k]
        t = rtick[k]
        q = rlots[k]
        hit = False
        if s <= 0 and t <= watch[2]:
            hit = _trade_at(active, side, tick, leaves, front, cum_trade, fill, _BID, t, q) or hit
        if s >= 0 and t >= watch[3]:
            hit = _trade_at(active, side, tick, leaves, front, cum_trade, fill, _ASK, t, q) or hit
        return ROW_FILL if hit else ROW_OK
    if kd == KIND_CLEAR:
        vb[:] = 0
        va[:] = 0
        vst[1] = -1
        vst[2] = -1
        return ROW_CLEAR if n_own > 0 else ROW_OK
    return ROW_OK  # quotes (venue tickers) do not change the book
