"""B4, Dutch-book arbitrage: exact conditions after fees, sizes bounded by depth, legs unwound on failure."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewright.core.clock import SimClock
from tradewright.core.ids import InstrumentId, Venue, VenueOrderId
from tradewright.engine.kernel import Kernel
from tradewright.model.enums import LiquiditySide, OrderSide, TimeInForce
from tradewright.model.events import OrderAccepted, OrderExpired, OrderFilled
from tradewright.model.orders import Order
from tradewright.model.prediction import BinaryMarket, FeeSchedule, OutcomeEvent, OutcomeToken
from tradewright.portfolio import Portfolio
from tradewright.strategies.arbitrage import Leg, binary_baskets, evaluate, neg_risk_baskets
from tradewright.strategies.dutch_book import DutchBook, DutchBookConfig, DutchBookGroup, group_from_event

D = Decimal
V = Venue("POLYMARKET")
FREE = FeeSchedule()
CRYPTO = FeeSchedule(kind="curve", rate=D("0.072"), exponent=1)  # 0.018 a share at p = 0.5
YES = InstrumentId("c-yes", V)
NO = InstrumentId("c-no", V)


def leg(
    iid: InstrumentId, side: OrderSide, levels: list[tuple[str, str]], fees: FeeSchedule = FREE, **kw
) -> Leg:  # type: ignore[no-untyped-def]
    return Leg(iid, side, [(D(p), D(s)) for p, s in levels], fees, **kw)


def buy_both(yes: list[tuple[str, str]], no: list[tuple[str, str]], fees: FeeSchedule = FREE):  # type: ignore[no-untyped-def]
    return binary_baskets(
        leg(YES, OrderSide.BUY, yes, fees),
        leg(NO, OrderSide.BUY, no, fees),
        leg(YES, OrderSide.SELL, [], fees),
        leg(NO, OrderSide.SELL, [], fees),
    )[0]


def test_buy_both_is_found_when_the_asks_sum_below_one_and_sized_by_depth() -> None:
    o = evaluate(buy_both([("0.48", "30"), ("0.50", "100")], [("0.50", "20"), ("0.51", "100")]))
    # Level 1: 0.48 + 0.50 = 0.98 (edge 0.02) for 20 sets; then 0.48 + 0.51 = 0.99 for 10 more; then
    # 0.50 + 0.51 > 1 stops the walk. 30 sets, profit 20 x 0.02 + 10 x 0.01 = 0.50.
    assert o is not None and o.kind == "buy_both"
    assert o.sets == 30 and o.profit == D("0.50") and o.edge_per_set == D("0.02")
    assert [(p.instrument_id, p.side, p.size, p.limit_price) for p in o.legs] == [
        (YES, OrderSide.BUY, D(30), D("0.48")),
        (NO, OrderSide.BUY, D(30), D("0.51")),
    ]


def test_a_one_tick_edge_eaten_by_fees_is_no_opportunity() -> None:
    assert evaluate(buy_both([("0.49", "100")], [("0.50", "100")])) is not None  # fee-free: 0.01 a set
    assert evaluate(buy_both([("0.49", "100")], [("0.50", "100")], CRYPTO)) is None  # fees 0.036 a set


def test_the_fee_adjusted_edge_decides_exactly_at_the_boundary() -> None:
    fees = FeeSchedule(kind="notional", rate=D("0.25"), decimals=6)  # a quarter of the price per share
    # 0.50 + 0.30 leaves 0.20, and fees take 0.25 x 0.80 = 0.20: exactly nothing.
    assert evaluate(buy_both([("0.50", "100")], [("0.30", "100")], fees)) is None
    # One tick cheaper: 0.21 left, fees 0.1975: 0.0125 a set.
    o = evaluate(buy_both([("0.50", "100")], [("0.29", "100")], fees))
    assert o is not None and o.edge_per_set == D("0.0125") and o.profit == D("1.25")


def test_minimum_marketable_notional_and_size_are_honoured() -> None:
    tiny = buy_both([("0.40", "1")], [("0.50", "1")])
    no_min = evaluate(tiny)
    assert no_min is not None and no_min.sets == 1
    legs = binary_baskets(
        leg(YES, OrderSide.BUY, [("0.40", "1")], min_notional=D(1)),
        leg(NO, OrderSide.BUY, [("0.50", "1")], min_notional=D(1)),
        leg(YES, OrderSide.SELL, []),
        leg(NO, OrderSide.SELL, []),
    )
    assert evaluate(legs[0]) is None  # 0.40 < $1 on the YES leg


def test_sell_both_needs_bids_above_one_and_is_capped_by_inventory() -> None:
    sells = binary_baskets(
        leg(YES, OrderSide.BUY, []),
        leg(NO, OrderSide.BUY, []),
        leg(YES, OrderSide.SELL, [("0.55", "50")], inventory=D(12)),
        leg(NO, OrderSide.SELL, [("0.47", "50")], inventory=D(40)),
    )[1]
    o = evaluate(sells)
    assert o is not None and o.kind == "sell_both" and o.sets == 12 and o.profit == D("0.24")


def test_max_sets_and_the_per_set_cost_bound_the_trade() -> None:
    basket = buy_both([("0.45", "100")], [("0.50", "100")])
    o = evaluate(basket, max_sets=D(10), cost_per_set=D("0.01"))
    assert o is not None and o.sets == 10 and o.profit == D("0.40")
    assert evaluate(basket, cost_per_set=D("0.05")) is None


def _neg_risk(yes_asks, yes_bids, no_asks, fee=FREE, conv="0"):  # type: ignore[no-untyped-def]
    n = len(yes_asks)
    ids = [(InstrumentId(f"y{i}", V), InstrumentId(f"n{i}", V)) for i in range(n)]
    return neg_risk_baskets(
        [leg(ids[i][0], OrderSide.BUY, yes_asks[i], fee) for i in range(n)],
        [leg(ids[i][0], OrderSide.SELL, yes_bids[i], fee) for i in range(n)],
        [leg(ids[i][1], OrderSide.BUY, no_asks[i], fee) for i in range(n)],
        conversion_fee_rate=D(conv),
    )


def test_neg_risk_buy_all_yes_pays_one_per_set() -> None:
    buy_all, _ = _neg_risk(
        [[("0.30", "10")], [("0.30", "10")], [("0.35", "10")]],
        [[], [], []],
        [[("0.80", "10")], [("0.80", "10")], [("0.80", "10")]],
    )
    o = evaluate(buy_all)
    assert o is not None and o.kind == "buy_all_yes" and o.profit == D("0.50")


def test_neg_risk_buy_all_no_and_convert_pays_n_minus_one_after_the_conversion_fee() -> None:
    _, short = _neg_risk(
        [[("0.5", "10")]] * 3, [[], [], []], [[("0.60", "10")], [("0.62", "10")], [("0.70", "10")]]
    )
    o = evaluate(short)
    assert o is not None and o.kind == "buy_all_no" and o.profit == (D(2) - D("1.92")) * 10
    _, taxed = _neg_risk(
        [[("0.5", "10")]] * 3,
        [[], [], []],
        [[("0.60", "10")], [("0.62", "10")], [("0.70", "10")]],
        conv="0.05",
    )
    assert evaluate(taxed) is None  # 2 x 0.95 = 1.90 < 1.92


def test_neg_risk_short_set_mixes_yes_sales_and_no_purchases_where_each_is_cheaper() -> None:
    # Outcome 0: sell YES at 0.50 (> 1 - 0.55 = 0.45 via NO); outcomes 1, 2: buy NO (0.70 -> 0.30 > 0.20).
    _, short = _neg_risk(
        [[("0.9", "10")]] * 3,
        [[("0.50", "10")], [("0.20", "10")], [("0.20", "10")]],
        [[("0.55", "10")], [("0.70", "10")], [("0.70", "10")]],
    )
    o = evaluate(short)
    assert o is not None and o.kind == "mixed"
    assert {p.instrument_id.symbol: p.side for p in o.legs} == {
        "y0": OrderSide.SELL,
        "n1": OrderSide.BUY,
        "n2": OrderSide.BUY,
    }
    # payout m - 1 = 1; cash 0.50 - 0.70 - 0.70 = -0.90: 0.10 a set
    assert o.profit == D("1.00")


def test_an_event_with_a_placeholder_outcome_gives_no_group() -> None:
    def m(i: int, placeholder: bool = False) -> BinaryMarket:
        return BinaryMarket(
            venue=V,
            market_id=f"c{i}",
            question="q",
            tokens=(
                OutcomeToken(token_id=f"y{i}", outcome="Yes", index=0),
                OutcomeToken(token_id=f"n{i}", outcome="No", index=1),
            ),
            tick_size=D("0.01"),
            neg_risk=True,
            placeholder=placeholder,
        )

    ok = OutcomeEvent(venue=V, event_id="e", title="t", markets=(m(0), m(1), m(2)), neg_risk=True)
    other = OutcomeEvent(venue=V, event_id="e", title="t", markets=(m(0), m(1), m(2, True)), neg_risk=True)
    group = group_from_event(ok)
    assert group is not None and len(group.instruments) == 6
    assert group_from_event(other) is None


@settings(max_examples=300, deadline=None)
@given(
    ya=st.integers(1, 99),
    na=st.integers(1, 99),
    qy=st.integers(1, 500),
    qn=st.integers(1, 500),
    rate=st.sampled_from(["0", "0.02", "0.072"]),
)
def test_buy_both_is_found_exactly_when_the_top_of_book_edge_after_fees_is_positive(
    ya: int, na: int, qy: int, qn: int, rate: str
) -> None:
    fees = FeeSchedule(kind="curve", rate=D(rate), exponent=1) if rate != "0" else FREE
    a_y, a_n = D(ya) / 100, D(na) / 100
    o = evaluate(buy_both([(str(a_y), str(qy))], [(str(a_n), str(qn))], fees))
    edge = 1 - a_y - a_n - fees.per_share(a_y) - fees.per_share(a_n)
    size = min(qy, qn)
    rounding = 2 * D("0.00001")  # each fill's fee is rounded up to 5 places
    if edge <= 0:
        assert o is None
    elif edge * size > rounding:
        assert o is not None and o.sets == size and o.profit <= edge * size
        assert o.profit > edge * size - rounding


# --- the strategy, on the real kernel, against a venue that fills or kills as told -----------------
def _instrument(iid: InstrumentId, outcome: str):  # type: ignore[no-untyped-def]
    market = BinaryMarket(
        venue=V,
        market_id="c",
        question="q",
        tokens=(
            OutcomeToken(token_id="yes", outcome="Yes", index=0),
            OutcomeToken(token_id="no", outcome="No", index=1),
        ),
        tick_size=D("0.01"),
    )
    inst = market.instrument(0 if outcome == "Yes" else 1)
    return type(inst)(**{**{f: getattr(inst, f) for f in inst.__struct_fields__}, "id": iid})


class ScriptedVenue:
    """Fill-or-kill as told: `kill` names instruments whose next FOK order is killed; IOC fills fully."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.kill: set[InstrumentId] = set()
        self.sent: list[Order] = []

    @property
    def venue(self) -> Venue:
        return V

    def submit(self, order: Order) -> None:
        self.sent.append(order)
        now = self.kernel.clock.now_ns()
        vid = VenueOrderId(f"v{len(self.sent)}")
        self.kernel.schedule(
            now + 1,
            lambda _: self.kernel.on_venue_event(
                OrderAccepted(
                    client_order_id=order.client_order_id,
                    instrument_id=order.instrument_id,
                    venue_order_id=vid,
                    ts_event=now + 1,
                    ts_init=now + 1,
                )
            ),
        )
        if order.time_in_force is TimeInForce.FOK and order.instrument_id in self.kill:
            self.kill.discard(order.instrument_id)
            self.kernel.schedule(
                now + 2,
                lambda _: self.kernel.on_venue_event(
                    OrderExpired(
                        client_order_id=order.client_order_id,
                        instrument_id=order.instrument_id,
                        ts_event=now + 2,
                        ts_init=now + 2,
                    )
                ),
            )
            return
        assert order.price is not None
        self.kernel.schedule(
            now + 2,
            lambda _: self.kernel.on_venue_event(
                OrderFilled(
                    client_order_id=order.client_order_id,
                    instrument_id=order.instrument_id,
                    venue_order_id=vid,
                    trade_id=f"t{len(self.sent)}",
                    side=order.side,
                    last_px=order.price,
                    last_qty=order.quantity,
                    liquidity=LiquiditySide.TAKER,
                    fee=D(0),
                    fee_currency="pUSD",
                    ts_event=now + 2,
                    ts_init=now + 2,
                )
            ),
        )

    def cancel(self, order: Order) -> None:
        raise AssertionError("the strategy never cancels a FOK leg")

    def modify(self, order: Order, price: Decimal | None, quantity: Decimal | None) -> None:
        raise AssertionError("no modifies")


