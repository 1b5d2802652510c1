"""The recording replayed into the venue's book, and re-encoded as Binance's own market-data messages.

Rows come from the columnar `MarketStream` one venue message at a time (a message ends at an F_LAST row).
Each diff is published as a ``depthUpdate`` whose ``u`` is the recorded final update id; ``U`` is the
previous diff's ``u`` + 1 and (USD-M) ``pu`` the previous ``u``, so the stream chains exactly onto the
``lastUpdateId`` of the REST snapshot served from the same book. A snapshot inside the recording (a
resynchronisation) is published as the diff between the book before and after it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec
import numpy as np

from tradewright.core.errors import BookError
from tradewright.emulator.scheduler import Scheduler
from tradewright.emulator.spec import VenueSpec
from tradewright.model.book import OrderBook
from tradewright.model.columnar import F_LAST, KIND_CLEAR, KIND_DELTA, KIND_QUOTE, KIND_TRADE, MarketStream
from tradewright.sim.venue import SimVenue

__all__ = ["MarketReplay", "StreamKey"]

_encode = msgspec.json.Encoder().encode


class StreamKey:
    """Canonical (lower-case) names of the market streams the replay feeds."""

    def __init__(self, symbol: str) -> None:
        s = symbol.lower()
        self.depth = f"{s}@depth"
        self.trade = f"{s}@trade"
        self.agg_trade = f"{s}@aggtrade"
        self.book_ticker = f"{s}@bookticker"
        self.partial = {n: f"{s}@depth{n}" for n in (5, 10, 20)}


Wants = Callable[[str], bool]
Publish = Callable[[str, bytes], None]


class MarketReplay:
    """Apply recorded rows to the simulated venue's book in time order and publish each message."""

    def __init__(
        self,
        spec: VenueSpec,
        stream: MarketStream,
        venue: SimVenue,
        book: OrderBook,
        scheduler: Scheduler,
        wants: Wants,
        publish: Publish,
        withhold_depth: Callable[[], bool],
    ) -> None:
        self.spec = spec
        self.stream = stream
        self.venue = venue
        self.book = book
        self.scheduler = scheduler
        self.keys = StreamKey(spec.symbol)
        self._wants = wants
        self._publish = publish
        self._withhold_depth = withhold_depth
        self._pf = spec.price_fmt()
        self._qf = spec.qty_fmt()
        self._times = np.maximum.accumulate(stream.ts_recv) if len(stream) else stream.ts_recv
        self._ends = np.flatnonzero(stream.flags & F_LAST) + 1
        self.trade_rows = np.flatnonzero(stream.kind == KIND_TRADE)
        self.position = 0
        #: levels too far from the rest of the book for `OrderBook` to hold (e.g. spot 200000.00 while the
        #: market is at 61800); they cannot trade, so the venue's book leaves them out
        self.far_levels = 0
        self.last_depth_id = 0
        self.last_depth_ms = 0
        trades = self.trade_rows
        offsets = stream.ts_event[trades] - stream.ts_recv[trades] if len(trades) else np.zeros(0)
        offsets = offsets[stream.ts_event[trades] > 0] if len(trades) else offsets
        #: venue time = replay (receive) time + this: the recorder's clock lagged the venue's
        self.offset_ns = int(np.median(offsets)) if len(offsets) else 0

    # --- positioning -------------------------------------------------------------------------------
    def first_ready_position(self) -> int:
        """The row just after the recording's first snapshot (before it the book is empty)."""
        clears = np.flatnonzero(self.stream.kind == KIND_CLEAR)
        if len(clears) == 0:
            return 0
        return self._message_end(int(clears[0]))

    def rebuild(self, position: int) -> None:
        """Put the book in its state after rows [0, position) without publishing (restart, start-up)."""
        s = self.stream
        kind = s.kind[:position]
        clears = np.flatnonzero(kind == KIND_CLEAR)
        start = int(clears[-1]) if len(clears) else 0
        self.book.clear()
        rows = np.arange(start, position)
        deltas = rows[s.kind[start:position] == KIND_DELTA]
        sides, ticks, lots = (
            s.side[deltas].astype(np.int64),
            s.tick[deltas].astype(np.int64),
            s.lots[deltas],
        )
        try:
            self.book.set_levels(sides, ticks, lots.astype(np.int64))
        except BookError:  # a far level: apply one by one, leaving out what the book cannot hold
            self.book.clear()
            for side, tick, size in zip(sides.tolist(), ticks.tolist(), lots.tolist(), strict=True):
                try:
                    self.book.set_level(side, tick, size)
                except BookError:
                    self.far_levels += 1
        depth_rows = np.flatnonzero((kind == KIND_DELTA) | (kind == KIND_CLEAR))
        if len(depth_rows):
            last = int(depth_rows[-1])
            self.last_depth_id = int(s.update_id[last])
            self.last_depth_ms = int(s.ts_event[last]) // 1_000_000
        self.position = position

    def row_time(self, k: int) -> int:
        return int(self._times[k])

    def next_row_ns(self) -> int | None:
        return None if self.position >= len(self.stream) else int(self._times[self.position])

    @property
    def finished(self) -> bool:
        return self.position >= len(self.stream)

    def _message_end(self, k: int) -> int:
        i = int(np.searchsorted(self._ends, k, side="right"))
        return int(self._ends[i]) if i < len(self._ends) else len(self.stream)

    # --- the replay --------------------------------------------------------------------------------
    def advance(self, target_ns: int, budget: int = 20_000) -> bool:
        """Replay the messages due by `target_ns` (at most about `budget` rows); True when caught up."""
        s = self.stream
        end = int(np.searchsorted(self._times, target_ns, side="right"))
        k = self.position
        done = 0
        while k < end and done < budget:
            stop = self._message_end(k)
            self.scheduler.run_due(int(self._times[k]))
            kind = int(s.kind[k])
            if kind == KIND_CLEAR:
                self._snapshot(k, stop)
            else:
                self._apply(k, stop)
                if kind == KIND_DELTA:
                    self._depth(k, stop)
                elif kind == KIND_TRADE:
                    self._trade(k)
                elif kind == KIND_QUOTE:
                    self._quote(k, stop)
            done += stop - k
            k = stop
            self.position = k
        caught_up = k >= end
        if caught_up:
            self.scheduler.run_due(target_ns)
        return caught_up

    def _apply(self, k: int, stop: int) -> None:
        for j in range(k, stop):
            try:
                self.venue.on_row(self.stream, j)
            except BookError:
                self.far_levels += 1

    def _snapshot(self, k: int, stop: int) -> None:
        before = self._all_levels() if self._wants(self.keys.depth) else None
        self._apply(k, stop)
        u = int(self.stream.update_id[k])
        if before is not None:
            after = self._all_levels()
            changed = [
                (side, tick, after.get((side, tick), 0))
                for side, tick in set(before) | set(after)
                if before.get((side, tick)) != after.get((side, tick))
            ]
            changed.sort(key=lambda c: (-c[0], -c[1] if c[0] > 0 else c[1]))
            self._send_depth(
                [(t, q) for sd, t, q in changed if sd > 0], [(t, q) for sd, t, q in changed if sd < 0], u, k
            )
        self.last_depth_id = u
        self.last_depth_ms = int(self.stream.ts_event[k]) // 1_000_000 or self.last_depth_ms

    def _all_levels(self) -> dict[tuple[int, int], int]:
        levels: dict[tuple[int, int], int] = {}
        for side in (1, -1):
            for tick, lots in self.book.depth_ticks(side, 1 << 30):
                levels[(side, tick)] = lots
        return levels

    def _depth(self, k: int, stop: int) -> None:
        s = self.stream
        u = int(s.update_id[k])
        if self._wants(self.keys.depth):
            sides = s.side[k:stop]
            ticks = s.tick[k:stop].tolist()
            lots = s.lots[k:stop].tolist()
            bids = [(t, q) for sd, t, q in zip(sides.tolist(), ticks, lots, strict=True) if sd > 0]
            asks = [(t, q) for sd, t, q in zip(sides.tolist(), ticks, lots, strict=True) if sd < 0]
            self._send_depth(bids, asks, u, k)
        self.last_depth_id = u
        self.last_depth_ms = int(s.ts_event[k]) // 1_000_000 or self.last_depth_ms
        for n, key in self.keys.partial.items():
            if self._wants(key):
                self._publish(key, _encode(self._partial(n, k)))

    def _send_depth(self, bids: list[tuple[int, int]], asks: list[tuple[int, int]], u: int, k: int) -> None:
        prev = self.last_depth_id
        if self._withhold_depth():
            return  # fault injection: subscribers miss this diff and see a sequence gap
        pf, qf = self._pf.fmt, self._qf.fmt
        ms = int(self.stream.ts_event[k]) // 1_000_000 or self.last_depth_ms
        msg: dict[str, Any] = {"e": "depthUpdate", "E": ms}
        if self.spec.futures:
            msg["T"] = ms
        msg |= {"s": self.spec.symbol, "U": prev + 1, "u": u}
        if self.spec.futures:
            msg["pu"] = prev
        msg["b"] = [[pf(t), qf(q)] for t, q in bids]
        msg["a"] = [[pf(t), qf(q)] for t, q in asks]
        self._publish(self.keys.depth, _encode(msg))

    def _partial(self, n: int, k: int) -> dict[str, Any]:
        pf, qf = self._pf.fmt, self._qf.fmt
        bids = [[pf(t), qf(q)] for t, q in self.book.depth_ticks(1, n)]
        asks = [[pf(t), qf(q)] for t, q in self.book.depth_ticks(-1, n)]
        if not self.spec.futures:
            return {"lastUpdateId": self.last_depth_id, "bids": bids, "asks": asks}
        ms = self.last_depth_ms
        return {
            "e": "depthUpdate",
            "E": ms,
            "T": ms,
            "s": self.spec.symbol,
            "U": self.last_depth_id,
            "u": self.last_depth_id,
            "pu": self.last_depth_id,
            "b": bids,
            "a": asks,
        }

    def _trade(self, k: int) -> None:
        keys = self.keys
        want_trade, want_agg = self._wants(keys.trade), self._wants(keys.agg_trade)
        if not (want_trade or want_agg):
            return
        row = self._trade_row(k)
        if want_trade:
            msg: dict[str, Any] = {"e": "trade", "E": row["T"]}
            if self.spec.futures:
                msg |= {"T": row["T"], "s": self.spec.symbol, "t": row["t"], "p": row["p"], "q": row["q"]}
                msg |= {"X": "MARKET", "m": row["m"]}
            else:
                msg |= {"s": self.spec.symbol, "t": row["t"], "p": row["p"], "q": row["q"], "T": row["T"]}
                msg |= {"m": row["m"], "M": True}
            self._publish(keys.trade, _encode(msg))
        if want_agg:
            agg: dict[str, Any] = {"e": "aggTrade", "E": row["T"], "s": self.spec.symbol, "a": row["t"]}
            agg |= {"p": row["p"], "q": row["q"], "f": row["t"], "l": row["t"], "T": row["T"], "m": row["m"]}
            if not self.spec.futures:
                agg["M"] = True
            self._publish(keys.agg_trade, _encode(agg))

    def _trade_row(self, k: int) -> dict[str, Any]:
        s = self.stream
        return {
            "t": int(s.update_id[k]),
            "p": self._pf.fmt(int(s.tick[k])),
            "q": self._qf.fmt(int(s.lots[k])),
            "T": int(s.ts_event[k]) // 1_000_000,
            "m": bool(s.side[k] < 0),  # a sell aggressor means the buyer was the maker
        }

    def _quote(self, k: int, stop: int) -> None:
        if not self._wants(self.keys.book_ticker) or stop - k != 2:
            return
        s = self.stream
        pf, qf = self._pf.fmt, self._qf.fmt
        msg: dict[str, Any] = {}
        if self.spec.futures:
            msg["e"] = "bookTicker"
        msg |= {"u": int(s.update_id[k]), "s": self.spec.symbol}
        msg |= {"b": pf(int(s.tick[k])), "B": qf(int(s.lots[k])), "a": pf(int(s.tick[k + 1]))}
        msg["A"] = qf(int(s.lots[k + 1]))
        if self.spec.futures:
            ms = int(s.ts_event[k]) // 1_000_000
            msg |= {"T": ms, "E": ms}
        self._publish(self.keys.book_ticker, _encode(msg))

    # --- REST views of the market as replayed so far -----------------------------------------------
    def depth(self, limit: int, now_ms: int) -> dict[str, Any]:
        pf, qf = self._pf.fmt, self._qf.fmt
        out: dict[str, Any] = {"lastUpdateId": self.last_depth_id}
        if self.spec.futures:
            out |= {"E": now_ms, "T": self.last_depth_ms}
        out["bids"] = [[pf(t), qf(q)] for t, q in self.book.depth_ticks(1, limit)]
        out["asks"] = [[pf(t), qf(q)] for t, q in self.book.depth_ticks(-1, limit)]
        return out

    def trades_upto(self) -> np.ndarray:
        """Indices of the trade rows replayed so far."""
        upto = int(np.searchsorted(self.trade_rows, self.position))
        return self.trade_rows[:upto]

    def trade_json(self, k: int) -> dict[str, Any]:
        s = self.stream
        inst = self.spec.instrument
        quote = inst.ticks_to_price(int(s.tick[k])) * inst.lots_to_size(int(s.lots[k]))
        row = self._trade_row(k)
        out: dict[str, Any] = {"id": row["t"], "price": row["p"], "qty": row["q"]}
        out |= {"quoteQty": self.spec.amount(quote), "time": row["T"], "isBuyerMaker": row["m"]}
        if not self.spec.futures:
            out["isBestMatch"] = True
        return out

    def agg_json(self, k: int) -> dict[str, Any]:
        row = self._trade_row(k)
        out: dict[str, Any] = {"a": row["t"], "p": row["p"], "q": row["q"], "f": row["t"], "l": row["t"]}
        out |= {"T": row["T"], "m": row["m"]}
        if not self.spec.futures:
            out["M"] = True
        return out

    def mark_price(self) -> Decimal:
        """The mid of the book (USD-M mark price stand-in); the last trade if a side is empty."""
        mid = self.book.mid
        if mid is not None:
            return mid
        trades = self.trades_upto()
        if len(trades):
            return self.spec.instrument.ticks_to_price(int(self.stream.tick[trades[-1]]))
        return Decimal(0)
