"""Load Binance combined-stream recordings (``<local_ns> <json>`` per line) into a `MarketStream`.

A recording holds the venue's own messages: depth diffs (``<sym>@depth@0ms`` / ``@100ms``), trades
(``@trade``), best bid/offer (``@bookTicker``) and one or more REST depth snapshots (a line without
``stream``). The book is synchronised with Binance's documented rule (`tradewright.model.book_sync`):

* diffs that arrive before the snapshot are held; when the snapshot arrives the stale ones are dropped
  and the rest are applied right after it, at the snapshot's receive time (which is when a live client
  could apply them too);
* on a sequence gap the gap is counted and reported, diffs are held again, and the next snapshot in the
  recording (if any) resynchronises the book; without one the rest of the diffs are not applied;
* a snapshot that arrives while the book is in sync is not needed and is not applied.

Rows: a snapshot is KIND_CLEAR + one KIND_DELTA per level; a diff is its bid then ask levels; a trade is
one KIND_TRADE (side -1 when the buyer was the maker); a bookTicker is two KIND_QUOTE rows (bid, ask).
Every message's last row carries F_LAST. ``update_id`` is ``lastUpdateId`` / ``u`` / the trade id.
``ts_recv`` is the recording's local ns; ``ts_event`` is the venue's transaction time ``T`` where the
message has one, else its event time ``E``; spot snapshots and spot bookTickers carry no venue time, so
their ``ts_event`` is 0.

Prices and sizes are converted from the message text exactly (`tradewright.data._parse`); a value off
the instrument's grid is refused like any bad message, but when such messages are common (the instrument is
not the recording's) the load fails with `DataError`. Every other bad message is refused at
this boundary by the rules of `tradewright.data._checks` (malformed or too deeply nested JSON, values out
of range, non-positive prices, ``U > u``, venue time going backwards, repeated or decreasing trade ids,
crossed quotes, trades far from the book): it is reported as an `Issue` naming file and line, counted in
``stats["rejected_<reason>"]`` (malformed ones also in ``stats["malformed_lines"]``) and skipped — or
raises `DataError` with ``strict=True``.
"""

from __future__ import annotations

import enum
import gzip
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np

from tradewright.core.errors import DataError, SequenceGap
from tradewright.core.ids import InstrumentId, Venue
from tradewright.data._binance_lines import (
    DIFF,
    QUOTE,
    SNAPSHOT,
    TRADE,
    BookTicker,
    Depth,
    Reader,
    Recording,
    Snapshot,
    Trade,
    count_rejection,
    describe_values,
)
from tradewright.data._checks import OFF_GRID_LIMIT_PCT, band_violations
from tradewright.data._parse import (
    MALFORMED,
    OFF_GRID,
    OUT_OF_RANGE,
    Issue,
    log_issue,
    parse_level_arrays,
    scale_strings,
)
from tradewright.model.book_sync import BinanceFuturesSync, BinanceSpotSync, Decision
from tradewright.model.columnar import F_LAST, KIND_CLEAR, KIND_DELTA, KIND_QUOTE, KIND_TRADE, MarketStream
from tradewright.model.instrument import Instrument, InstrumentKind

__all__ = [
    "BINANCE_INSTRUMENTS",
    "BinanceMarket",
    "binance_instrument",
    "group_recordings",
    "load_binance",
    "peek_binance",
]

BINANCE = Venue("BINANCE")
_STRAY_RATIO = (
    100  # a symbol with at most 1/100 of the main one's messages is corrupt lines, not an instrument
)


class BinanceMarket(enum.StrEnum):
    SPOT = "spot"
    USDM = "usdm"  # USD-M futures (linear)
    COINM = "coinm"  # COIN-M futures (inverse)


def _perp(symbol: str, base: str, tick: str, *, maker: str = "0.0002", taker: str = "0.0005") -> Instrument:
    return Instrument(
        id=InstrumentId(f"{symbol}-PERP", BINANCE),
        kind=InstrumentKind.PERPETUAL,
        base=base,
        quote="USDT",
        settle="USDT",
        tick_size=Decimal(tick),
        lot_size=Decimal("0.001"),
        min_size=Decimal("0.001"),
        maker_fee=Decimal(maker),
        taker_fee=Decimal(taker),
    )


