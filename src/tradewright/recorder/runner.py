"""Record a venue's public market data: every verified book message (snapshots and deltas, with the
venue's checksums and update ids), every resynchronisation, public trades and the venue's best
bid/offer, one folder per instrument, one Parquet file per UTC hour.

The books written are the ones our verifier accepted (`RecordableFeed.run_book_deltas`): a recording
replays into exactly the book the live node saw, and `tradewright data verify` checks its checksums
and sequence ids again offline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradewright.core.clock import LiveClock
from tradewright.core.errors import ConfigError
from tradewright.core.ids import InstrumentId
from tradewright.data.venue_recording import RecordingWriter, Row
from tradewright.model.data import BookDeltas, QuoteTick, TradeTick
from tradewright.model.enums import OrderSide
from tradewright.venues._common.ports import VenueHooks, VenueStatus
from tradewright.venues.registry import venue_package

__all__ = ["RecordSummary", "record"]

log = logging.getLogger("tradewright.recorder")
_FLUSH_S = 1.0


@dataclass
class RecordSummary:
    """What a recording session wrote, per instrument folder."""

    folders: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    resyncs: dict[str, int] = field(default_factory=dict)
    statuses: list[VenueStatus] = field(default_factory=list)


def _num(value: Any) -> str:
    """A Decimal as plain text, trailing zeros kept (checksums hash the venue's exact text)."""
    return format(value, "f")


class _Sink:
    """Rows for one instrument's writer, from the feed's callbacks (called on the event loop)."""

    def __init__(self, writer: RecordingWriter, clock: LiveClock) -> None:
        self.writer = writer
        self.clock = clock
        self.resyncs = 0

    def deltas(self, msg: BookDeltas) -> None:
        w = self.writer
        rows: list[Row] = []
        if msg.is_snapshot:
            rows.append(Row(msg.ts_event, msg.ts_init, "clear"))
        for d in msg.deltas:
            rows.append(
                Row(
                    msg.ts_event,
                    msg.ts_init,
                    "level",
                    d.side,
                    _num(d.price),
                    _num(d.size),
                    update_id=msg.last_update_id,
                    prev_update_id=msg.prev_update_id,
                )
            )
        if not rows:
            rows.append(
                Row(msg.ts_event, msg.ts_init, "clear" if msg.is_snapshot else "level", 1, "0", "0")
            )  # an empty message still ends
        last = rows[-1]
        # the id this message continues from: its prevSeqId (OKX), u - 1 (Bybit) or U - 1 (Gate)
        prev = msg.prev_update_id or (msg.first_update_id - 1 if msg.first_update_id else 0)
        last.last, last.checksum = True, msg.checksum
        last.update_id, last.prev_update_id = msg.last_update_id, prev
        for r in rows:
            w.add(r)

    def resync(self, iid: InstrumentId, why: str) -> None:
        self.resyncs += 1
        now = self.clock.now_ns()
        self.writer.add(Row(now, now, "resync", last=True, note=why[:500]))

    def trade(self, t: TradeTick) -> None:
        side = 1 if t.aggressor is OrderSide.BUY else -1 if t.aggressor is OrderSide.SELL else 0
        self.writer.add(
            Row(t.ts_event, t.ts_init, "trade", side, _num(t.price), _num(t.size), last=True, note=t.trade_id)
        )

    def quote(self, q: QuoteTick) -> None:
        self.writer.add(
            Row(q.ts_event, q.ts_init, "quote", 1, _num(q.bid), _num(q.bid_size), update_id=q.update_id)
        )
        self.writer.add(
            Row(
                q.ts_event,
                q.ts_init,
                "quote",
                -1,
                _num(q.ask),
                _num(q.ask_size),
                last=True,
                update_id=q.update_id,
            )
        )


async def record(
    kind: str, config: Any, out: Path, *, duration_s: float | None = None, stop: asyncio.Event | None = None
) -> RecordSummary:
    """Record the configured symbols of venue `kind` into `out` until `duration_s` passes or `stop` is set."""
    package = venue_package(kind)
    connect = getattr(package, "connect_market_data", None)
    if connect is None:
        raise ConfigError(
            f"venue kind {kind!r} cannot be recorded (its package has no public market-data session)"
        )
    clock = LiveClock()
    summary = RecordSummary()
    hooks = VenueHooks(clock=clock, emit=lambda event: None, on_status=summary.statuses.append, log=log)
    session = await connect(config, hooks)
    sinks: dict[InstrumentId, _Sink] = {}
    tasks: list[asyncio.Task[None]] = []
    try:
        feed = session.market_data
        for iid, inst in session.instruments.items():
            folder = out / str(iid.venue) / iid.symbol.replace("/", "-")
            writer = RecordingWriter(folder, str(iid.venue), inst, session.checksum_rule, session.book_depth)
            sink = sinks[iid] = _Sink(writer, clock)
            summary.folders[str(iid)] = folder
            tasks.append(
                asyncio.create_task(feed.run_book_deltas(iid, sink.deltas, sink.resync), name=f"book {iid}")
            )
            tasks.append(asyncio.create_task(feed.run_trades(iid, sink.trade), name=f"trades {iid}"))
            tasks.append(asyncio.create_task(feed.run_quotes(iid, sink.quote), name=f"quotes {iid}"))
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        deadline = None if duration_s is None else loop.time() + duration_s
        while not stop.is_set() and (deadline is None or loop.time() < deadline):
            failed = [t for t in tasks if t.done() and not t.cancelled() and t.exception() is not None]
            if failed:
                raise failed[0].exception()  # type: ignore[misc]
            wait = _FLUSH_S if deadline is None else max(0.0, min(_FLUSH_S, deadline - loop.time()))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
            for sink in sinks.values():
                sink.writer.flush()  # one row group a second: little is lost if the process dies
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for iid, sink in sinks.items():
            sink.writer.close()
            summary.rows[str(iid)] = sink.writer.written
            summary.resyncs[str(iid)] = sink.resyncs
        await session.close()
    return summary
