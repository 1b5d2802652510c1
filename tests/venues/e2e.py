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


async def eventually(check: Callable[[], bool], timeout_s: float = 15.0, what: str = "condition") -> None:
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


# --- the scenarios every venue runs ---------------------------------------------------------------------
import logging as _logging  # noqa: E402

import pytest  # noqa: E402

from tradewright.core.errors import ConfigError  # noqa: E402
from tradewright.engine.venue_state import AccountSnapshot, VenueOrderStatus  # noqa: E402
from tradewright.model.enums import OrderStatus  # noqa: E402
from tradewright.model.events import OrderFilled  # noqa: E402


class Reference:
    """A book rebuilt from the recording independently of server and adapter: `apply` one recorded frame
    (the case's `levels_of` says which levels it sets and whether it is a snapshot)."""

    def __init__(
        self, levels_of: Callable[[Any], tuple[bool, list[tuple[str, str]], list[tuple[str, str]]]]
    ) -> None:
        self._levels_of = levels_of
        self.sides: dict[int, dict[Decimal, tuple[str, str]]] = {1: {}, -1: {}}

    def apply(self, frame: Any) -> None:
        snapshot, bids, asks = self._levels_of(frame)
        if snapshot:
            self.sides = {1: {}, -1: {}}
        for side, levels in ((1, bids), (-1, asks)):
            for px, sz in levels:
                if Decimal(sz) == 0:
                    self.sides[side].pop(Decimal(px), None)
                else:
                    self.sides[side][Decimal(px)] = (px, sz)

    def levels(self, side: int) -> list[tuple[str, str]]:
        return [self.sides[side][k] for k in sorted(self.sides[side], reverse=side > 0)]


@dataclass
class VenueCase:
    """What differs between venues in the end-to-end scenarios."""

    protocol: Callable[[], VenueProtocol]
    package: Any  # the venue package: connect, credentials
    config: Callable[..., Any]  # (server, **overrides) -> config
    keys: dict[str, str]
    secrets: list[str]  # names in `keys` whose values must never be shown
    topic: str  # the server's topic of the traded book
    frames: Callable[[], list[Any]]  # the recorded book frames of that topic, in order
    levels_of: Callable[[Any], tuple[bool, list[tuple[str, str]], list[tuple[str, str]]]]
    corrupt_counter: str  # which FeedStats counter a corrupted frame raises
    drop_counter: str  # which a dropped frame raises
    place_path: str  # the REST path orders go to (for the 429 burst)
    refused: str  # the start of the message keys the venue refuses produce
    check_account: Callable[[Node, AccountSnapshot, list[OrderFilled]], None]
    prime: int = 5  # frames to play before trading
    extra_size: Decimal = Decimal(1)  # lots beyond the best ask's size in the partial-fill order
    seed: Callable[[Reference], None] = lambda ref: None
    book_key: str = ""  # the market's key in the server protocol's `books`
    reference: type[Reference] = Reference  # how the recording's book is seen (a venue's depth window)
    depth: int | None = None  # levels a side the subscription holds (None: all)


async def _step_compare(
    server: ReplayServer, node: Node, case: VenueCase, ref: Reference, frames: list[Any], k: int
) -> None:
    before = (ref.levels(1), ref.levels(-1))
    seen = len(node.books)
    await server.step(1, case.topic)
    ref.apply(frames[k])
    if (ref.levels(1), ref.levels(-1)) == before:
        await asyncio.sleep(0.01)  # nothing the subscription shows changed: the venue sends nothing
    else:
        await eventually(lambda: len(node.books) > seen, what=f"the adapter's book after frame {k}")
    expected = (
        levels_as_ticks(node.instrument, ref.levels(1)),
        levels_as_ticks(node.instrument, ref.levels(-1)),
    )
    assert verified_levels(node) == expected, f"book differs from the recording after frame {k}"