#: Instruments of the recordings in ../shared/data/l2/hftbacktest, keyed by (market, venue symbol).
BINANCE_INSTRUMENTS: dict[tuple[BinanceMarket, str], Instrument] = {
    (BinanceMarket.USDM, "BTCUSDT"): _perp("BTCUSDT", "BTC", "0.1"),
    (BinanceMarket.USDM, "ETHUSDT"): _perp("ETHUSDT", "ETH", "0.01"),
    (BinanceMarket.SPOT, "BTCUSDT"): Instrument(
        id=InstrumentId("BTCUSDT", BINANCE),
        kind=InstrumentKind.SPOT,
        base="BTC",
        quote="USDT",
        settle="USDT",
        tick_size=Decimal("0.01"),
        # The order step is 0.00001 BTC, but the book still holds resting orders from when it was
        # 0.000001 (e.g. 25.426189 BTC at 200000.00 in spot 20240808 line 1886), so the grid the
        # book lives on is 0.000001; `min_size` keeps orders at the current minimum.
        lot_size=Decimal("0.000001"),
        min_size=Decimal("0.00001"),
        maker_fee=Decimal("0.001"),
        taker_fee=Decimal("0.001"),
    ),
    # COIN-M: one contract is worth 100 USD; PnL and margin are in BTC (inverse).
    (BinanceMarket.COINM, "BTCUSD_PERP"): Instrument(
        id=InstrumentId("BTCUSD_PERP", BINANCE),
        kind=InstrumentKind.PERPETUAL,
        base="BTC",
        quote="USD",
        settle="BTC",
        tick_size=Decimal("0.1"),
        lot_size=Decimal(1),
        min_size=Decimal(1),
        maker_fee=Decimal("0.0002"),
        taker_fee=Decimal("0.0005"),
        multiplier=Decimal(100),
        inverse=True,
    ),
}


def binance_instrument(market: BinanceMarket, symbol: str) -> Instrument:
    """Return the built-in instrument for a market and venue symbol, or raise `DataError`."""
    try:
        return BINANCE_INSTRUMENTS[(market, symbol.upper())]
    except KeyError:
        known = ", ".join(f"{m.value}:{s}" for m, s in BINANCE_INSTRUMENTS)
        raise DataError(
            f"no built-in instrument for Binance {market.value} {symbol.upper()} (known: {known}); "
            "pass instrument="
        ) from None


def peek_binance(path: Path, max_lines: int = 500) -> tuple[BinanceMarket, str, int] | None:
    """Return (market, symbol, first local ns) from a recording's first lines, or None if it is not one."""
    reader = Reader(strict=False, on_issue=lambda issue: None)
    first_ts = 0
    try:
        with gzip.open(path, "rb") if _is_gzip(path) else path.open("rb") as fh:
            for _, line in zip(range(max_lines), fh, strict=False):
                stamp, _, body = line.strip().partition(b" ")
                try:
                    ts = int(stamp)
                    decoded = reader._decode(body)
                except (ValueError, RecursionError):
                    continue
                first_ts = first_ts or ts
                if decoded is not None and isinstance(decoded[1], Depth):
                    return _market_of(decoded[1], decoded[2]), decoded[2], first_ts
    except (OSError, EOFError):
        return None
    return None


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _market_of(depth: Depth, symbol: str) -> BinanceMarket:
    if depth.prev_final_id is None:
        return BinanceMarket.SPOT
    return BinanceMarket.COINM if "_" in symbol else BinanceMarket.USDM


# --- synchronisation: which messages become rows, in which order ---------------------------------
@dataclass(slots=True)
class _Events:
    """The messages that become rows, in stream order, with the time they are applied."""

    kind: list[int] = field(default_factory=list)
    message: list[int] = field(default_factory=list)
    ts_recv: list[int] = field(default_factory=list)


