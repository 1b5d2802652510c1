"""`tradewright probe`: a connectivity and auth check of one venue of a config, that never trades unless
told to twice.

Read-only (the default): connect through the venue's package (markets and a private read that checks
the keys), time the round trip, read the venue's clock where its client offers one (skew), the
account (balances, positions) and our open orders on each configured market, and wait for one verified
book per market.

`order_test` with `execute`: place the smallest order the market allows (its minimum size, on the lot
grid) as a post-only buy `far_pct` % below the best bid, through a kernel with a risk engine — so it is
checked like any order — see the venue acknowledge it and list it as open, cancel it, see the cancel
confirmed, and check that nothing filled. Without `execute` it refuses (a test order is still an order).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from typing import Any

from tradewright.core.clock import LiveClock
from tradewright.core.errors import ConfigError, TradewrightError, VenueError
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId
from tradewright.engine.kernel import Kernel
from tradewright.live.multi import connect_venue
from tradewright.live.multi_config import VenueEntry
from tradewright.live.node import order_id_prefix
from tradewright.model.commands import CancelOrder, SubmitOrder
from tradewright.model.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from tradewright.model.events import Event, OrderEvent
from tradewright.risk.engine import RiskEngine
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.ports import VenueHooks, VenueStatus

__all__ = ["ProbeReport", "probe_venue"]


@dataclass
class ProbeReport:
    """What the probe found, line by line (`lines`), and whether every check passed (`ok`)."""

    venue: str
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def say(self, text: str) -> None:
        self.lines.append(text)

    def fail(self, text: str) -> None:
        self.problems.append(text)
        self.lines.append(f"PROBLEM: {text}")


async def probe_venue(
    entry: VenueEntry,
    credentials: Credentials,
    *,
    order_test: bool = False,
    execute: bool = False,
    far_pct: Decimal = Decimal(20),
    timeout_s: float = 15.0,
) -> ProbeReport:
    """Check one venue (see the module docstring); raise ConfigError for an order test without `execute`."""
    if order_test and not execute:
        raise ConfigError(
            "--order-test places a real order (the smallest allowed, far from the market, cancelled at once): "
            "add --execute to confirm"
        )
    if not 0 < far_pct < 100:
        raise ConfigError(f"--far-pct must be between 0 and 100, got {far_pct}")
    report = ProbeReport(entry.name)
    clock = LiveClock()
    statuses: list[VenueStatus] = []
    kernel = Kernel(clock, risk=RiskEngine(), id_prefix=order_id_prefix(time.time_ns() // 1_000_000))

    def emit(event: Event) -> None:
        if isinstance(event, OrderEvent):
            kernel.on_venue_event(event)

    hooks = VenueHooks(
        clock=clock, emit=emit, on_status=statuses.append, log=logging.getLogger("tradewright.probe")
    )
    started = time.perf_counter()
    venue = await connect_venue(entry, credentials, hooks)
    tasks: list[asyncio.Task[None]] = []
    try:
        report.say(
            f"connected to {entry.name} ({venue.venue}) in {(time.perf_counter() - started) * 1000:.0f} ms: "
            "markets loaded, keys accepted"
        )
        await _clock_skew(venue, clock, report)
        instruments = list(venue.instruments.values())
        for inst in instruments:
            kernel.add_instrument(inst)
            report.say(
                f"market {inst.id}: tick {inst.tick_size}, lot {inst.lot_size}, min size {inst.min_size}, "
                f"fees maker {inst.maker_fee} / taker {inst.taker_fee}"
            )
        kernel.add_execution_client(venue.execution)
        t0 = time.perf_counter()
        account = await venue.execution.account([i.id for i in instruments])
        shown = ", ".join(f"{c} {a}" for c, a in sorted(account.balances.items()) if a != 0) or "none"
        report.say(f"account read in {(time.perf_counter() - t0) * 1000:.0f} ms: balances {shown}")
        for iid, pos in sorted(account.positions.items()):
            report.say(f"position {iid}: {pos.quantity} @ {pos.entry_price}")
        for inst in instruments:
            mine = await venue.execution.open_orders(inst.id)
            report.say(f"open orders of ours on {inst.id}: {len(mine)}")
        books: dict[InstrumentId, tuple[int | None, int | None]] = {}

        def on_book(iid: InstrumentId, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> None:
            books[iid] = (bids[0][0] if bids else None, asks[0][0] if asks else None)

        for inst in instruments:
            tasks.append(asyncio.create_task(venue.market_data.run_book(inst.id, on_book)))
        deadline = time.monotonic() + timeout_s
        while len(books) < len(instruments) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for inst in instruments:
            top = books.get(inst.id)
            if top is None:
                report.fail(f"no verified book of {inst.id} within {timeout_s:g} s")
                continue
            bid, ask = (None if t is None else inst.ticks_to_price(t) for t in top)
            report.say(f"book {inst.id}: best bid {bid}, best ask {ask}")
        report.say(
            "rate-limit headroom: "
            + (
                "paced by the client's own limiter"
                if getattr(venue, "exchange", None) is not None
                else "not reported"
            )
        )
        if order_test:
            inst = instruments[0]
            top = books.get(inst.id)
            if top is None or top[0] is None:
                report.fail(f"order test skipped: no best bid on {inst.id} to stay away from")
            else:
                await _order_test(
                    kernel, venue, inst.id, inst.ticks_to_price(top[0]), far_pct, timeout_s, report
                )
        for status in statuses:
            if status.health.value != "UP":
                report.say(f"venue said {status.health}: {status.reason}")
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await venue.close()
    return report


async def _clock_skew(venue: Any, clock: LiveClock, report: ProbeReport) -> None:
    """The venue's clock against ours, where its client offers a server time (CCXT's `fetch_time`)."""
    fetch_time = getattr(getattr(venue, "exchange", None), "fetch_time", None)
    if fetch_time is None:
        report.say("clock skew: this venue's client offers no server time")
        return
    try:
        before = clock.now_ns()
        server_ms = await fetch_time()
        after = clock.now_ns()
    except Exception as exc:  # a read the venue may not serve: reported, not fatal
        report.say(f"clock skew: the venue's time could not be read ({str(exc)[:120]})")
        return
    if server_ms is None:
        report.say("clock skew: the venue did not say its time")
        return
    skew_ms = int(server_ms) - (before + after) // 2 // 1_000_000
    report.say(f"clock skew: {skew_ms:+d} ms (venue - local; round trip {(after - before) / 1e6:.0f} ms)")


async def _order_test(
    kernel: Kernel,
    venue: Any,
    iid: InstrumentId,
    best_bid: Decimal,
    far_pct: Decimal,
    timeout_s: float,
    report: ProbeReport,
) -> None:
    inst = kernel.instrument(iid)
    size = max(inst.min_size or inst.lot_size, inst.lot_size)
    size = (size / inst.lot_size).to_integral_value(rounding=ROUND_CEILING) * inst.lot_size
    raw = best_bid * (100 - far_pct) / 100
    price = (raw / inst.tick_size).to_integral_value(rounding=ROUND_DOWN) * inst.tick_size
    if price <= 0:
        price = inst.tick_size
    cid = ClientOrderId(f"{kernel.orders.next_id(StrategyId('probe'))}")
    order = kernel.submit(
        SubmitOrder(
            ts_init=kernel.clock.now_ns(),
            client_order_id=cid,
            strategy_id=StrategyId("probe"),
            instrument_id=iid,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=size,
            price=price,
            time_in_force=TimeInForce.GTC,
            post_only=True,
        ),
        None,
    )
    report.say(
        f"order test: BUY {size} {iid} @ {price} ({far_pct}% below the best bid {best_bid}), post-only"
    )
    if order.status is OrderStatus.DENIED:
        report.fail(f"order test: the risk engine denied it: {order.events[-1]!r}"[:300])
        return
    if not await _until(lambda: order.venue_order_id is not None or order.status.is_terminal, timeout_s):
        report.fail("order test: no acknowledgement from the venue")
    elif order.status.is_terminal:
        report.fail(f"order test: the venue ended it at once ({order.status})")
        return
    else:
        listed = await venue.execution.open_orders(iid)
        seen = any(v.client_order_id == cid for v in listed)
        report.say(f"order test: acknowledged as {order.venue_order_id}; listed open at the venue: {seen}")
        if not seen:
            report.fail("order test: the venue does not list the acknowledged order as open")
    kernel.cancel(
        CancelOrder(ts_init=kernel.clock.now_ns(), client_order_id=cid, instrument_id=iid, actor="probe")
    )
    if not await _until(lambda: order.status.is_terminal, timeout_s):
        report.fail(f"order test: the cancel was not confirmed in {timeout_s:g} s: check {cid} at the venue")
        return
    if order.filled_qty != 0:
        report.fail(f"order test: {order.filled_qty} FILLED before the cancel")
    else:
        report.say(f"order test: cancelled ({order.status}); nothing filled")
    try:
        view = await venue.execution.query_order(iid, cid)
    except (VenueError, TradewrightError) as exc:
        report.say(f"order test: the venue could not be asked about it afterwards ({exc})")
        return
    if view is not None and view.filled_qty != 0:
        report.fail(f"order test: the venue reports {view.filled_qty} filled")


async def _until(check: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True