def _setup(kill: set[InstrumentId]) -> tuple[Kernel, ScriptedVenue, DutchBook]:
    kernel = Kernel(SimClock(1_000), portfolio=Portfolio({"pUSD": D(1000)}))
    for iid, outcome in ((YES, "Yes"), (NO, "No")):
        book = kernel.add_instrument(_instrument(iid, outcome))
        inst = book.instrument
        book.set_level(1, inst.price_to_ticks(D("0.30")), inst.size_to_lots(D(100)))
    kernel.books[YES].set_level(-1, 48, 4000)  # YES ask 0.48 x 40
    kernel.books[NO].set_level(-1, 50, 2000)  # NO ask 0.50 x 20: the thinner leg goes first
    venue = ScriptedVenue(kernel)
    venue.kill = kill
    kernel.add_execution_client(venue)
    cfg = DutchBookConfig(
        groups=[DutchBookGroup(kind="binary", instruments=[str(YES), str(NO)])],
        max_sets=D(100),
        min_marketable_notional=D(1),
        cooldown_ms=0,
    )
    strategy = DutchBook("DB", [YES, NO], cfg)
    kernel.add_strategy(strategy)
    kernel.start()
    return kernel, venue, strategy


def _run(kernel: Kernel) -> None:
    for _ in range(50):
        if not kernel.run_due(kernel.clock.now_ns() + 10**9):
            break


