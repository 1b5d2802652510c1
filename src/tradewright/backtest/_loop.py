"""The compiled replay loop: applies recorded rows to the books and returns to Python only when
something must be seen there.

Two clocks run over one stream. The venue sees row k at `ve[k]` (the recorded receive time) and the
strategy at `lo[k]` (ve plus market-data latency). When the two are equal the strategy reads the
venue's own book ("shared" mode) and each row is applied once.

`replay` is a compiled generator: each resumption advances the cursors in `cur` up to the limit in
`cur[C_LIMIT]` and yields a reason:

| reason      | meaning                                                   | cur[6]           |
|-------------|-----------------------------------------------------------|------------------|
| R_END       | every row applied                                          |                  |
| R_LIMIT     | the next row is later than `cur[C_LIMIT]` (a scheduled event is due first) | |
| R_BOOK      | the strategy's book changed per its trigger after a message | row index      |
| R_TRADE     | a trade the strategy wants to see                          | row index        |
| R_VENUE     | the venue's row handler needs Python (fill, snapshot, ...) | row index; code in cur[7] |
| R_GROW      | a book's ladder must grow to hold a row's price            | row index; cur[7] = 0 venue / 1 strategy |
| R_REFILL    | the venue reached the end of the rows given and `more` is set: append the next chunk | |

Equity is sampled on a time grid here too: before a row at time t is applied to the strategy's
book, every grid time before t is recorded in `samp` as (time, best bid tick, best ask tick,
snapshot index), `samp_st` = [next sample time, count, interval, current snapshot index]; the
Python side keeps the account-state snapshots (see `RunRecorder`).

Rows at the same time as a scheduled event are applied first (data before actions: the conservative
choice for a backtest).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numba import njit

from tradewright.model._ladder_jit import ladder_set
from tradewright.model.columnar import F_LAST, KIND_CLEAR, KIND_DELTA, KIND_TRADE
from tradewright.sim._kernels import ROW_OK, ROW_OUT_OF_RANGE, venue_row

__all__ = [
    "R_BOOK",
    "R_END",
    "R_GROW",
    "R_LIMIT",
    "R_REFILL",
    "R_TRADE",
    "R_VENUE",
    "replay",
    "take_samples",
]

R_END = 0
R_LIMIT = 1
R_BOOK = 2
R_TRADE = 3
R_VENUE = 4
R_GROW = 5
R_REFILL = 6

TRIGGER_NONE = -1
TRIGGER_TOP_PRICE = 0
TRIGGER_TOP = 1
TRIGGER_EVERY = 2

# cursor layout
C_IV = 0  # next venue row
C_IS = 1  # next strategy row
C_BB = 2  # last best bid index seen by the strategy
C_BA = 3
C_BQ = 4
C_AQ = 5
C_OUT = 6
C_CODE = 7
C_PENDING = 8  # shared mode: the strategy half of row (C_IV - 1) is still to do
C_LIMIT = 9  # set by the caller before each step: stop before rows later than this time
CURSOR_SIZE = 10


@njit(cache=True, nogil=True)
def _strategy_row(
    k: int,
    kind: np.ndarray,
    rside: np.ndarray,
    rtick: np.ndarray,
    rlots: np.ndarray,
    flags: np.ndarray,
    sb: np.ndarray,
    sa: np.ndarray,
    sst: np.ndarray,
    apply: bool,
    cur: np.ndarray,
    trigger: int,
    want_trades: bool,
) -> int:
    """Strategy half of row k. Returns R_LIMIT when nothing needs Python (caller continues),
    R_GROW when the row did not fit (not applied), or R_BOOK / R_TRADE."""
    kd = kind[k]
    if kd == KIND_DELTA:
        if apply:
            i = rtick[k] - sst[0]
            if sst[0] < 0 or i < 0 or i >= sst[3]:
                if rlots[k] != 0:
                    return R_GROW
            else:
                ladder_set(sb, sa, sst, rside[k], rtick[k], rlots[k])
        if trigger >= 0 and flags[k] & F_LAST:
            bb = sst[1]
            ba = sst[2]
            changed = trigger == TRIGGER_EVERY or bb != cur[C_BB] or ba != cur[C_BA]
            if trigger == TRIGGER_TOP and not changed:
                bq = sb[bb] if bb >= 0 else 0
                aq = sa[ba] if ba >= 0 else 0
                changed = bq != cur[C_BQ] or aq != cur[C_AQ]
            if changed:
                cur[C_BB] = bb
                cur[C_BA] = ba
                cur[C_BQ] = sb[bb] if bb >= 0 else 0
                cur[C_AQ] = sa[ba] if ba >= 0 else 0
                cur[C_OUT] = k
                return R_BOOK
    elif kd == KIND_CLEAR:
        if apply:
            sb[:] = 0
            sa[:] = 0
            sst[1] = -1
            sst[2] = -1
    elif kd == KIND_TRADE and want_trades:
        cur[C_OUT] = k
        return R_TRADE
    return R_LIMIT


@njit(cache=True, nogil=True)
def take_samples(samp: np.ndarray, samp_st: np.ndarray, sst: np.ndarray, before_ts: int) -> None:
    """Record every grid sample due strictly before `before_ts`: (time, best bid tick, best ask tick,
    index of the Python-side state snapshot current at that time). -1 marks an empty side."""
    cap = samp.shape[0]
    while samp_st[0] < before_ts and samp_st[1] < cap:
        c = samp_st[1]
        samp[c, 0] = samp_st[0]
        samp[c, 1] = sst[0] + sst[1] if sst[1] >= 0 else -1
        samp[c, 2] = sst[0] + sst[2] if sst[2] >= 0 else -1
        samp[c, 3] = samp_st[3]
        samp_st[1] = c + 1
        samp_st[0] += samp_st[2]


@njit(cache=True, nogil=True)
def replay(
    kind: np.ndarray,
    rside: np.ndarray,
    rtick: np.ndarray,
    rlots: np.ndarray,
    flags: np.ndarray,
    ve: np.ndarray,
    lo: np.ndarray,
    vb: np.ndarray,
    va: np.ndarray,
    vst: np.ndarray,
    sb: np.ndarray,
    sa: np.ndarray,
    sst: np.ndarray,
    shared: bool,
    active: np.ndarray,
    oside: np.ndarray,
    otick: np.ndarray,
    leaves: np.ndarray,
    front: np.ndarray,
    cum_trade: np.ndarray,
    fill: np.ndarray,
    watch: np.ndarray,
    qcode: int,
    qparam: float,
    scratch: np.ndarray,
    cur: np.ndarray,
    trigger: int,
    want_trades: bool,
    samp: np.ndarray,
    samp_st: np.ndarray,
    more: bool,
) -> Iterator[int]:
    """Advance the replay each time the generator is resumed; yield why it stopped (module docstring).

    A compiled generator: its arguments are unboxed once, when it is created, so resuming it from Python
    costs a fraction of a microsecond where a call with these 31 arguments cost several (most of a
    market maker's time when its strategy is called on every book message). The limit for each step is
    read from `cur[C_LIMIT]`, which the caller sets before resuming. After R_END it yields R_END forever.
    """
    n = len(kind)
    # `apply` is passed to `_strategy_row` as `not shared` (False in the shared branch, True in the
    # other), not as a literal: numba would compile `_strategy_row` once per literal (cold start).
    while True:
        iv = cur[C_IV]
        # The venue half of a row appears twice below (shared book / two clocks) on purpose: moving it
        # into a compiled helper, even with inline="always", made this loop ~25% slower (measured with
        # bench/book_replay.py).
        if shared:
            if cur[C_PENDING] == 1:
                cur[C_PENDING] = 0
                r = _strategy_row(
                    iv - 1,
                    kind,
                    rside,
                    rtick,
                    rlots,
                    flags,
                    sb,
                    sa,
                    sst,
                    not shared,
                    cur,
                    trigger,
                    want_trades,
                )
                if r != R_LIMIT:
                    yield r
                    continue
            if iv >= n:
                yield R_REFILL if more else R_END
                continue
            if ve[iv] > cur[C_LIMIT]:
                yield R_LIMIT
                continue
            take_samples(samp, samp_st, sst, ve[iv])
            code = venue_row(
                iv,
                kind,
                rside,
                rtick,
                rlots,
                vb,
                va,
                vst,
                active,
                oside,
                otick,
                leaves,
                front,
                cum_trade,
                fill,
                watch,
                qcode,
                qparam,
                scratch,
            )
            if code == ROW_OUT_OF_RANGE:
                cur[C_OUT] = iv
                cur[C_CODE] = 0
                yield R_GROW
                continue
            cur[C_IV] = iv + 1
            if code != ROW_OK:
                cur[C_PENDING] = 1
                cur[C_OUT] = iv
                cur[C_CODE] = code
                yield R_VENUE
                continue
            r = _strategy_row(
                iv, kind, rside, rtick, rlots, flags, sb, sa, sst, not shared, cur, trigger, want_trades
            )
            if r != R_LIMIT:
                yield r
                continue
            continue
        i_s = cur[C_IS]
        if iv >= n and more:
            yield R_REFILL  # the strategy's remaining rows may come after the next chunk's first ones
            continue
        tv = ve[iv] if iv < n else (1 << 62)
        ts = lo[i_s] if i_s < n else (1 << 62)
        if iv >= n and i_s >= n:
            yield R_END
            continue
        if tv <= ts:
            if tv > cur[C_LIMIT]:
                yield R_LIMIT
                continue
            code = venue_row(
                iv,
                kind,
                rside,
                rtick,
                rlots,
                vb,
                va,
                vst,
                active,
                oside,
                otick,
                leaves,
                front,
                cum_trade,
                fill,
                watch,
                qcode,
                qparam,
                scratch,
            )
            if code == ROW_OUT_OF_RANGE:
                cur[C_OUT] = iv
                cur[C_CODE] = 0
                yield R_GROW
                continue
            cur[C_IV] = iv + 1
            if code != ROW_OK:
                cur[C_OUT] = iv
                cur[C_CODE] = code
                yield R_VENUE
                continue
        else:
            if ts > cur[C_LIMIT]:
                yield R_LIMIT
                continue
            take_samples(samp, samp_st, sst, ts)
            r = _strategy_row(
                i_s, kind, rside, rtick, rlots, flags, sb, sa, sst, not shared, cur, trigger, want_trades
            )
            if r == R_GROW:
                cur[C_OUT] = i_s
                cur[C_CODE] = 1
                yield R_GROW
                continue
            cur[C_IS] = i_s + 1
            if r != R_LIMIT:
                yield r
                continue
