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
| R_LIMIT     | the next row is later than `cur[C_LIMIT]` (a scheduled event is due first); the grid's samples before that time are taken | |
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
from typing import Any

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.experimental import structref
from numba.extending import intrinsic
from numba.np.numpy_support import carray

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
    "LoopState",
    "make_state",
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


# --- the replay loop's state ------------------------------------------------------------------------
# The loop is a compiled generator (`replay`) resumed from Python at every stop, up to once per book
# message. What a resumption costs is what it must restore: numba keeps every array alive across a yield
# with an atomic reference count per array and per resumption, ~2.5 us for the loop's 25 arrays. So the
# arrays travel in one record (`LoopState`, one reference count), and each resumption reads them as
# views without reference counts (`_view`): ~0.8 us a stop, and the loop body runs faster too (no
# reference counting around its helpers; replay ~3x faster, measured with bench/anchors.py B-replay).
# The views are safe because the record holds the arrays for as long as the generator lives.

_I8 = types.Array(types.int8, 1, "C")
_I64 = types.Array(types.int64, 1, "C")
_F64 = types.Array(types.float64, 1, "C")
_I64_2D = types.Array(types.int64, 2, "C")


@structref.register
class _LoopStateType(types.StructRef):  # type: ignore[misc]
    def preprocess_fields(self, fields: Any) -> tuple[tuple[str, Any], ...]:
        return tuple((name, types.unliteral(typ)) for name, typ in fields)  # type: ignore[no-untyped-call]


class LoopState(structref.StructRefProxy):  # type: ignore[misc]
    """The arrays and settings of one replay (`make_state`), held by the compiled generator."""


structref.define_boxing(_LoopStateType, LoopState)  # type: ignore[no-untyped-call]

_LOOP_STATE = _LoopStateType(  # type: ignore[no-untyped-call]
    [
        ("kind", _I8),
        ("rside", _I8),
        ("rtick", _I64),
        ("rlots", _I64),
        ("flags", _I8),
        ("ve", _I64),
        ("lo", _I64),
        ("vb", _I64),
        ("va", _I64),
        ("vst", _I64),
        ("sb", _I64),
        ("sa", _I64),
        ("sst", _I64),
        ("shared", types.boolean),
        ("active", _I8),
        ("oside", _I8),
        ("otick", _I64),
        ("leaves", _I64),
        ("front", _F64),
        ("cum_trade", _F64),
        ("fill", _I64),
        ("watch", _I64),
        ("qcode", types.int64),
        ("qparam", types.float64),
        ("scratch", _I64),
        ("cur", _I64),
        ("trigger", types.int64),
        ("want_trades", types.boolean),
        ("samp", _I64_2D),
        ("samp_st", _I64),
        ("more", types.boolean),
    ]
)


@njit(cache=True)
def make_state(
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
) -> LoopState:
    """Bundle the replay's arrays (C-contiguous, of the dtypes above) and settings for `replay`."""
    s: Any = structref.new(_LOOP_STATE)  # type: ignore[call-arg]
    s.kind = kind
    s.rside = rside
    s.rtick = rtick
    s.rlots = rlots
    s.flags = flags
    s.ve = ve
    s.lo = lo
    s.vb = vb
    s.va = va
    s.vst = vst
    s.sb = sb
    s.sa = sa
    s.sst = sst
    s.shared = shared
    s.active = active
    s.oside = oside
    s.otick = otick
    s.leaves = leaves
    s.front = front
    s.cum_trade = cum_trade
    s.fill = fill
    s.watch = watch
    s.qcode = qcode
    s.qparam = qparam
    s.scratch = scratch
    s.cur = cur
    s.trigger = trigger
    s.want_trades = want_trades
    s.samp = samp
    s.samp_st = samp_st
    s.more = more
    return s


@intrinsic
def _address_as_pointer(typingctx: Any, address: Any) -> Any:
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return types.voidptr(types.intp), codegen


@njit(inline="always")
def _view(a: np.ndarray) -> np.ndarray:
    """The same memory as `a`, as an array without a reference count (the caller keeps `a` alive)."""
    return carray(_address_as_pointer(a.ctypes.data), a.shape, a.dtype)  # type: ignore[call-arg,no-any-return]


@njit(cache=True, nogil=True)
def replay(s: Any) -> Iterator[int]:  # s: a LoopState (its fields are typed for numba only)
    """Advance the replay each time the generator is resumed; yield why it stopped (module docstring).

    Created once per `LoopState` (again only when an array is replaced: new rows, a grown book ladder or
    own-order slots). The limit for each step is read from `cur[C_LIMIT]`, which the caller sets before
    resuming. After R_END it yields R_END forever.
    """
    # `apply` is passed to `_strategy_row` as `not shared` (False in the shared branch, True in the
    # other), not as a literal: numba would compile `_strategy_row` once per literal (cold start).
    while True:
        # Views without reference counts (see `_view`), bound afresh at each resumption: nothing but the
        # state record lives across a yield.
        kind = _view(s.kind)
        rside = _view(s.rside)
        rtick = _view(s.rtick)
        rlots = _view(s.rlots)
        flags = _view(s.flags)
        ve = _view(s.ve)
        lo = _view(s.lo)
        vb = _view(s.vb)
        va = _view(s.va)
        vst = _view(s.vst)
        sb = _view(s.sb)
        sa = _view(s.sa)
        sst = _view(s.sst)
        active = _view(s.active)
        oside = _view(s.oside)
        otick = _view(s.otick)
        leaves = _view(s.leaves)
        front = _view(s.front)
        cum_trade = _view(s.cum_trade)
        fill = _view(s.fill)
        watch = _view(s.watch)
        scratch = _view(s.scratch)
        cur = _view(s.cur)
        samp = _view(s.samp)
        samp_st = _view(s.samp_st)
        shared = s.shared
        qcode = s.qcode
        qparam = s.qparam
        trigger = s.trigger
        want_trades = s.want_trades
        more = s.more
        n = len(kind)
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
                take_samples(samp, samp_st, sst, cur[C_LIMIT])  # the grid up to the limit, before Python acts
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
                take_samples(samp, samp_st, sst, cur[C_LIMIT])
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
                take_samples(samp, samp_st, sst, cur[C_LIMIT])
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