async def scenario_book(case: VenueCase, *, first: int, corrupt_at: int, drop_at: int, last: int) -> None:
    """The book equals the recording after every frame; a corrupted frame and a dropped frame are each
    detected (our counter) and the book rebuilt to equal the recording again.

    Frames before `first` are played without comparing (a venue whose snapshot comes over REST has
    diffs older than it, which change nothing); the reference then starts from what `case.seed` put in.
    """
    frames = case.frames()
    async with local_server(case.protocol()) as server:
        config = case.config(server)
        async with node_on(
            server, case.package.connect, config, case.package.credentials(config, case.keys)
        ) as node:
            assert server.requests.unknown() == []  # every request the client made is one the venue serves
            stats = node.venue.market_data.stats
            ref = case.reference(case.levels_of)
            case.seed(ref)
            if first:
                await server.step(first, case.topic)
                await eventually(lambda: len(node.books) >= 1, what="the first book")
                _assert_equal(node, ref, f"the snapshot after {first} frames")
            for k in range(first, corrupt_at):
                await _step_compare(server, node, case, ref, frames, k)
            assert stats.of(node.iid).resyncs == 0
            k = corrupt_at
            for fault, counter, resyncs in (
                ("corrupt", case.corrupt_counter, 1),
                ("drop", case.drop_counter, 2),
            ):
                if fault == "drop":
                    while k < drop_at:
                        await _step_compare(server, node, case, ref, frames, k)
                        k += 1
                server.faults.update({fault: 1, "match": case.topic})
                played = 2 if fault == "drop" else 1
                await server.step(played, case.topic)
                for j in range(k, k + played):
                    ref.apply(frames[j])
                k += played
                await eventually(
                    lambda r=resyncs: stats.of(node.iid).resyncs == r, what=f"the {fault}ped frame detected"
                )  # type: ignore[misc]
                assert getattr(stats.of(node.iid), counter) >= 1, f"{fault}: {counter} not counted"
                seen = len(node.books)
                # a venue that snapshots over REST rebuilds on the next diff: play frames until it has
                for _ in range(20):
                    try:
                        await eventually(
                            lambda s=seen: len(node.books) > s, timeout_s=0.5, what="the rebuild"
                        )  # type: ignore[misc]
                        break
                    except AssertionError:
                        await server.step(1, case.topic)
                        ref.apply(frames[k])
                        k += 1
                _assert_equal(node, ref, f"the rebuild after the {fault}ped frame")
            while k < last:
                await _step_compare(server, node, case, ref, frames, k)
                k += 1
            assert server.requests.unknown() == []


def _assert_equal(node: Node, ref: Reference, what: str) -> None:
    expected = (
        levels_as_ticks(node.instrument, ref.levels(1)),
        levels_as_ticks(node.instrument, ref.levels(-1)),
    )
    assert verified_levels(node) == expected, f"book differs from the recording: {what}"