def _synchronise(
    rec: Recording, chosen: list[int], market: BinanceMarket, name: str, on_issue: Callable[[Issue], None]
) -> tuple[_Events, dict[str, int]]:
    """Run the venue's sync rule over the chosen messages; return the events and what happened."""
    sync = BinanceSpotSync(name) if market is BinanceMarket.SPOT else BinanceFuturesSync(name)
    events = _Events()
    add_kind, add_msg, add_ts = events.kind.append, events.message.append, events.ts_recv.append
    stats = {"diffs": 0, "diffs_applied": 0, "diffs_dropped_stale": 0, "sequence_gaps": 0, "snapshots": 0}
    stats |= {"snapshots_unused": 0, "trades": 0, "trades_not_market": 0, "quotes": 0}
    held: list[int] = []  # diffs waiting for a snapshot

    def offer(index: int, ts_recv: int) -> bool:
        """Offer one diff to the tracker; False if it opened a gap (the tracker then holds diffs)."""
        depth = rec.payload[index]
        assert isinstance(depth, Depth)
        try:
            decision = sync.on_diff(depth.first_id, depth.final_id, depth.prev_final_id)
        except SequenceGap as gap:
            stats["sequence_gaps"] += 1
            on_issue(Issue("sequence_gap", *rec.where(index), str(gap)))
            return False
        if decision is Decision.APPLY:
            add_kind(DIFF)
            add_msg(index)
            add_ts(ts_recv)
            stats["diffs_applied"] += 1
        elif decision is Decision.DROP:
            stats["diffs_dropped_stale"] += 1
        else:
            held.append(index)
        return True

    kinds, payloads, stamps = rec.kind, rec.payload, rec.ts_recv
    for index in chosen:
        kind = kinds[index]
        if kind in (QUOTE, TRADE):
            if kind == TRADE and payloads[index].order_type != "MARKET":  # type: ignore[union-attr]
                stats["trades_not_market"] += 1  # insurance-fund and ADL prints are not market trades
                continue
            stats["quotes" if kind == QUOTE else "trades"] += 1
            add_kind(kind)
            add_msg(index)
            add_ts(stamps[index])
        elif kind == DIFF:
            stats["diffs"] += 1
            if not sync.synced or not offer(index, stamps[index]):
                held.append(index)
        else:
            stats["snapshots"] += 1
            if sync.synced:
                stats["snapshots_unused"] += 1  # the diffs chain without it
                continue
            snapshot = payloads[index]
            assert isinstance(snapshot, Snapshot)
            sync.on_snapshot(snapshot.final_id)
            add_kind(SNAPSHOT)
            add_msg(index)
            add_ts(stamps[index])
            waiting, held = held, []
            for k, diff_index in enumerate(waiting):
                if not offer(diff_index, stamps[index]):
                    held.extend(waiting[k:])
                    break
    stats["diffs_unsynced"] = len(held)
    if held:
        on_issue(
            Issue(
                "unsynced",
                *rec.where(held[0]),
                f"{name}: {len(held)} diffs from here on were not applied: no later snapshot resynchronised the book",
            )
        )
    return events, stats


# --- rows ------------------------------------------------------------------------------------------
class _BadValues(Exception):
    """Messages whose values break a rule (to be skipped): (message, reason, what), internal to one load."""

    def __init__(self, failures: list[tuple[int, str, str]]) -> None:
        super().__init__(f"{len(failures)} messages with bad values")
        self.failures = failures


