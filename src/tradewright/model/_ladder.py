"""The price ladder behind `OrderBook`, written once in plain Python.

A side is an int64 array of sizes in lots, indexed by `tick - base`. `st` holds the shared state:
st[0] = base tick, st[1] = best bid index (-1 = empty), st[2] = best ask index (-1 = empty),
st[3] = capacity. Every kernel returns a status instead of raising, so compiled loops stay simple:
OUT_OF_RANGE means "grow the ladder around this tick and call again".

This module does not import numba: a live node's book runs these functions as they are (a live feed
brings a few thousand updates a second, well within plain Python), and never loads a compiler. The
replay path compiles the very same functions with numba (`tradewright.model._ladder_jit`) and, once
that module is imported, `KERNELS` points at the compiled versions for every book in the process.
Equivalence of the two is a Hypothesis test (tests/unit/model/test_ladder_equivalence.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "KERNELS",
    "OK",
    "OUT_OF_RANGE",
    "Kernels",
    "ladder_cost_to_fill",
    "ladder_depth",
    "ladder_set",
    "ladder_set_many",
]

OK = 0
OUT_OF_RANGE = 1


def ladder_set(bids: np.ndarray, asks: np.ndarray, st: np.ndarray, side: int, tick: int, lots: int) -> int:
    """Set the size at one level (lots 0 deletes it) and keep the best indices right."""
    i = tick - st[0]
    if i < 0 or i >= st[3]:
        return OUT_OF_RANGE
    if side > 0:
        bids[i] = lots
        bb = st[1]
        if lots > 0:
            if i > bb:
                st[1] = i
        elif i == bb:
            j = i - 1
            while j >= 0 and bids[j] == 0:
                j -= 1
            st[1] = j
    else:
        asks[i] = lots
        ba = st[2]
        if lots > 0:
            if ba < 0 or i < ba:
                st[2] = i
        elif i == ba:
            j = i + 1
            n = st[3]
            while j < n and asks[j] == 0:
                j += 1
            st[2] = j if j < n else -1
    return OK


def ladder_set_many(
    bids: np.ndarray,
    asks: np.ndarray,
    st: np.ndarray,
    sides: np.ndarray,
    ticks: np.ndarray,
    lots: np.ndarray,
    start: int,
    end: int,
) -> int:
    """Apply rows start..end-1; return the index of the first row that did not fit (end if all did)."""
    for k in range(start, end):
        if ladder_set(bids, asks, st, sides[k], ticks[k], lots[k]) != OK:
            return k
    return end


def ladder_depth(levels: np.ndarray, st: np.ndarray, side: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return up to n (tick, lots) pairs from the touch outwards."""
    out_ticks = np.empty(n, dtype=np.int64)
    out_lots = np.empty(n, dtype=np.int64)
    count = 0
    base = st[0]
    if side > 0:
        j = st[1]
        while j >= 0 and count < n:
            if levels[j] > 0:
                out_ticks[count] = base + j
                out_lots[count] = levels[j]
                count += 1
            j -= 1
    else:
        j = st[2]
        cap = st[3]
        while 0 <= j < cap and count < n:
            if levels[j] > 0:
                out_ticks[count] = base + j
                out_lots[count] = levels[j]
                count += 1
            j += 1
    return out_ticks[:count], out_lots[:count]


def ladder_cost_to_fill(levels: np.ndarray, st: np.ndarray, side: int, lots: int) -> tuple[int, int, int]:
    """Walk the given side from the touch for `lots`: return (filled lots, sum of tick*lots, worst tick)."""
    filled = 0
    cost = 0
    worst = -1
    base = st[0]
    if side > 0:
        j = st[1]
        while j >= 0 and filled < lots:
            q = levels[j]
            if q > 0:
                take = min(q, lots - filled)
                filled += take
                cost += take * (base + j)
                worst = base + j
            j -= 1
    else:
        j = st[2]
        cap = st[3]
        while 0 <= j < cap and filled < lots:
            q = levels[j]
            if q > 0:
                take = min(q, lots - filled)
                filled += take
                cost += take * (base + j)
                worst = base + j
            j += 1
    return filled, cost, worst


class Kernels:
    """The ladder functions `OrderBook` calls: plain Python until a compiled set is installed."""

    __slots__ = ("compiled", "cost_to_fill", "depth", "set", "set_many")

    def __init__(self) -> None:
        self.set: Callable[..., int] = ladder_set
        self.set_many: Callable[..., int] = ladder_set_many
        self.depth: Callable[..., Any] = ladder_depth
        self.cost_to_fill: Callable[..., Any] = ladder_cost_to_fill
        self.compiled = False

    def install(
        self,
        set_: Callable[..., int],
        set_many: Callable[..., int],
        depth: Callable[..., Any],
        cost_to_fill: Callable[..., Any],
    ) -> None:
        """Use compiled equivalents of the functions above (same arguments, same results)."""
        self.set, self.set_many, self.depth, self.cost_to_fill = set_, set_many, depth, cost_to_fill
        self.compiled = True


KERNELS = Kernels()