async def scenario_order(case: VenueCase) -> None:
    """An order placed through the ask is acknowledged, partly filled (as taker), cancelled; the user
    stream, REST and the node agree."""
    async with local_server(case.protocol()) as server:
        config = case.config(server)
        async with node_on(
            server, case.package.connect, config, case.package.credentials(config, case.keys)
        ) as node:
            await server.step(case.prime, case.topic)
            await eventually(lambda: len(node.books) >= 1 and bool(node.books[-1][1]), what="the book")
            await asyncio.sleep(0.05)
            inst = node.instrument
            ask_tick, ask_lots = node.books[-1][1][0]
            ask, ask_size = inst.ticks_to_price(ask_tick), inst.lots_to_size(ask_lots)
            order = node.submit(_buy(), ask_size + case.extra_size * inst.lot_size, ask)
            await eventually(lambda: order.status is OrderStatus.PARTIALLY_FILLED, what="the partial fill")
            assert order.venue_order_id is not None and order.filled_qty == ask_size and order.avg_px == ask
            node.cancel(order)
            await eventually(lambda: order.status is OrderStatus.CANCELED, what="the cancel")
            fills = [e for e in node.events if isinstance(e, OrderFilled)]
            assert [(f.last_px, f.last_qty, f.liquidity.value, f.venue_order_id) for f in fills] == [
                (ask, ask_size, "TAKER", order.venue_order_id)
            ]
            assert node.venue.execution.stream_updates >= 2, "the user stream delivered nothing"
            view = await node.venue.execution.query_order(node.iid, order.client_order_id)
            assert view is not None
            assert (view.status, view.filled_qty, view.venue_order_id, view.client_order_id) == (
                VenueOrderStatus.CANCELED, order.filled_qty, order.venue_order_id, order.client_order_id,
            )  # fmt: skip
            assert await node.venue.execution.open_orders(node.iid) == []
            venue_fills = await node.venue.execution.order_fills(view)
            assert [(f.trade_id, f.last_qty, f.last_px, f.fee) for f in venue_fills] == [
                (f.trade_id, f.last_qty, f.last_px, f.fee) for f in fills
            ]
            case.check_account(node, await node.venue.execution.account([node.iid]), fills)


def _buy() -> Any:
    from tradewright.model.enums import OrderSide

    return OrderSide.BUY


async def scenario_reconnect(case: VenueCase) -> None:
    """The server dies mid-stream: the adapter reports the venue degraded, reconnects with backoff once a
    server is back on the port, and rebuilds a book equal to the new server's."""
    async with local_server(case.protocol()) as server:
        port = server.port
        config = case.config(server, reconnect_base_s=0.05, reconnect_cap_s=0.2)
        async with node_on(
            server, case.package.connect, config, case.package.credentials(config, case.keys)
        ) as node:
            await server.step(case.prime + 5, case.topic)
            await eventually(lambda: len(node.books) >= 1, what="the book")
            await server.stop()
            await eventually(lambda: node.venue.market_data.stats.reconnects >= 1, what="reconnect attempts")
            assert node.statuses and node.statuses[-1].health.value in ("DEGRADED", "DOWN")
            revived = ReplayServer(case.protocol(), ServerOptions(port=port, pacing=Pacing.STEP))
            await revived.start()
            try:
                await eventually(
                    lambda: case.topic in revived.hub.topics(), timeout_s=20, what="the book resubscribed"
                )
                await revived.step(case.prime + 20, case.topic)
                await eventually(
                    lambda: node.statuses[-1].health.value == "UP", timeout_s=20, what="the venue back up"
                )
                book = revived.protocol.books[case.book_key]  # type: ignore[attr-defined]
                await eventually(
                    lambda: (
                        verified_levels(node)
                        == (
                            levels_as_ticks(node.instrument, book.pairs(1, case.depth)),
                            levels_as_ticks(node.instrument, book.pairs(-1, case.depth)),
                        )
                    ),
                    what="the rebuilt book",
                )
            finally:
                await revived.stop()


async def scenario_rate_limit(case: VenueCase) -> None:
    """A burst of "too many requests" answers: the order is sent again only after each pause, the venue's
    documented limit is never exceeded, and it is placed exactly once."""
    async with local_server(case.protocol()) as server:
        config = case.config(server)
        async with node_on(
            server, case.package.connect, config, case.package.credentials(config, case.keys)
        ) as node:
            await server.step(case.prime, case.topic)
            await eventually(lambda: len(node.books) >= 1 and bool(node.books[-1][0]), what="the book")
            bid = node.instrument.ticks_to_price(node.books[-1][0][0][0] - 10)
            server.faults.update({"http_429": 3, "http_match": case.place_path, "retry_after_s": 0.1})
            loop = asyncio.get_running_loop()
            started = loop.time()
            order = node.submit(_buy(), node.instrument.min_size or node.instrument.lot_size, bid)
            await eventually(
                lambda: order.status is OrderStatus.ACCEPTED, timeout_s=10, what="the order after the burst"
            )
            placed = [
                e.status for e in server.requests.http() if e.path == case.place_path and e.method == "POST"
            ]
            assert (
                len(placed) == 4 and server.faults.fired["http_429"] == 3
            )  # sent again only after each refusal
            assert loop.time() - started >= 0.1 + 0.2 + 0.3  # a longer pause after each answer: no storm
            assert node.venue.execution.gate.rate_limited == 3
            assert server.limit_violations == {}
            assert len(server.exchange.orders) == 1


