"""The cross-venue arbitrage strategy through the kernel, the executor and simulated venues."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tradewright.config.run import RiskConfig, load_run_config
from tradewright.core.errors import ConfigError
from tradewright.core.ids import InstrumentId
from tradewright.model.events import OrderFilled, WorkflowFinished, WorkflowRefused
from tradewright.model.instrument import InstrumentKind
from tradewright.model.multileg import CompensationPolicy, WorkflowStatus
from tradewright.strategies import CrossVenueArb, CrossVenueArbConfig
from tradewright.strategy.loader import make_strategy
from tradewright.testkit import make_instrument

from ..engine.multivenue import A, B, C, MultiVenue

D = Decimal


def arb(**params: Any) -> CrossVenueArb:
    config = CrossVenueArbConfig(
        instruments=[str(A.id), str(B.id)],
        max_size_base=D(params.pop("max_size_base", "1")),
        min_edge_bps=D(params.pop("min_edge_bps", "5")),
        **params,
    )
    return CrossVenueArb("ARB", [A.id], config)


def running(strategy: CrossVenueArb, *, risk: RiskConfig | None = None) -> MultiVenue:
    m = MultiVenue(instruments=(A, B, C), risk=risk)
    m.quote(A, bids=[("99.9", "5")], asks=[("100.0", "5")])
    m.quote(B, bids=[("100.0", "5")], asks=[("100.1", "5")])
    m.quote(C, bids=[("99.9", "5")], asks=[("100.1", "5")])
    m.add(strategy)
    m.kernel.start()
    return m


def test_it_buys_on_the_cheap_venue_and_sells_on_the_dear_one_for_a_profit_net_of_fees() -> None:
    s = arb()
    m = running(s)
    cash_before = m.kernel.portfolio.balance("USDT")
    m.quote(B, bids=[("101.0", "0.6"), ("100.0", "5")], asks=[("101.1", "5")])  # B's bid jumps
    m.kernel.on_book(B.id)
    m.run_for(50)
    assert (m.position(A), m.position(B)) == (D("0.6"), D("-0.6"))
    fills = m.recorder.of(OrderFilled)
    assert [(f.instrument_id, f.last_px, f.last_qty) for f in fills] == [
        (A.id, D("100.0"), D("0.6")),
        (B.id, D("101.0"), D("0.6")),
    ]
    # Cash after both legs: +0.6 x 101.0 x (1 - 0.1%) - 0.6 x 100.0 x (1 + 0.1%), exactly.
    edge = D("0.6") * D("101.0") * D("0.999") - D("0.6") * D("100.0") * D("1.001")
    assert m.kernel.portfolio.balance("USDT") - cash_before == edge == D("0.47940")
    assert s.stats["opportunities"] == 1 and s.stats["completed"] == 1
    assert s.stats["expected_edge_quote"] == edge


def test_no_trade_while_the_edge_after_fees_is_below_the_threshold() -> None:
    s = arb(min_edge_bps="50")
    m = running(s)
    m.quote(B, bids=[("100.4", "5")], asks=[("100.5", "5")])  # 40 bps gross, about 20 bps after fees
    m.kernel.on_book(B.id)
    m.run_for(50)
    assert m.kernel.orders.all_orders == [] and s.stats["opportunities"] == 0


def test_one_workflow_at_a_time_then_a_cool_down_then_the_inventory_cap_stops_it() -> None:
    s = arb(max_size_base="0.5", max_inventory_base=D("1"), cooldown_ms=100)
    m = running(s)
    m.quote(B, bids=[("101.0", "5")], asks=[("101.1", "5")])
    for _ in range(3):
        m.kernel.on_book(B.id)  # the same opportunity, seen again and again
    m.run_for(50)
    assert s.stats["opportunities"] == 1  # while a workflow runs and during the cool-down, nothing more
    m.run_for(100)
    m.kernel.on_book(B.id)
    m.run_for(200)
    m.kernel.on_book(B.id)
    m.run_for(50)
    assert s.stats["completed"] == 2 and (m.position(A), m.position(B)) == (D("1.0"), D("-1.0"))
    assert s.stats["opportunities"] == 2  # the inventory cap (1 on each venue) allows no third


def test_a_plan_over_the_portfolio_caps_is_refused_by_risk_and_nothing_is_sent() -> None:
    s = arb(cooldown_ms=1_000)
    m = running(s, risk=RiskConfig(max_gross_exposure_quote=D("50")))
    m.quote(B, bids=[("101.0", "5")], asks=[("101.1", "5")])
    m.kernel.on_book(B.id)
    m.run_for(50)
    [refused] = m.recorder.of(WorkflowRefused)
    assert refused.reason == "risk:gross_exposure"
    assert m.kernel.orders.all_orders == [] and s.stats["refused"] == 1


def test_a_failed_leg_is_unwound_and_the_strategy_counts_it_compensated() -> None:
    s = arb()
    m = running(s)
    # The opportunity the strategy saw is gone at B by the time its leg arrives (1 ms later).
    m.quote(B, bids=[("101.0", "1")], asks=[("101.1", "5")])
    m.kernel.on_book(B.id)
    m.quote(B, bids=[("100.0", "5")], asks=[("100.1", "5")])
    m.run_for(50)
    [done] = m.recorder.of(WorkflowFinished)
    assert done.status is WorkflowStatus.COMPENSATED
    assert (m.position(A), m.position(B)) == (D("0.0"), D("0"))
    assert s.stats["compensated"] == 1


def test_a_spot_venue_sells_only_what_it_holds_and_buys_only_with_the_cash_there() -> None:
    spot = make_instrument(
        "BTCUSDT", "VENUEA", tick="0.1", lot="0.1", taker_fee="0.001", kind=InstrumentKind.SPOT
    )
    s = CrossVenueArb(
        "ARB", [spot.id], CrossVenueArbConfig(instruments=[str(spot.id), str(B.id)], max_size_base=D("5"))
    )
    m = MultiVenue(instruments=(spot, B), balance="200")
    m.quote(spot, bids=[("101.0", "5")], asks=[("101.1", "5")])  # spot is dear: sell there? it holds none
    m.quote(B, bids=[("99.9", "5")], asks=[("100.0", "5")])
    m.add(s)
    m.kernel.start()
    m.kernel.on_book(B.id)
    m.run_for(50)
    assert s.stats["opportunities"] == 0  # nothing held on the spot venue to sell
    m.quote(spot, bids=[("99.9", "5")], asks=[("100.0", "5")])
    m.quote(B, bids=[("101.0", "5")], asks=[("101.1", "5")])
    m.kernel.on_book(B.id)
    m.run_for(50)
    assert (m.position(spot), m.position(B)) == (D("1.9"), D("-1.9"))  # 200 USDT buys 1.99 at 100.1 a unit


def test_config_errors_name_the_key() -> None:
    with pytest.raises(ValueError, match="at least two different instruments"):
        CrossVenueArbConfig(instruments=["X.A", "X.A"], max_size_base=D(1))
    with pytest.raises(ValueError, match="`max_size_base` must be a number > 0"):
        CrossVenueArbConfig(instruments=["X.A", "X.B"], max_size_base=D(0))
    usdc = make_instrument("BTCUSDC", "VENUEC", tick="0.1", lot="0.1", quote="USDC")
    s = CrossVenueArb(
        "ARB", [A.id], CrossVenueArbConfig(instruments=[str(A.id), str(usdc.id)], max_size_base=D(1))
    )
    m = MultiVenue(instruments=(A, usdc))
    m.add(s)
    with pytest.raises(ConfigError, match=r"quoted in USDC: give `strategy\.params\.quote_rates\.USDC`"):
        m.kernel.start()


def test_under_the_hedge_policy_a_third_venue_is_named_for_each_leg() -> None:
    s = CrossVenueArb(
        "ARB",
        [A.id],
        CrossVenueArbConfig(
            instruments=[str(A.id), str(B.id), str(C.id)],
            max_size_base=D(1),
            compensation=CompensationPolicy.HEDGE,
        ),
    )
    m = running(s)
    m.quote(B, bids=[("101.0", "1")], asks=[("101.1", "5")])
    m.kernel.on_book(B.id)
    m.quote(
        B, bids=[("101.0", "0.3"), ("99.0", "5")], asks=[("101.1", "5")]
    )  # only 0.3 left when the leg arrives
    m.run_for(50)
    [done] = m.recorder.of(WorkflowFinished)
    assert done.status is WorkflowStatus.COMPENSATED and done.reason.startswith("hedged")
    assert sum((m.position(A), m.position(B), m.position(C)), D(0)) == 0


def test_the_config_shown_in_docs_arbitrage_loads(tmp_path: Path) -> None:
    text = (REPO / "docs" / "arbitrage.md").read_text()
    [toml] = re.findall(r"```toml\n(.*?)```", text, re.S)
    run = tmp_path / "run.toml"
    run.write_text('[data]\npaths = ["x.jsonl.gz"]\nformat = "binance"\n\n' + toml)
    strategy = make_strategy(load_run_config(run), InstrumentId.parse("BTCUSDT-PERP.BINANCE"))
    assert isinstance(strategy, CrossVenueArb)
    assert strategy.cfg.quote_rates == {"USDC": D("0.9998")} and strategy.cfg.min_edge_bps == D(5)
    assert set(strategy.instruments) == {
        InstrumentId.parse("BTCUSDT.BINANCE"),
        InstrumentId.parse("BTCUSDT-PERP.BINANCE"),
    }
