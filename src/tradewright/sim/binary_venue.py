"""The simulated prediction-market venue: both outcome books of each binary market, queue-aware fills,
cross-token matching, market status and the end of trading, on recorded data.

A binary market's two tokens are one book at the venue: a bid for YES at p is an ask for NO at 1 - p.
So every order and every public trade is also seen in *YES terms* (a BUY of NO at p is a SELL of YES
at 1 - p). How an order lives here (times are the kernel's simulated clock):

1. It reaches the venue after the entry latency. An order off the market's current tick grid, below
   its minimum size, or for a market that is not open (ended, closed, resolved) is rejected.
2. A marketable order takes liquidity level by level from its own token's book and the mirror of the
   other token's (a BUY YES at p also matches resting BUY NO at 1 - p — the venue mints a pair); at each
   price the larger of the two is taken, never their sum (a consistent feed shows the same orders on
   both). It pays the market's taker fee (`FeeSchedule`). FOK fills completely or not at all; IOC drops
   the rest; post-only orders that would take are rejected.
3. A resting order joins the queue behind the size shown at its price in its own token's book. It
   fills when public trades at its YES-terms price, in the direction that reaches it, have consumed the
   queue ahead of it — trades of *either* token: a taker buying YES at 1 - p fills our resting BUY NO at
   p (the fill is booked on our order's token and side; NautilusTrader's issue 3126 booked it on the
   wrong side). It fills completely when a trade prints through its price or its own book quotes
   through it. A level that shrinks below the size ahead of us leaves at most that size ahead.
4. When a market closes (its close time, a recorded close, its resolution) the venue cancels our resting
   orders there and takes no new ones.

The recorded books are not depleted by our fills (our orders are small next to the market and the next
recorded update restates the level anyway).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradewright.core.clock import Clock
from tradewright.core.ids import ClientOrderId, InstrumentId, TradeId, Venue, VenueOrderId
from tradewright.model.book import OrderBook
from tradewright.model.enums import LiquiditySide, OrderSide, OrderType, TimeInForce
from tradewright.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
)
from tradewright.model.orders import Order
from tradewright.model.prediction import BinaryMarket
from tradewright.sim._base import Scheduler, SimVenueBase
from tradewright.sim.latency import LatencyModel

__all__ = ["BinarySimVenue", "MarketStatus"]

_ZERO = Decimal(0)
_ONE = Decimal(1)


class MarketStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # trading stopped (end time reached, or the venue closed it); not resolved yet
    RESOLVED = "resolved"


@dataclass(slots=True)
class _Work:
    cid: ClientOrderId
    iid: InstrumentId
    venue_order_id: VenueOrderId
    market_id: str
    index: int  # which outcome token (0 YES, 1 NO)
    side: int  # +1 buy, -1 sell, of its own token
    price: Decimal | None
    qty: Decimal
    filled: Decimal
    order_type: OrderType
    tif: TimeInForce
    post_only: bool
    expire_ns: int | None
    ahead: Decimal = _ZERO
    resting: bool = False
    done: bool = False

    @property
    def leaves(self) -> Decimal:
        return self.qty - self.filled

    @property
    def yes_side(self) -> int:
        return self.side if self.index == 0 else -self.side

    @property
    def yes_price(self) -> Decimal:
        assert self.price is not None
        return self.price if self.index == 0 else _ONE - self.price


@dataclass(slots=True)
class _Market:
    market: BinaryMarket
    books: tuple[OrderBook, OrderBook]
    status: MarketStatus = MarketStatus.OPEN


class BinarySimVenue(SimVenueBase):
    """Implements the kernel's `ExecutionClient` port for one prediction-market venue (see the module
    docstring). The backtest feeds it the recorded books (`book_changed`), trades (`on_trade`), tick
    changes (`set_market`) and status changes (`close_market`)."""

    def __init__(
        self,
        venue: Venue,
        clock: Clock,
        schedule: Scheduler,
        deliver: Callable[[OrderEvent], None],
        *,
        latency: LatencyModel | None = None,
    ) -> None:
        super().__init__(venue, clock, schedule, deliver, latency=latency)
        self._markets: dict[str, _Market] = {}
        self._token_of: dict[InstrumentId, tuple[str, int]] = {}
        self._orders: dict[ClientOrderId, _Work] = {}
        self._resting: dict[str, list[_Work]] = {}
        self._seq = 0
        self.cross_token_fills = 0

    # --- wiring -------------------------------------------------------------------------------
    def add_market(
        self, market: BinaryMarket, books: tuple[OrderBook, OrderBook], *, close_ns: int | None = None
    ) -> None:
        """Register a market and the books of its two tokens (the venue's view of the recording);
        `close_ns` is when the venue stops taking its orders (None: only a recorded close or its
        resolution stops it)."""
        self._markets[market.market_id] = _Market(market, books)
        self._resting[market.market_id] = []
        for index, inst in enumerate(market.instruments()):
            self._instruments[inst.id] = inst
            self._token_of[inst.id] = (market.market_id, index)
        if close_ns is not None:
            self._schedule(close_ns, self._on_end, market.market_id)

    def set_market(self, market: BinaryMarket, books: tuple[OrderBook, OrderBook]) -> None:
        """The venue changed a market's terms (its tick size): new orders must be on the new grid."""
        m = self._markets[market.market_id]
        m.market, m.books = market, books
        for inst in market.instruments():
            self._instruments[inst.id] = inst

    def status(self, market_id: str) -> MarketStatus:
        return self._markets[market_id].status

    def market(self, market_id: str) -> BinaryMarket:
        return self._markets[market_id].market

    def close_market(self, market_id: str, status: MarketStatus, reason: str) -> int:
        """Stop a market (closed or resolved): cancel our resting orders there; return how many."""
        m = self._markets[market_id]
        if m.status is not MarketStatus.RESOLVED:
            m.status = status
        canceled = 0
        for work in list(self._resting[market_id]):
            self._retire(work)
            self._answer(OrderCanceled, work, (("reason", reason),))
            canceled += 1
        return canceled

    def _on_end(self, market_id: str) -> None:
        if self._markets[market_id].status is MarketStatus.OPEN:
            self.close_market(market_id, MarketStatus.CLOSED, "market_closed: trading ended")

    # --- ExecutionClient ----------------------------------------------------------------------
    def submit(self, order: Order) -> None:
        market_id, index = self._token_of[order.instrument_id]
        self._seq += 1
        work = _Work(
            cid=order.client_order_id,
            iid=order.instrument_id,
            venue_order_id=VenueOrderId(f"{self._venue}-{self._seq}"),
            market_id=market_id,
            index=index,
            side=1 if order.side is OrderSide.BUY else -1,
            price=order.price,
            qty=order.quantity,
            filled=_ZERO,
            order_type=order.order_type,
            tif=order.time_in_force,
            post_only=order.post_only,
            expire_ns=order.expire_ns,
        )
        self._schedule(self._clock.now_ns() + self.latency.entry_ns(), self._on_submit_arrival, work)

    def _on_submit_arrival(self, work: _Work) -> None:
        m = self._markets[work.market_id]
        market = m.market
        if work.cid in self._orders:
            self._reject(work, "duplicate_client_order_id", "client order id already used")
            return
        if m.status is not MarketStatus.OPEN:
            self._reject(work, "market_closed", f"market {market.market_id} is {m.status.value}")
            return
        if work.order_type not in (OrderType.LIMIT, OrderType.MARKET):
            self._reject(work, "unsupported_order_type", f"{work.order_type} is not traded here")
            return
        if work.price is not None and not market.valid_price(work.price):
            self._reject(
                work,
                "invalid_price",
                f"price {work.price} is off the tick {market.tick_size} or outside (0, 1)",
            )
            return
        if work.qty < market.min_size or work.qty % market.lot_size != 0:
            self._reject(
                work,
                "invalid_size",
                f"size {work.qty} is below {market.min_size} or off the lot {market.lot_size}",
            )
            return
        self._orders[work.cid] = work
        levels = list(self._takeable(m, work))
        if work.post_only and levels:
            work.done = True
            self._reject(work, "post_only_would_take", "post-only order would take liquidity")
            return
        if work.tif is TimeInForce.FOK and sum((size for _, size in levels), _ZERO) < work.qty:
            work.done = True
            self._answer(OrderExpired, work, ())
            return
        self._answer(OrderAccepted, work, (("venue_order_id", work.venue_order_id),))
        for price, size in levels:
            take = min(size, work.leaves)
            if take <= 0:
                break
            self._fill(work, price, take, LiquiditySide.TAKER)
        if work.leaves <= 0:
            work.done = True
            return
        if work.order_type is OrderType.MARKET or work.tif in (TimeInForce.IOC, TimeInForce.FOK):
            work.done = True
            self._answer(OrderExpired, work, ())
            return
        assert work.price is not None
        own = m.books[work.index]
        work.ahead = _level(own, work.side, work.price)
        work.resting = True
        self._resting[work.market_id].append(work)
        if work.expire_ns is not None:
            self._schedule(work.expire_ns, self._on_expiry, work.cid)

    def _on_cancel_arrival(self, cid: ClientOrderId) -> None:
        work = self._orders.get(cid)
        if work is None:
            self._deliver_later(self._event(OrderCancelRejected, cid, None, (("reason", "unknown_order"),)))
            return
        if work.done:
            self._answer(OrderCancelRejected, work, (("reason", "order_not_open"),))
            return
        self._retire(work)
        self._answer(OrderCanceled, work, ())

    def _on_modify_arrival(self, arg: tuple[ClientOrderId, int | None, int | None]) -> None:
        # Polymarket and Turbine have no amend: an order is cancelled and sent again.
        cid = arg[0]
        self._deliver_later(
            self._event(OrderModifyRejected, cid, None, (("reason", "modify_not_supported"),))
        )

    def _on_expiry(self, cid: ClientOrderId) -> None:
        work = self._orders.get(cid)
        if work is None or work.done:
            return
        self._retire(work)
        self._answer(OrderExpired, work, ())

    # --- market data --------------------------------------------------------------------------
    def book_changed(self, market_id: str, index: int) -> None:
        """A token's recorded book changed: fewer may be ahead of us; a book through our price fills us."""
        m = self._markets[market_id]
        book = m.books[index]
        bid, ask = book.best_bid, book.best_ask
        for work in list(self._resting[market_id]):
            if work.index != index:
                continue
            assert work.price is not None
            work.ahead = min(work.ahead, _level(book, work.side, work.price))
            if (work.side > 0 and ask is not None and ask <= work.price) or (
                work.side < 0 and bid is not None and bid >= work.price
            ):
                self._fill(work, work.price, work.leaves, LiquiditySide.MAKER)

    def on_trade(self, market_id: str, index: int, aggressor: int, price: Decimal, size: Decimal) -> None:
        """A public trade of one token. In YES terms it consumes the queue it reaches — of orders on
        either token — and fills every order it prints through."""
        yes_aggressor = aggressor if index == 0 else -aggressor
        yes_price = price if index == 0 else _ONE - price
        for work in list(self._resting[market_id]):
            if work.done:
                continue
            side, level = work.yes_side, work.yes_price
            through = (side > 0 and yes_price < level) or (side < 0 and yes_price > level)
            if through:
                take = work.leaves
            elif yes_price == level and yes_aggressor == -side:
                work.ahead -= size
                if work.ahead >= 0:
                    continue
                take = min(-work.ahead, work.leaves)
                work.ahead = _ZERO
            else:
                continue
            if index != work.index:
                self.cross_token_fills += 1
            self._fill(work, work.price if work.price is not None else price, take, LiquiditySide.MAKER)

    # --- matching helpers ---------------------------------------------------------------------
    def _takeable(self, m: _Market, work: _Work) -> Iterator[tuple[Decimal, Decimal]]:
        """The liquidity `work` would take now, best first, in its own token's prices."""
        own = m.books[work.index]
        other = m.books[1 - work.index]
        sizes: dict[Decimal, Decimal] = {}
        # Own token: the opposite side. The other token, mirrored: a BUY of ours meets its bids at 1 - p.
        for price, size in own.depth(-work.side, 1000):
            sizes[price] = max(sizes.get(price, _ZERO), size)
        for price, size in other.depth(work.side, 1000):
            mirrored = _ONE - price
            sizes[mirrored] = max(sizes.get(mirrored, _ZERO), size)
        for price in sorted(sizes, reverse=work.side < 0):
            if work.price is not None and (
                (work.side > 0 and price > work.price) or (work.side < 0 and price < work.price)
            ):
                break
            yield price, sizes[price]

    def _fill(self, work: _Work, price: Decimal, size: Decimal, liquidity: LiquiditySide) -> None:
        inst = self._instruments[work.iid]
        market = self._markets[work.market_id].market
        fee = market.fees.fee(price, size, taker=liquidity is LiquiditySide.TAKER)
        work.filled += size
        self._trade_seq += 1
        key = "maker_fills" if liquidity is LiquiditySide.MAKER else "taker_fills"
        self.stats[key] = self.stats.get(key, 0) + 1
        self._answer(
            OrderFilled,
            work,
            (
                ("venue_order_id", work.venue_order_id),
                ("trade_id", TradeId(f"{self._venue}-{self._trade_seq}")),
                ("side", OrderSide.BUY if work.side > 0 else OrderSide.SELL),
                ("last_px", price),
                ("last_qty", size),
                ("liquidity", liquidity),
                ("fee", fee),
                ("fee_currency", inst.settle),
            ),
        )
        if work.leaves <= 0:
            self._retire(work)

    def _retire(self, work: _Work) -> None:
        work.done = True
        if work.resting:
            work.resting = False
            self._resting[work.market_id].remove(work)

    def _answer(self, cls: type[OrderEvent], work: _Work, fields: tuple[tuple[str, Any], ...]) -> None:
        now = self._clock.now_ns()
        event = cls(
            client_order_id=work.cid, instrument_id=work.iid, ts_event=now, ts_init=now, **dict(fields)
        )
        self._deliver_later(event)

    def _reject(self, work: _Work, reason: str, message: str) -> None:
        self.stats["rejects"] = self.stats.get("rejects", 0) + 1
        self._answer(OrderRejected, work, (("reason", reason), ("message", message)))

    # --- inspection ---------------------------------------------------------------------------
    def queue_ahead(self, cid: ClientOrderId) -> Decimal | None:
        """Shares ahead of a resting order at its price (None when it is not resting)."""
        work = self._orders.get(cid)
        return None if work is None or not work.resting else work.ahead

    def resting_orders(self, market_id: str) -> int:
        return len(self._resting[market_id])


def _level(book: OrderBook, side: int, price: Decimal) -> Decimal:
    """Size shown at `price` on `side` of a book (0 when the price is off its grid or empty)."""
    inst = book.instrument
    if price % inst.tick_size != 0:
        return _ZERO
    return inst.lots_to_size(book.lots_at(side, inst.price_to_ticks(price)))