async def scenario_keys(case: VenueCase, caplog: pytest.LogCaptureFixture) -> None:
    """No keys, malformed keys, keys the venue refuses: each stops before any order, with a message that
    names the venue and what is wrong — and no secret in any output."""
    caplog.set_level(_logging.DEBUG)
    config = case.config(None)
    first = next(iter(case.keys))
    with pytest.raises(ConfigError, match="missing"):
        case.package.credentials(config, {first: case.keys[first]})
    secret_name = case.secrets[0]
    with pytest.raises(ConfigError, match=f"malformed .*{secret_name}"):
        case.package.credentials(config, case.keys | {secret_name: "two words"})
    wrong = case.keys | {secret_name: _wrong_secret(case.keys[secret_name])}
    messages: list[str] = []
    async with local_server(case.protocol()) as server:
        cfg = case.config(server)
        with pytest.raises(ConfigError, match=case.refused) as exc:
            await case.package.connect(
                cfg, case.package.credentials(cfg, wrong), VenueHooks(clock=LiveClock(), emit=lambda e: None)
            )
        messages.append(str(exc.value))
        assert not [e for e in server.requests.http() if e.path == case.place_path], (
            "an order request was sent"
        )
        # and a good session's debug logs carry no secret either
        async with node_on(
            server, case.package.connect, cfg, case.package.credentials(cfg, case.keys)
        ) as node:
            await server.step(case.prime, case.topic)
            await eventually(lambda: len(node.books) >= 1, what="the book")
            messages.append(repr(case.package.credentials(cfg, case.keys)))
    texts = messages + [r.getMessage() for r in caplog.records]
    values = {
        name: v for name, v in (case.keys | {secret_name: wrong[secret_name]}).items() if name in case.secrets
    }
    values |= {f"{secret_name} (wrong)": wrong[secret_name]}
    assert secrets_absent(texts, values) == []


def _wrong_secret(secret: str) -> str:
    import base64

    try:  # keep the venue's format (Kraken's secret is base64) so the venue, not our check, refuses it
        raw = base64.b64decode(secret, validate=True)
        return base64.b64encode(bytes(b ^ 0x5A for b in raw)).decode()
    except ValueError:
        return "wrong-" + secret[::-1]


