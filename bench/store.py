"""State store commit latency and throughput, on SQLite (a file) and PostgreSQL (127.0.0.1:5432).

For each backend, three workloads, each timed per commit (the time the caller waits before it may act):
  * intent      — `record_intent` of a new order: one small transaction (2 rows);
  * fill        — `record_fill`: fill, order event, order update, position and balance (5 rows);
  * group/50    — `with store.batch():` of 50 intents: one transaction, 100 rows.
Prints p50/p99 commit latency and writes/s (store calls per second). SQLite runs with its default
synchronous=FULL (an fsync per commit) and with NORMAL for comparison.

And at the order manager's level — a kernel with the store as its journal (`tradewright.live.store_sink`),
timed from the kernel call until the order may leave (or memory has moved):
  * submit      — a strategy's order: its audit record and intent in one commit, then handed to the client;
  * ack+fill    — the venue's ack and a fill of that order: two commits (the fill with position and cash);
  * cancel x20  — 20 working orders cancelled one by one: 20 commits;
  * cancel-all  — the same 20 with `cancel_all_orders`: one group commit, then the 20 cancels are sent.
Runs in about a minute.

    python bench/store.py [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--seconds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from tradewright.core.clock import LiveClock
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId, TradeId, VenueOrderId
from tradewright.engine.kernel import Kernel
from tradewright.live.store_sink import StoreSink
from tradewright.model import (
    Instrument,
    InstrumentKind,
    LiquiditySide,
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderSide,
    OrderSubmitted,
    OrderType,
    Position,
    SubmitOrder,
)
from tradewright.portfolio.portfolio import Portfolio
from tradewright.store import SqliteSync, SqlStateStore, StoreConfig
from tradewright.strategy.base import Strategy

BTC = InstrumentId.parse("BTCUSDT.BINANCE")
INSTRUMENT = Instrument(
    id=BTC,
    kind=InstrumentKind.SPOT,
    base="BTC",
    quote="USDT",
    settle="USDT",
    tick_size=Decimal("0.01"),
    lot_size=Decimal("0.00001"),
)
STRATEGY = StrategyId("bench")
GROUP = 50
GROUP_CANCELS = 20


class Workload:
    """Makes fresh orders and fills, and keeps the position and cash the store is told about."""

    def __init__(self) -> None:
        self.seq = 0
        self.position = Position(INSTRUMENT)
        self.cash = Decimal("1000000")

    def order(self) -> Order:
        self.seq += 1
        cmd = SubmitOrder(
            ts_init=self.seq,
            client_order_id=ClientOrderId(f"bench-{self.seq}"),
            strategy_id=STRATEGY,
            instrument_id=BTC,
            side=OrderSide.BUY if self.seq % 2 else OrderSide.SELL,
            order_type=OrderType.LIMIT,
            quantity=Decimal("0.01"),
            price=Decimal("60000.01") + Decimal(self.seq % 100) / 100,
        )
        order = Order(cmd)
        order.apply(
            OrderSubmitted(
                ts_event=self.seq,
                ts_init=self.seq,
                client_order_id=order.client_order_id,
                instrument_id=BTC,
                strategy_id=STRATEGY,
                side=order.side,
                order_type=order.order_type,
                quantity=order.quantity,
                price=order.price,
            )
        )
        return order

    def fill(self, order: Order) -> tuple[OrderFilled, Position, dict[str, Decimal]]:
        assert order.price is not None
        fill = OrderFilled(
            ts_event=self.seq,
            ts_init=self.seq,
            client_order_id=order.client_order_id,
            instrument_id=BTC,
            venue_order_id=VenueOrderId(f"v-{self.seq}"),
            trade_id=TradeId(f"t-{self.seq}"),
            side=order.side,
            last_px=order.price,
            last_qty=order.quantity,
            liquidity=LiquiditySide.MAKER,
            fee=Decimal("0.0012"),
            fee_currency="USDT",
        )
        self.position.apply_fill(fill.side, fill.last_px, fill.last_qty, fill.fee)
        self.cash -= fill.side.sign * fill.last_px * fill.last_qty + fill.fee
        return fill, self.position, {"USDT": self.cash}


def measure(step: Callable[[], int], seconds: float, max_steps: int) -> tuple[list[float], int, float]:
    """Run `step` (returns the store calls it made) until time or steps run out; return per-step
    latencies in ms, total calls, and elapsed seconds."""
    latencies: list[float] = []
    calls = 0
    start = time.perf_counter()
    while len(latencies) < max_steps and time.perf_counter() - start < seconds:
        t0 = time.perf_counter_ns()
        calls += step()
        latencies.append((time.perf_counter_ns() - t0) / 1e6)
    return latencies, calls, time.perf_counter() - start


def run_backend(
    name: str, config: StoreConfig, seconds: float
) -> list[tuple[str, str, list[float], int, float]]:
    rows = []
    with SqlStateStore(config) as store:
        work = Workload()

        def intent() -> int:
            store.record_intent(work.order())
            return 1

        def fill() -> int:
            order = work.order()
            store.record_intent(order)
            t0 = time.perf_counter_ns()
            store.record_fill(*work.fill(order))
            fill_times.append((time.perf_counter_ns() - t0) / 1e6)
            return 1

        def group() -> int:
            with store.batch():
                for _ in range(GROUP):
                    store.record_intent(work.order())
            return GROUP

        measure(intent, 0.3, 50)  # warm up: pool, statement cache
        lat, calls, elapsed = measure(intent, seconds, 20_000)
        rows.append((name, "intent", lat, calls, elapsed))
        fill_times: list[float] = []
        _, calls, elapsed = measure(fill, seconds, 10_000)
        # Throughput of fills alone: the intents recorded alongside are excluded from the time.
        rows.append((name, "fill", fill_times, calls, sum(fill_times) / 1000))
        lat, calls, elapsed = measure(group, seconds, 2_000)
        rows.append((name, f"group/{GROUP}", lat, calls, elapsed))
    return rows


class _Client:
    """An execution client that sends nothing (the venue is not under test)."""

    venue = BTC.venue

    def __init__(self) -> None:
        self.sent = 0

    def submit(self, order: Order) -> None:
        self.sent += 1

    def cancel(self, order: Order) -> None:
        self.sent += 1

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        self.sent += 1


def run_kernel(
    name: str, config: StoreConfig, seconds: float
) -> list[tuple[str, str, list[float], int, float]]:
    """The kernel's commit-first paths over the store (see the module docstring)."""
    rows = []
    with SqlStateStore(config) as store:
        sink = StoreSink(store)
        kernel = Kernel(
            LiveClock(), portfolio=Portfolio({"USDT": Decimal(10**9)}), sinks=[sink], journal=sink
        )
        kernel.add_instrument(INSTRUMENT)
        kernel.add_execution_client(_Client())
        strategy = Strategy("bench", [BTC])
        kernel.add_strategy(strategy)
        store.save_instrument(INSTRUMENT, ts_ns=0)
        seq = [0]

        def submit() -> str:
            seq[0] += 1
            return strategy.ctx.submit(BTC, OrderSide.BUY, Decimal("0.01"), Decimal("60000.01"))

        def ack_fill(cid: str) -> None:
            now = time.time_ns()
            kernel.on_venue_event(
                OrderAccepted(
                    client_order_id=ClientOrderId(cid),
                    instrument_id=BTC,
                    venue_order_id=VenueOrderId(cid),
                    ts_event=now,
                    ts_init=now,
                )
            )
            kernel.on_venue_event(
                OrderFilled(
                    client_order_id=ClientOrderId(cid),
                    instrument_id=BTC,
                    venue_order_id=VenueOrderId(cid),
                    trade_id=TradeId(f"t{seq[0]}"),
                    side=OrderSide.BUY,
                    last_px=Decimal("60000.01"),
                    last_qty=Decimal("0.01"),
                    liquidity=LiquiditySide.MAKER,
                    fee=Decimal("0.12"),
                    fee_currency="USDT",
                    ts_event=now,
                    ts_init=now,
                )
            )

        pending: list[str] = []

        def submit_step() -> int:
            pending.append(submit())
            return 1

        def ack_fill_step() -> int:
            ack_fill(pending.pop() if pending else submit())
            return 2

        def confirm_cancels() -> None:
            for order in kernel.orders.open_orders():
                kernel.on_venue_event(
                    OrderCanceled(
                        client_order_id=order.client_order_id, instrument_id=BTC, ts_event=0, ts_init=0
                    )
                )

        def working(n: int) -> list[str]:
            cids = [submit() for _ in range(n)]
            for cid in cids:
                kernel.on_venue_event(
                    OrderAccepted(
                        client_order_id=ClientOrderId(cid),
                        instrument_id=BTC,
                        venue_order_id=VenueOrderId(cid),
                        ts_event=0,
                        ts_init=0,
                    )
                )
            return cids

        measure(submit_step, 0.3, 50)  # warm up
        pending.clear()
        lat, calls, elapsed = measure(submit_step, seconds, 5_000)
        rows.append((name, "submit", lat, calls, elapsed))
        lat, calls, elapsed = measure(ack_fill_step, seconds, 5_000)
        rows.append((name, "ack+fill", lat, calls, elapsed))
        confirm_cancels()  # the orders the submit workload left working
        one_by_one: list[float] = []
        grouped: list[float] = []
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline and len(grouped) < 200:
            for cid in working(GROUP_CANCELS):
                t0 = time.perf_counter_ns()
                strategy.ctx.cancel(ClientOrderId(cid))
                one_by_one.append((time.perf_counter_ns() - t0) / 1e6)
            confirm_cancels()
            working(GROUP_CANCELS)
            t0 = time.perf_counter_ns()
            kernel.cancel_all_orders(actor="bench")
            grouped.append((time.perf_counter_ns() - t0) / 1e6)
            confirm_cancels()
        n = len(grouped)
        rows.append(
            (
                name,
                f"cancel x{GROUP_CANCELS}",
                [sum(one_by_one[i::n]) for i in range(n)],
                n * GROUP_CANCELS,
                sum(one_by_one) / 1000,
            )
        )
        rows.append((name, "cancel-all", grouped, n * GROUP_CANCELS, sum(grouped) / 1000))
    return rows