def _assemble(
    rec: Recording, events: _Events, inst: Instrument
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Turn the events into the stream's columns, converting every number in a few vectorised passes."""
    ev_kind = np.asarray(events.kind, dtype=np.int8)
    ev_msg = np.asarray(events.message, dtype=np.int64)
    n_events = len(ev_kind)
    P = rec.payload
    d_ev = np.flatnonzero(ev_kind <= DIFF)  # snapshots and diffs
    t_ev = np.flatnonzero(ev_kind == TRADE)
    q_ev = np.flatnonzero(ev_kind == QUOTE)
    depths: list[Snapshot | Depth] = [P[i] for i in ev_msg[d_ev].tolist()]
    trades: list[Trade] = [P[i] for i in ev_msg[t_ev].tolist()]
    quotes: list[BookTicker] = [P[i] for i in ev_msg[q_ev].tolist()]

    lvl_tick, lvl_lots, counts, lvl_st = parse_level_arrays(
        [c for d in depths for c in (d.bids, d.asks)], inst.tick_size, inst.lot_size
    )
    tr_tick, tr_tick_st = scale_strings([t.price for t in trades], inst.tick_size)
    tr_lots, tr_lots_st = scale_strings([t.qty for t in trades], inst.lot_size)
    q_tick, q_tick_st = scale_strings([s for q in quotes for s in (q.bid, q.ask)], inst.tick_size)
    q_lots, q_lots_st = scale_strings([s for q in quotes for s in (q.bid_qty, q.ask_qty)], inst.lot_size)
    depth_st = lvl_st.reshape(-1, 2).max(axis=1)
    trade_st = np.maximum(tr_tick_st, tr_lots_st)
    quote_st = np.maximum(q_tick_st, q_lots_st).reshape(-1, 2).max(axis=1)
    _check_numbers(
        rec,
        inst,
        [(depth_st, ev_msg[d_ev]), (trade_st, ev_msg[t_ev]), (quote_st, ev_msg[q_ev])],
    )
    level_depth = np.repeat(np.arange(len(depths)), counts.reshape(-1, 2).sum(axis=1))
    q_bid, q_ask = q_tick[0::2], q_tick[1::2]
    problems = [
        (ev_msg[d_ev][np.unique(level_depth[lvl_tick <= 0])], "non_positive", "a book level priced <= 0"),
        (ev_msg[t_ev][(tr_tick <= 0) | (tr_lots <= 0)], "non_positive", "a trade priced <= 0 or of size 0"),
        (ev_msg[q_ev][(q_bid <= 0) | (q_ask <= 0)], "non_positive", "a bookTicker priced <= 0"),
        (ev_msg[q_ev][(q_bid >= q_ask) & (q_bid > 0)], "crossed_quote", "bookTicker bid >= ask"),
    ]
    sane_quote = (q_bid > 0) & (q_ask > q_bid)
    out_of_band = band_violations(t_ev, tr_tick, q_ev[sane_quote], (q_bid + q_ask)[sane_quote])
    problems.append(
        (ev_msg[t_ev][out_of_band & (tr_tick > 0)], "price_band", "trade far from the book's mid")
    )
    failures = [
        (index, reason, f"{what}: {describe_values(P[index], inst)}")
        for indices, reason, what in problems
        for index in indices.tolist()
    ]
    if failures:
        raise _BadValues(sorted(failures))
    snapshot_levels = np.repeat(ev_kind[d_ev] == SNAPSHOT, counts.reshape(-1, 2).sum(axis=1))
    extra = {"zero_size_levels": int(np.count_nonzero(snapshot_levels & (lvl_lots == 0)))}

    ev_uid = np.empty(n_events, dtype=np.int64)
    ev_ts_event = np.empty(n_events, dtype=np.int64)
    ev_uid[d_ev] = [d.final_id for d in depths]
    ev_ts_event[d_ev] = [d.txn_ms or d.event_ms for d in depths]
    ev_uid[t_ev] = [t.trade_id for t in trades]
    ev_ts_event[t_ev] = [t.txn_ms for t in trades]
    ev_uid[q_ev] = [q.update_id for q in quotes]
    ev_ts_event[q_ev] = [q.txn_ms or q.event_ms for q in quotes]
    ev_ts_event *= 1_000_000

    per_depth = counts.reshape(-1, 2).sum(axis=1)
    is_snap = ev_kind == SNAPSHOT
    rows = is_snap + (ev_kind == TRADE) + 2 * (ev_kind == QUOTE)
    rows[d_ev] += per_depth
    offsets = np.zeros(n_events, dtype=np.int64)
    np.cumsum(rows[:-1], out=offsets[1:])
    total = int(rows.sum())
    of_row = np.repeat(np.arange(n_events), rows)
    cols: dict[str, np.ndarray] = {
        "ts_event": ev_ts_event[of_row],
        "ts_recv": np.asarray(events.ts_recv, dtype=np.int64)[of_row],
        "kind": np.full(total, KIND_DELTA, dtype=np.int8),
        "side": np.zeros(total, dtype=np.int8),
        "tick": np.zeros(total, dtype=np.int64),
        "lots": np.zeros(total, dtype=np.int64),
        "flags": np.zeros(total, dtype=np.int8),
        "update_id": ev_uid[of_row],
    }
    # levels: a depth message's bids then its asks, after the CLEAR row of a snapshot
    first_level = np.zeros(len(d_ev), dtype=np.int64)
    np.cumsum(per_depth[:-1], out=first_level[1:])
    dest = np.repeat(offsets[d_ev] + is_snap[d_ev] - first_level, per_depth) + np.arange(len(lvl_tick))
    cols["tick"][dest] = lvl_tick
    cols["lots"][dest] = lvl_lots
    cols["side"][dest] = np.repeat(np.tile(np.array([1, -1], dtype=np.int8), len(d_ev)), counts)
    cols["kind"][offsets[is_snap]] = KIND_CLEAR
    # trades: side is the aggressor's, so a buyer-maker print is a sell
    t_rows = offsets[t_ev]
    cols["kind"][t_rows] = KIND_TRADE
    cols["tick"][t_rows] = tr_tick
    cols["lots"][t_rows] = tr_lots
    cols["side"][t_rows] = [-1 if t.buyer_is_maker else 1 for t in trades]
    # quotes: the bid row, then the ask row
    q_rows = offsets[q_ev]
    for k, side in ((0, 1), (1, -1)):
        cols["kind"][q_rows + k] = KIND_QUOTE
        cols["side"][q_rows + k] = side
        cols["tick"][q_rows + k] = q_tick[k::2]
        cols["lots"][q_rows + k] = q_lots[k::2]
    cols["flags"][(offsets + rows - 1)[rows > 0]] = F_LAST
    return cols, extra


def _check_numbers(rec: Recording, inst: Instrument, parts: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Raise `_BadValues` for messages with malformed, out-of-range or (a few) off-grid numbers.

    Off the grid is judged by how often: a few such messages among many on the grid are corrupt and
    skipped like any bad message, but when they reach `OFF_GRID_LIMIT_PCT` % of the priced messages the
    instrument is not the recording's (a spot file read as a perpetual): `DataError`, naming the first.
    """
    failures: list[tuple[int, str, str]] = []
    off_grid: list[int] = []
    priced = 0
    for status, messages in parts:
        priced += len(status)
        for k in np.flatnonzero(status).tolist():
            index = int(messages[k])
            if status[k] == MALFORMED or status[k] == OUT_OF_RANGE:
                reason = "malformed" if status[k] == MALFORMED else "out_of_range"
                failures.append((index, reason, describe_values(rec.payload[index], inst)))
            elif status[k] == OFF_GRID:
                off_grid.append(index)
    if off_grid and len(off_grid) * 100 >= OFF_GRID_LIMIT_PCT * priced:
        index = min(off_grid)
        raise DataError(
            f"{describe_values(rec.payload[index], inst)} ({len(off_grid)} of {priced} messages are off the "
            "grid: is this the recording's instrument?)",
            source=rec.where(index)[0],
            line=rec.where(index)[1],
        )
    failures += [(index, "off_grid", describe_values(rec.payload[index], inst)) for index in off_grid]
    if failures:
        raise _BadValues(failures)


# --- public entry point ----------------------------------------------------------------------------
def load_binance(
    paths: Path | str | Iterable[Path | str],
    *,
    instrument: Instrument | None = None,
    symbol: str | None = None,
    strict: bool = False,
    on_issue: Callable[[Issue], None] = log_issue,
) -> MarketStream:
    """Load one instrument from one recording, or from several that continue each other (in order).

    The instrument is looked up in `BINANCE_INSTRUMENTS` unless given. `symbol` picks one venue symbol
    (e.g. ``"BTCUSDT"``) when a recording holds several. Problems (malformed lines, sequence gaps, diffs
    that could not be applied) go to `on_issue` (logged by default) and are counted in ``stats``.
    """
    files = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    if not files:
        raise DataError("no recording given")
    rec = Reader(strict, on_issue).read(files)
    chosen, market, sym = _choose(rec, symbol)
    for index in stray_symbol_lines(rec, sym):
        path, line = rec.where(index)
        why = f"stream of symbol {rec.symbol[index][:40]!r}, which has almost no messages here: a corrupted name"
        if strict:
            raise DataError(f"rejected line (unknown_symbol): {why}", source=path, line=line)
        count_rejection(rec, "unknown_symbol", sym)
        on_issue(Issue("unknown_symbol", path, line, f"{why}; skipped"))
    inst = instrument if instrument is not None else binance_instrument(market, sym)
    while True:
        events, stats = _synchronise(rec, chosen, market, str(inst.id), on_issue)
        try:
            cols, extra = _assemble(rec, events, inst)
            break
        except _BadValues as bad:  # drop those messages and synchronise again without them
            skip = set()
            for index, reason, text in bad.failures:
                if index in skip:
                    continue
                path, line = rec.where(index)
                if strict:
                    what = "malformed line" if reason == "malformed" else f"rejected line ({reason})"
                    raise DataError(f"{what}: {text}", source=path, line=line) from None
                count_rejection(rec, reason, sym)
                on_issue(Issue(reason, path, line, f"{text}; skipped"))
                skip.add(index)
            chosen = [i for i in chosen if i not in skip]
    stats |= rec.stats
    for key, n in rec.by_symbol.get(sym, {}).items():
        stats[key] = stats.get(key, 0) + n
    stats |= {k: v for k, v in extra.items() if v}
    stats["messages"] = len(chosen)
    return MarketStream(inst, source="+".join(rec.files), stats=stats, **cols)


def _choose(rec: Recording, symbol: str | None) -> tuple[list[int], BinanceMarket, str]:
    """Pick the messages of one symbol (and the snapshots); tell the market from its first depth diff.

    A symbol with a hundredth of the messages of the main one or fewer is not a second instrument but
    lines whose stream name was corrupted: they are left out (`stray_symbol_lines` says where).
    """
    counts = Counter(s for s in rec.symbol if s)
    main = max(counts.values(), default=0)
    symbols = {s for s, n in counts.items() if n * _STRAY_RATIO > main}
    first = rec.files[0]
    if symbol is None:
        if len(symbols) != 1:
            found = f"several symbols {sorted(symbols)}; pass symbol=" if symbols else "no stream messages"
            raise DataError(f"the recording holds {found}", source=first)
        symbol = next(iter(symbols))
    symbol = symbol.upper()
    if symbol not in symbols:
        raise DataError(f"symbol {symbol} is not in the recording (it has {sorted(symbols)})", source=first)
    if len(symbols) > 1 and "" in rec.symbol:
        raise DataError(
            f"the recording holds several symbols {sorted(symbols)} and REST snapshots that name none, so "
            "they cannot be told apart: record one symbol per file",
            source=first,
        )
    chosen = [i for i, s in enumerate(rec.symbol) if s in (symbol, "") and i not in rec.dropped]
    for i in chosen:
        payload = rec.payload[i]
        if isinstance(payload, Depth):
            return chosen, _market_of(payload, symbol), symbol
    raise DataError(f"no depth diff for {symbol}: cannot tell spot from futures", source=first)


def stray_symbol_lines(rec: Recording, symbol: str) -> list[int]:
    """The messages of symbols too rare to be an instrument of the recording (see `_choose`)."""
    counts = Counter(s for s in rec.symbol if s)
    main = max(counts.values(), default=0)
    stray = {s for s, n in counts.items() if s != symbol and n * _STRAY_RATIO <= main}
    return [i for i, s in enumerate(rec.symbol) if s in stray]


def group_recordings(paths: Iterable[Path | str]) -> list[list[Path]]:
    """Group recordings by instrument (market and symbol), each group in time order, ready to chain."""
    groups: dict[tuple[BinanceMarket, str], list[tuple[int, Path]]] = {}
    for raw in paths:
        path = Path(raw)
        found = peek_binance(path)
        if found is None:
            raise DataError(
                "no Binance depth diff in the first lines: not a Binance recording?", source=str(path)
            )
        market, symbol, first_ts = found
        groups.setdefault((market, symbol), []).append((first_ts, path))
    return [[p for _, p in sorted(members)] for members in groups.values()]