async def scenario_batch(case: VenueCase, n: int = 5) -> None:
    """Several orders placed in the venue's batch request are all acknowledged with their own venue ids,
    and cancelled in a batch: the venue then holds none of them."""
    from tradewright.model.events import OrderSubmitted

    async with local_server(case.protocol()) as server:
        config = case.config(server)
        async with node_on(
            server, case.package.connect, config, case.package.credentials(config, case.keys)
        ) as node:
            await server.step(case.prime, case.topic)
            await eventually(lambda: len(node.books) >= 1 and bool(node.books[-1][0]), what="the book")
            inst = node.instrument
            best_bid = node.books[-1][0][0][0]
            orders = []
            for k in range(n):
                cmd = SubmitOrder(
                    ts_init=0, client_order_id=ClientOrderId(f"T1-batch-{k}"), strategy_id=StrategyId("e2e"),
                    instrument_id=node.iid, side=_buy(), order_type=OrderType.LIMIT,
                    quantity=inst.min_size or inst.lot_size, price=inst.ticks_to_price(best_bid - 10 - k),
                )  # fmt: skip
                order = Order(cmd)
                node.kernel.orders.add(order)
                order.apply(OrderSubmitted(client_order_id=order.client_order_id, instrument_id=node.iid, strategy_id=StrategyId("e2e"),
                                           side=cmd.side, order_type=cmd.order_type, quantity=cmd.quantity, price=cmd.price,
                                           time_in_force=cmd.time_in_force, ts_event=0, ts_init=0))  # fmt: skip
                orders.append(order)
            node.venue.execution.submit_batch(orders)
            await eventually(
                lambda: all(o.status is OrderStatus.ACCEPTED for o in orders),
                what="every order of the batch acknowledged",
            )
            assert len({o.venue_order_id for o in orders}) == n
            assert len(server.exchange.open_orders(next(iter(server.exchange.accounts)))) == n
            node.venue.execution.cancel_batch(orders)
            await eventually(
                lambda: all(o.status is OrderStatus.CANCELED for o in orders),
                what="every order of the batch cancelled",
            )
            assert server.exchange.open_orders(next(iter(server.exchange.accounts))) == []


async def scenario_modify(case: VenueCase) -> None:
    """A modify of a resting order's price and size is never refused for the venue's lack of amend: where
    the venue amends, the order keeps its ids; where it cannot (Bitget spot), the engine cancels and, once
    the cancel is confirmed, places the replacement, which the node follows. Either way the venue then
    holds exactly one order, at the new price and size, the one the node has open."""
    from tradewright.model.commands import ModifyOrder
    from tradewright.model.events import OrderModifyRejected

    async with local_server(case.protocol()) as server:
        config = case.config(server)
        async with node_on(
            server, case.package.connect, config, case.package.credentials(config, case.keys)
        ) as node:
            await server.step(case.prime, case.topic)
            await eventually(lambda: len(node.books) >= 1 and bool(node.books[-1][0]), what="the book")
            inst = node.instrument
            best_bid = node.books[-1][0][0][0]
            size = inst.min_size or inst.lot_size
            order = node.submit(_buy(), size, inst.ticks_to_price(best_bid - 10))
            await eventually(lambda: order.status is OrderStatus.ACCEPTED, what="the order's ack")
            first_venue_id = order.venue_order_id
            new_price, new_size = inst.ticks_to_price(best_bid - 12), size * 2
            node.kernel.modify(
                ModifyOrder(
                    ts_init=node.kernel.clock.now_ns(), client_order_id=order.client_order_id,
                    instrument_id=node.iid, price=new_price, quantity=new_size,
                )
            )  # fmt: skip

            def current() -> Order | None:
                return node.kernel.orders.get(
                    node.kernel.replacements.current_order_id(order.client_order_id)
                )

            await eventually(
                lambda: (
                    (o := current()) is not None
                    and o.status is OrderStatus.ACCEPTED
                    and (o.price, o.quantity) == (new_price, new_size)
                ),
                what="the order at its new price and size",
            )
            assert [e for e in node.events if isinstance(e, OrderModifyRejected)] == []
            now = current()
            assert now is not None
            if node.venue.execution.capabilities.modify:  # amended in place
                assert now is order and order.venue_order_id == first_venue_id
            else:  # replaced: the first is cancelled, the second is a new order at the venue
                assert order.status is OrderStatus.CANCELED and now is not order
                assert now.venue_order_id not in (None, first_venue_id)
            held = await node.venue.execution.open_orders(node.iid)
            assert [(v.client_order_id, v.price, v.quantity) for v in held] == [
                (now.client_order_id, new_price, new_size)
            ]
            assert [o.client_order_id for o in node.kernel.orders.open_orders()] == [now.client_order_id]
            node.cancel(now)
            await eventually(lambda: now.status is OrderStatus.CANCELED, what="the cancel")
            assert await node.venue.execution.open_orders(node.iid) == []