def pct(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


@contextmanager
def pg_schema(url: str) -> Iterator[str | None]:
    """A throwaway schema on the server, or None (and a note) if it is unreachable."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    dsn = f"host={u.host or '127.0.0.1'} port={u.port or 5432} dbname={u.database} user={u.username or 'postgres'}"
    name = f"tw_bench_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
    except psycopg.Error as exc:
        print(f"postgresql: skipped, {url} is unreachable ({str(exc).strip()})", file=sys.stderr)
        yield None
        return
    try:
        yield f"{url}?options=-csearch_path%3D{name}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--seconds", type=float, default=3.0, help="time per workload (default 3)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="tw-bench-") as tmp:
        for sync in (SqliteSync.FULL, SqliteSync.NORMAL):
            sqlite_url = f"sqlite:///{Path(tmp) / f'bench-{sync.value}.sqlite'}"
            config = StoreConfig(url=sqlite_url, sqlite_synchronous=sync)
            rows += run_backend(f"sqlite {sync.value}", config, args.seconds)
            kernel_url = f"sqlite:///{Path(tmp) / f'kernel-{sync.value}.sqlite'}"
            rows += run_kernel(
                f"sqlite {sync.value}", StoreConfig(url=kernel_url, sqlite_synchronous=sync), args.seconds
            )
    with pg_schema(args.pg_url) as pg_url:
        if pg_url is not None:
            rows += run_backend("postgresql", StoreConfig(url=pg_url), args.seconds)
    with pg_schema(args.pg_url) as pg_url:
        if pg_url is not None:
            rows += run_kernel("postgresql", StoreConfig(url=pg_url), args.seconds)
    print(f"{'backend':<16}{'workload':<12}{'samples':>8}{'p50 ms':>9}{'p99 ms':>9}{'writes/s':>11}")
    for backend, workload, lat, calls, elapsed in rows:
        print(
            f"{backend:<16}{workload:<12}{len(lat):>8}{pct(lat, 50):>9.3f}{pct(lat, 99):>9.3f}"
            f"{calls / elapsed:>11,.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