def test_both_legs_fill_and_the_box_is_held() -> None:
    kernel, venue, strategy = _setup(kill=set())
    kernel.on_book(YES)
    _run(kernel)
    assert [(o.instrument_id, o.side, o.quantity, o.price, o.time_in_force) for o in venue.sent] == [
        (NO, OrderSide.BUY, D(20), D("0.50"), TimeInForce.FOK),
        (YES, OrderSide.BUY, D(20), D("0.48"), TimeInForce.FOK),
    ]
    assert kernel.portfolio.find_position(YES).quantity == 20  # type: ignore[union-attr]
    assert kernel.portfolio.find_position(NO).quantity == 20  # type: ignore[union-attr]
    assert len(strategy.trades) == 1 and strategy.unwinds == 0


def test_a_failed_second_leg_is_unwound() -> None:
    kernel, venue, strategy = _setup(kill={YES})
    kernel.on_book(YES)
    _run(kernel)
    first, second, unwind = venue.sent
    assert (first.instrument_id, first.side) == (NO, OrderSide.BUY)
    assert (second.instrument_id, second.time_in_force) == (YES, TimeInForce.FOK)
    # The NO bought in leg one is sold back through the touch (bid 0.30, five ticks of slippage allowed).
    assert (unwind.instrument_id, unwind.side, unwind.quantity, unwind.time_in_force) == (
        NO,
        OrderSide.SELL,
        D(20),
        TimeInForce.IOC,
    )
    assert unwind.price == D("0.25")
    assert kernel.portfolio.find_position(NO).quantity == 0  # type: ignore[union-attr]
    assert strategy.unwinds == 1 and not strategy.busy and strategy.trades == []


def test_a_neg_risk_group_must_list_outcomes_in_pairs() -> None:
    with pytest.raises(ValueError, match="pairs"):
        DutchBookGroup(kind="neg_risk", instruments=["a.P", "b.P", "c.P"])
