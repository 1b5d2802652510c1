"""The end-to-end harness every CCXT venue shares: a local wire-format server replaying the venue's real
recording on 127.0.0.1, the venue adapter connected to it through CCXT, and a real kernel as the node
(its orders and portfolio are "the node's state" the venue is compared with)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tradewright.core.clock import LiveClock
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId
from tradewright.engine.kernel import Kernel
from tradewright.model.commands import CancelOrder, SubmitOrder
from tradewright.model.enums import OrderSide, OrderType, TimeInForce
from tradewright.model.events import Event
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.servers._core import Pacing, ReplayServer, ServerOptions, VenueProtocol
from tradewright.venues._ccxt.factory import CcxtVenue
from tradewright.venues._common.ports import VenueHooks, VenueStatus


async def eventually(check: Callable[[], bool], timeout_s: float = 5.0, what: str = "condition") -> None:
    """Wait until `check()` holds (polling the event loop), or fail naming what was awaited."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


@dataclass
class Node:
    """A kernel trading one venue, with what it heard."""

    venue: CcxtVenue
    kernel: Kernel
    iid: InstrumentId
    books: list[tuple[list[tuple[int, int]], list[tuple[int, int]]]] = field(default_factory=list)
    statuses: list[VenueStatus] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _seq: int = 0

    @property
    def instrument(self) -> Instrument:
        return self.venue.instruments[self.iid]

    def submit(self, side: OrderSide, qty: Decimal, price: Decimal | None, **kw: Any) -> Order:
        self._seq += 1
        cmd = SubmitOrder(
            ts_init=self.kernel.clock.now_ns(), client_order_id=ClientOrderId(f"T1-e2e-{self._seq}"),
            strategy_id=StrategyId("e2e"), instrument_id=self.iid, side=side,
            order_type=OrderType.LIMIT if price is not None else OrderType.MARKET, quantity=qty, price=price,
            time_in_force=kw.pop("time_in_force", TimeInForce.GTC), **kw,
        )  # fmt: skip
        return self.kernel.submit(cmd, None)

    def cancel(self, order: Order) -> None:
        self.kernel.cancel(
            CancelOrder(
                ts_init=self.kernel.clock.now_ns(),
                client_order_id=order.client_order_id,
                instrument_id=self.iid,
            )
        )


class _Sink:
    def __init__(self, events: list[Event]) -> None:
        self.events = events

    def on_event(self, event: Event) -> None:
        self.events.append(event)

    def on_command(self, command: Any) -> None:
        return None


@contextlib.asynccontextmanager
async def node_on(
    server: ReplayServer,
    connect: Callable[..., Any],
    config: Any,
    creds: Any,
    *,
    book: bool = True,
    user_stream: bool = True,
) -> AsyncIterator[Node]:
    """Connect the adapter to the server and wire it to a fresh kernel; close everything afterwards."""
    clock = LiveClock()
    events: list[Event] = []
    kernel = Kernel(clock, sinks=[_Sink(events)], log=logging.getLogger("tests.kernel"))
    statuses: list[VenueStatus] = []
    hooks = VenueHooks(clock=clock, emit=kernel.on_venue_event, on_status=statuses.append)
    venue = await connect(config, creds, hooks)
    iid = next(iter(venue.instruments))
    kernel.add_instrument(venue.instruments[iid])
    kernel.add_execution_client(venue.execution)
    node = Node(venue, kernel, iid, statuses=statuses, events=events)
    if book:
        node.tasks.append(
            asyncio.create_task(venue.market_data.run_book(iid, lambda i, b, a: node.books.append((b, a))))
        )
    if user_stream:
        node.tasks.append(asyncio.create_task(venue.execution.run_user_stream()))
        assert await venue.execution.wait_user_stream(5.0), "the user stream did not come up"
    try:
        yield node
    finally:
        for task in node.tasks:
            task.cancel()
        for task in node.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await venue.close()


@contextlib.asynccontextmanager
async def local_server(protocol: VenueProtocol, **options: Any) -> AsyncIterator[ReplayServer]:
    options.setdefault("pacing", Pacing.STEP)
    server = ReplayServer(protocol, ServerOptions(**options))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def levels_as_ticks(inst: Instrument, levels: list[tuple[str, ...]]) -> list[tuple[int, int]]:
    """Book levels (price, size strings) as (ticks, lots of a 1e-8 grid) — how the verified book holds them."""
    from tradewright.venues._ccxt.books import book_instrument

    grid, _ = book_instrument(inst)
    return [(grid.price_to_ticks(p), grid.size_to_lots(s)) for p, s, *_ in levels]


def verified_levels(node: Node) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Every level of the adapter's verified book (all depth), best first."""
    book = node.venue.market_data.book(node.iid)
    assert book is not None
    depth = book.store.level_count(1) + book.store.level_count(-1) + 1
    store = book.store.book
    return store.depth_ticks(1, depth), store.depth_ticks(-1, depth)


def secrets_absent(texts: list[str], secrets: Mapping[str, str]) -> list[str]:
    """Which secret values appear in any of the texts (must be none)."""
    return [name for name, value in secrets.items() if any(value in t for t in texts)]
