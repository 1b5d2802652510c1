"""Each pre-trade limit through the whole engine: a scripted strategy sends one order over the limit and one
under it; the first is denied with the limit's reason and never reaches the simulated venue, the second
is sent on."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.unit.risk.kit import D, SimRun, sim_run
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.model.events import OrderDenied
from tradewright.testkit import StreamRows, btc_perp
from tradewright.testkit.scripted import Action

BTC = btc_perp()
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def stream() -> Any:
    """Bid 100.0 x 50 lots, ask 100.1 x 50 lots (mid 100.05), then quiet for a second."""
    return StreamRows(BTC).snapshot(0, bids=[(1000, 50)], asks=[(1001, 50)]).trade(1000, 1, 1001, 1).build()


def order(side: OrderSide, qty: str, price: str | None = None, **kw: Any) -> Action:
    return lambda ctx: ctx.submit(BTC.id, side, D(qty), None if price is None else D(price), **kw)


CASES = [
    (
        "order_size_above_max",
        {"max_order_size_base": D("0.005")},
        order(BUY, "0.006", "99.9"),
        order(BUY, "0.005", "99.9"),
    ),
    (
        "order_size_below_min",
        {"min_order_size_base": D("0.002")},
        order(BUY, "0.001", "99.9"),
        order(BUY, "0.002", "99.9"),
    ),
    (
        "order_notional_above_max",
        {"max_order_notional_quote": D("0.5")},
        order(BUY, "0.006", "99.9"),
        order(BUY, "0.005", "99.9"),
    ),
    (
        "order_notional_below_min",
        {"min_order_notional_quote": D("0.3")},
        order(BUY, "0.002", "99.9"),
        order(BUY, "0.004", "99.9"),
    ),
    ("price_band", {"price_band_bps": D(50)}, order(BUY, "0.002", "99.0"), order(BUY, "0.002", "99.6")),
    (
        "position_limit",
        {"max_position_base": D("0.004")},
        order(BUY, "0.005", "99.9"),
        order(BUY, "0.004", "99.9"),
    ),
    (
        "position_limit",
        {"max_position_quote": D("0.45")},
        order(SELL, "0.005", "100.2"),
        order(SELL, "0.004", "100.2"),
    ),
    (
        "insufficient_balance",
        {"check_balance": True, "balance": D("0.3")},
        order(BUY, "0.004", "99.9"),
        order(BUY, "0.002", "99.9"),
    ),
    (
        "reduce_only_would_increase",
        {},
        order(SELL, "0.001", "100.2", reduce_only=True),
        order(SELL, "0.001", "100.2"),
    ),
    (
        "gross_exposure",
        {"max_gross_exposure_quote": D("0.45")},
        order(BUY, "0.005", "99.9"),
        order(BUY, "0.004", "99.9"),
    ),
    (
        "net_exposure",
        {"max_net_exposure_quote": D("0.45")},
        order(SELL, "0.005", "100.2"),
        order(SELL, "0.004", "100.2"),
    ),
    (
        "venue_notional",
        {"max_venue_notional_quote": D("0.45")},
        order(BUY, "0.005", "99.9"),
        order(BUY, "0.004", "99.9"),
    ),
    (
        "open_order_notional",
        {"max_open_order_notional_quote": D("0.45")},
        order(BUY, "0.005", "99.9"),
        order(BUY, "0.004", "99.9"),
    ),
    ("slippage_guard", {"max_slippage_bps": D(10)}, order(BUY, "0.051"), order(BUY, "0.010")),
]


@pytest.mark.parametrize(
    ("reason", "limits", "over", "under"), CASES, ids=[f"{c[0]}-{next(iter(c[1]), 'always')}" for c in CASES]
)
def test_an_order_over_the_limit_never_reaches_the_venue_and_one_under_it_does(
    reason: str, limits: dict[str, Any], over: Action, under: Action
) -> None:
    run = sim_run(stream(), [(1, over), (2, under)], **limits)
    denied, sent = run.order(0), run.order(1)
    assert denied.status is OrderStatus.DENIED
    assert [e.reason for e in run.strategy.events if isinstance(e, OrderDenied)] == [reason]
    assert denied.client_order_id not in run.spy.submitted
    assert sent.client_order_id in run.spy.submitted, _why(run, sent.client_order_id)


def _why(run: SimRun, cid: object) -> str:
    return "; ".join(
        e.message for e in run.strategy.events if isinstance(e, OrderDenied) and e.client_order_id == cid
    )


def test_the_rate_limit_through_the_engine_frees_a_token_on_the_kernel_clock() -> None:
    actions: list[tuple[float, Action]] = [(1, order(BUY, "0.001", "99.0")) for _ in range(3)]
    actions.append((501, order(BUY, "0.001", "99.0")))
    run = sim_run(stream(), actions, max_orders_per_second_instrument=2)
    assert [run.order(i).status is OrderStatus.DENIED for i in range(4)] == [False, False, True, False]
    assert len(run.spy.submitted) == 3


def test_an_order_under_every_limit_at_once_is_filled_by_the_venue() -> None:
    limits: dict[str, Any] = {
        name: value for _, kw, _, _ in CASES for name, value in kw.items() if name != "balance"
    }
    limits["max_position_quote"] = D("1")
    run = sim_run(stream(), [(1, order(BUY, "0.004", "100.1"))], **limits)
    assert run.order(0).status is OrderStatus.FILLED
    assert run.risk.denials == {}
    assert run.result.kernel.portfolio.position(BTC).quantity == Decimal("0.004")


def test_reducing_through_the_engine_sends_the_exit_and_denies_the_entry() -> None:
    # One trade a day: after the first fill the node is REDUCING.
    actions: list[tuple[float, Action]] = [
        (1, order(BUY, "0.004", "100.1")),
        (10, order(BUY, "0.001", "99.9")),
        (11, order(SELL, "0.004", "100.0")),
    ]
    run = sim_run(stream(), actions, max_trades_per_day=1)
    assert run.order(1).status is OrderStatus.DENIED
    assert run.order(1).client_order_id not in run.spy.submitted
    assert run.order(2).status is OrderStatus.FILLED
    assert run.result.kernel.portfolio.position(BTC).quantity == 0
    assert run.risk.summary()["trading_state"] == "REDUCING"
