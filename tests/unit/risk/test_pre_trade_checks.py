"""C1 pre-trade checks and C2 portfolio caps: each limit denies the order that breaks it, with its
reason, before it reaches the venue; an order under every limit passes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit.risk.kit import S1, Bench, D, denial
from tradewright.core.ids import InstrumentId
from tradewright.model.commands import SubmitOrder
from tradewright.model.enums import OrderSide, OrderStatus, OrderType
from tradewright.model.events import CommandDenied, OrderDenied
from tradewright.model.instrument import InstrumentKind
from tradewright.testkit import btc_perp, make_instrument

BTC = btc_perp()  # tick 0.1, lot 0.001, USDT
ETH = make_instrument("ETHUSDT-PERP", "BYBIT", tick="0.01", lot="0.01")
SPOT = make_instrument("BTCUSDT", "SPOTX", tick="0.1", lot="0.001", kind=InstrumentKind.SPOT)
YES = make_instrument(
    "WIN-YES", "POLY", tick="0.01", lot="1", kind=InstrumentKind.BINARY_OUTCOME, quote="USDC"
)
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def bench(*instruments: object, **risk: object) -> Bench:
    """Books: BTC 100.0 / 100.1 (mid 100.05), ETH 50.00 / 50.02, SPOT 100.0 / 100.1, YES 0.40 / 0.42."""
    insts = instruments or (BTC,)
    b = Bench(*insts, **risk)  # type: ignore[arg-type]
    for inst in insts:
        if inst is BTC or inst is SPOT:
            b.book(inst, [(1000, 5_000)], [(1001, 5_000)])
        elif inst is ETH:
            b.book(inst, [(5000, 500)], [(5002, 500)])
        elif inst is YES:
            b.book(inst, [(40, 10_000)], [(42, 10_000)])
    return b


def assert_denied(b: Bench, order: object, reason: str) -> None:
    assert denial(order) == reason, (denial(order), getattr(order, "events", None))  # type: ignore[arg-type]
    assert order.status is OrderStatus.DENIED  # type: ignore[attr-defined]
    assert all(order.client_order_id not in v.submitted for v in b.venues.values())  # type: ignore[attr-defined]


def assert_sent(b: Bench, order: object) -> None:
    assert order.status is OrderStatus.SUBMITTED, denial(order)  # type: ignore[arg-type, attr-defined]
    assert order.client_order_id in b.venues[order.instrument_id.venue].submitted  # type: ignore[attr-defined]


# --- an order under every limit passes -----------------------------------------------------------
def test_an_order_under_every_limit_passes() -> None:
    b = bench(
        BTC,
        min_order_size_base=D("0.001"),
        max_order_size_base=D("0.01"),
        min_order_notional_quote=D("0.1"),
        max_order_notional_quote=D("2"),
        price_band_bps=D(50),
        max_position_base=D("0.02"),
        max_position_quote=D("3"),
        check_balance=True,
        max_gross_exposure_quote=D("5"),
        max_net_exposure_quote=D("5"),
        max_venue_notional_quote=D("5"),
        max_open_order_notional_quote=D("5"),
        max_orders_per_second_instrument=5,
        max_orders_per_second_venue=5,
        max_spread_ticks=2,
        max_slippage_bps=D(20),
    )
    order = b.submit(BTC, BUY, "0.005", "100.0")
    assert_sent(b, order)
    assert b.risk.denials == {}


# --- C1 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("limit", "qty", "price", "reason"),
    [
        ({"max_order_size_base": D("0.005")}, "0.006", "100.0", "order_size_above_max"),
        ({"min_order_size_base": D("0.002")}, "0.001", "100.0", "order_size_below_min"),
        ({"max_order_notional_quote": D("0.5")}, "0.006", "100.0", "order_notional_above_max"),
        ({"min_order_notional_quote": D("0.5")}, "0.004", "100.0", "order_notional_below_min"),
        ({"price_band_bps": D(50)}, "0.002", "99.0", "price_band"),
        ({"price_band_bps": D(50)}, "0.002", "101.0", "price_band"),
    ],
)
def test_risk_denies_an_order_over_a_per_order_limit(
    limit: dict[str, object], qty: str, price: str, reason: str
) -> None:
    b = bench(BTC, **limit)
    order = b.submit(BTC, BUY, qty, price)
    assert_denied(b, order, reason)
    denied = b.log.of(OrderDenied)[0]
    assert denied.reason == reason and str(BTC.id) in denied.message
    assert next(iter(limit)) in denied.message  # the sentence names the config key


def test_the_same_order_inside_the_band_passes() -> None:
    b = bench(BTC, price_band_bps=D(50))
    assert_sent(b, b.submit(BTC, BUY, "0.002", "99.6"))  # 45 bps below the mid


def test_position_limit_counts_open_orders_on_the_same_side() -> None:
    b = bench(BTC, max_position_base=D("0.004"))
    first = b.submit(BTC, BUY, "0.003", "99.9")
    second = b.submit(BTC, BUY, "0.002", "99.8")  # 0.003 working + 0.002 = 0.005 > 0.004
    other_side = b.submit(BTC, SELL, "0.002", "100.2")  # worst short -0.002: fine
    assert_sent(b, first)
    assert_denied(b, second, "position_limit")
    assert_sent(b, other_side)


def test_position_limit_in_quote_values_the_position_at_the_mark() -> None:
    b = bench(BTC, max_position_quote=D("0.5"))
    b.position(BTC, BUY, "0.004", "100.0")  # worth 0.4002 at the mid
    assert_denied(b, b.submit(BTC, BUY, "0.001", "99.0"), "position_limit")
    assert_sent(b, b.submit(BTC, SELL, "0.004", "100.1"))  # reduces: always passes


def test_reduce_only_that_would_increase_is_denied() -> None:
    b = bench(BTC)
    assert_denied(b, b.submit(BTC, SELL, "0.001", "100.1", reduce_only=True), "reduce_only_would_increase")
    b.position(BTC, BUY, "0.002", "100.0")
    assert_sent(b, b.submit(BTC, SELL, "0.002", "100.1", reduce_only=True))
    # the position is already fully offered by the order above
    assert_denied(b, b.submit(BTC, SELL, "0.001", "100.1", reduce_only=True), "reduce_only_would_increase")


def test_an_order_off_the_grid_from_outside_a_strategy_is_denied_not_raised() -> None:
    # A strategy's context refuses off-grid input at once; a command from elsewhere (CLI, API) meets risk.
    b = bench(BTC)
    cmd = SubmitOrder(
        client_order_id=b.kernel.orders.next_id(S1),
        strategy_id=S1,
        instrument_id=BTC.id,
        side=BUY,
        order_type=OrderType.LIMIT,
        quantity=D("0.0015"),
        price=D("100.0"),
        ts_init=0,
        actor="api:test",
    )
    order = b.kernel.submit(cmd, None)
    assert_denied(b, order, "off_grid")
    assert "lot size" in b.log.of(OrderDenied)[0].message


def test_an_unknown_instrument_is_denied() -> None:
    b = bench(BTC)
    cmd = SubmitOrder(
        client_order_id=b.kernel.orders.next_id(S1),
        strategy_id=S1,
        instrument_id=InstrumentId.parse("NOPE.BINANCE"),
        side=BUY,
        order_type=OrderType.MARKET,
        quantity=D("1"),
        ts_init=0,
    )
    assert denial(b.kernel.submit(cmd, None)) == "unknown_instrument"


def test_balance_check_counts_open_orders_on_a_derivative() -> None:
    b = bench(BTC, balance=D("1"), check_balance=True)  # 1 USDT, fully funded (initial_margin_pct 100)
    first = b.submit(BTC, BUY, "0.006", "100.0")  # worth ~0.6
    second = b.submit(BTC, BUY, "0.005", "99.9")  # ~0.5 more: 1.1 > 1
    assert_sent(b, first)
    assert_denied(b, second, "insufficient_balance")


def test_margin_rate_lets_a_leveraged_order_through() -> None:
    b = bench(BTC, balance=D("1"), check_balance=True, initial_margin_pct=D(10))
    assert_sent(b, b.submit(BTC, BUY, "0.09", "100.0"))  # worth ~9, margin ~0.9 <= 1


def test_spot_cannot_sell_what_it_does_not_hold_and_buys_need_cash() -> None:
    b = bench(SPOT, balance=D("1"), check_balance=True)
    assert_denied(b, b.submit(SPOT, SELL, "0.001", "100.1"), "insufficient_balance")
    assert_denied(b, b.submit(SPOT, BUY, "0.011", "100.0"), "insufficient_balance")  # 1.1 USDT
    assert_sent(b, b.submit(SPOT, BUY, "0.009", "100.0"))


# --- C2 -------------------------------------------------------------------------------------------
def test_gross_exposure_cap_counts_every_instrument_and_venue() -> None:
    b = bench(BTC, ETH, max_gross_exposure_quote=D("1.2"))
    b.position(BTC, BUY, "0.006", "100.0")  # ~0.6 on BINANCE
    assert_denied(b, b.submit(ETH, SELL, "0.02", "50.02"), "gross_exposure")  # +1.0 on BYBIT
    assert_sent(b, b.submit(ETH, SELL, "0.01", "50.02"))  # +0.5: 1.1, still under
    assert_sent(b, b.submit(BTC, SELL, "0.006", "100.1"))  # closing: always passes


def test_net_exposure_cap_lets_a_hedge_through() -> None:
    b = bench(BTC, ETH, max_net_exposure_quote=D("1"))
    b.position(BTC, BUY, "0.008", "100.0")  # net +0.8
    assert_denied(b, b.submit(ETH, BUY, "0.1", "50.0"), "net_exposure")  # net +5.8
    assert_sent(b, b.submit(ETH, SELL, "0.03", "50.02"))  # net +0.8 - 1.5 = -0.7


def test_venue_notional_cap_is_per_venue() -> None:
    b = bench(BTC, ETH, max_venue_notional_quote=D("1"))
    b.position(BTC, BUY, "0.009", "100.0")  # ~0.9 on BINANCE
    assert_denied(b, b.submit(BTC, BUY, "0.002", "100.0"), "venue_notional")
    assert_sent(b, b.submit(ETH, BUY, "0.01", "50.0"))  # BYBIT has room


def test_open_order_notional_cap() -> None:
    b = bench(BTC, max_open_order_notional_quote=D("1"))
    assert_sent(b, b.submit(BTC, BUY, "0.005", "99.0"))
    assert_sent(b, b.submit(BTC, SELL, "0.004", "101.0"))
    assert_denied(b, b.submit(BTC, SELL, "0.002", "101.0"), "open_order_notional")


def test_prediction_market_exposure_is_the_worst_case_loss() -> None:
    # Buying 100 YES at 0.40 risks 40; selling 100 at 0.40 (short) risks 60.
    b = bench(YES, max_gross_exposure_quote=D("50"))
    assert_sent(b, b.submit(YES, BUY, "100", "0.40"))
    b2 = bench(YES, max_gross_exposure_quote=D("50"))
    assert_denied(b2, b2.submit(YES, SELL, "100", "0.42"), "gross_exposure")
    assert b2.kernel.portfolio.exposure_value(YES, D(-100), D("0.42")) == D("-58")


def test_a_reducing_order_passes_even_when_a_price_move_put_exposure_over_the_cap() -> None:
    b = bench(BTC, max_gross_exposure_quote=D("1"))
    b.position(BTC, BUY, "0.009", "100.0")
    b.book(BTC, [(1200, 5_000)], [(1201, 5_000)])  # +20%: 0.009 is now worth ~1.08 > 1
    assert_denied(b, b.submit(BTC, BUY, "0.001", "120.0"), "gross_exposure")
    assert_sent(b, b.submit(BTC, SELL, "0.002", "120.1"))


def test_a_modify_is_judged_on_its_new_terms() -> None:
    b = bench(BTC, max_order_size_base=D("0.005"))
    order = b.submit(BTC, BUY, "0.004", "100.0")
    b.ack(order)
    assert b.modify(order, qty="0.006") is False
    assert b.modify(order, qty="0.005") is True
    denied = b.log.of(CommandDenied)
    assert [(e.command, e.reason) for e in denied] == [("ModifyOrder", "order_size_above_max")]
    assert b.venues["BINANCE"].modified == [order.client_order_id]


def test_unset_limits_change_nothing() -> None:
    b = bench(BTC)
    assert_sent(b, b.submit(BTC, BUY, "5", "90.0"))
    assert_sent(b, b.submit(BTC, SELL, "5"))
    assert Decimal(0) == sum(b.risk.denials.values())
