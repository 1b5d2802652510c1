"""Binary outcome markets: tokens, grids, fees and settlement that pays out exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradewright.core.errors import GridError
from tradewright.core.ids import Venue
from tradewright.model.enums import OrderSide
from tradewright.model.instrument import InstrumentKind
from tradewright.model.prediction import (
    BinaryMarket,
    FeeSchedule,
    OutcomeEvent,
    OutcomeToken,
    Resolution,
    resolution_events,
)
from tradewright.portfolio import Portfolio

D = Decimal


def market(
    tick: str = "0.01", *, neg_risk: bool = False, placeholder: bool = False, mid: str = "0xc1"
) -> BinaryMarket:
    return BinaryMarket(
        venue=Venue("POLYMARKET"),
        market_id=mid,
        question="Will it rain?",
        tokens=(
            OutcomeToken(token_id=f"{mid}1", outcome="Yes", index=0),
            OutcomeToken(token_id=f"{mid}2", outcome="No", index=1),
        ),
        tick_size=D(tick),
        min_size=D(5),
        fees=FeeSchedule(kind="curve", rate=D("0.25"), exponent=2),
        end_ns=1_700_000_000_000_000_000,
        neg_risk=neg_risk,
        placeholder=placeholder,
        allows_split_resolution=not neg_risk,
    )


def test_outcome_instruments_are_binary_tokens_on_the_market_grid() -> None:
    m = market("0.001")
    yes, no = m.instruments()
    assert yes.kind is InstrumentKind.BINARY_OUTCOME and no.kind is InstrumentKind.BINARY_OUTCOME
    assert str(yes.id) == "0xc1-0xc11.POLYMARKET"
    assert (yes.outcome, no.outcome) == ("Yes", "No")
    assert yes.tick_size == D("0.001") and yes.lot_size == D("0.01") and yes.min_size == D(5)
    assert yes.expiry_ns == m.end_ns
    assert m.index_of(no.id) == 1
    assert m.complement(m.tokens[0].token_id).token_id == m.tokens[1].token_id


def test_tick_size_change_gives_a_market_on_the_new_grid() -> None:
    m = market("0.01")
    finer = m.with_tick_size(D("0.001"))
    assert finer.instrument(0).price_to_ticks(D("0.955")) == 955
    with pytest.raises(GridError):
        m.instrument(0).price_to_ticks(D("0.955"))
    assert m.tick_size == D("0.01")  # the old value is unchanged


def test_valid_prices_lie_on_the_grid_between_one_tick_and_one_minus_a_tick() -> None:
    m = market("0.005")
    assert m.valid_price(D("0.005")) and m.valid_price(D("0.995")) and m.valid_price(D("0.5"))
    assert not m.valid_price(D("0")) and not m.valid_price(D("1")) and not m.valid_price(D("0.503"))


def test_polymarket_curve_fee_matches_the_official_examples() -> None:
    # py-clob-client-v2 tests/test_fee_calculations.py: rate 0.25, exponent 2, 100 contracts.
    fees = FeeSchedule(kind="curve", rate=D("0.25"), exponent=2)
    assert fees.fee(D("0.5"), D(100)) == D("1.56250")
    assert fees.fee(D("0.3"), D(100)) == D("1.10250")
    assert fees.fee(D("0.05"), D(100)) == D("0.05641")  # 0.05640625 rounded to 5 places
    assert fees.fee(D("0.5"), D("125.5")) == D("1.96094")
    assert fees.fee(D("0.5"), D(100), taker=False) == 0  # makers pay nothing


def test_fee_bound_rounds_up_and_a_positive_fee_never_rounds_to_zero() -> None:
    fees = FeeSchedule(kind="curve", rate=D("0.072"), exponent=1)
    assert fees.fee_bound(D("0.05"), D(100)) == D("0.34200")
    tiny = FeeSchedule(kind="curve", rate=D("0.0001"), exponent=2)
    assert tiny.fee(D("0.01"), D("0.01")) == D("0.00001")


def test_turbine_notional_fee_is_one_percent_of_notional() -> None:
    fees = FeeSchedule(kind="notional", rate=D("0.01"), maker=True, decimals=6)
    assert fees.fee(D("0.60"), D(1)) == D("0.006000")
    assert fees.fee(D("0.60"), D(1), taker=False) == D("0.006000")


def test_resolution_pays_one_to_the_winner_and_half_each_on_a_split() -> None:
    assert [Resolution.YES.payout(i) for i in (0, 1)] == [1, 0]
    assert [Resolution.NO.payout(i) for i in (0, 1)] == [0, 1]
    assert [Resolution.SPLIT.payout(i) for i in (0, 1)] == [D("0.5"), D("0.5")]


def test_a_neg_risk_market_cannot_resolve_fifty_fifty() -> None:
    with pytest.raises(ValueError, match="50-50"):
        market(neg_risk=True).settlement_prices(Resolution.SPLIT)


def test_resolution_events_name_the_market_and_the_winner() -> None:
    m = market()
    events = resolution_events(m, m.resolution_of(m.tokens[1].token_id), ts_event=5, ts_init=6)
    assert [(e.instrument_id, e.settlement_px, e.resolution, e.winning_outcome) for e in events] == [
        (m.instrument_id(0), D(0), "NO", "No"),
        (m.instrument_id(1), D(1), "NO", "No"),
    ]


def _book(
    portfolio: Portfolio, m: BinaryMarket, index: int, side: OrderSide, px: str, qty: str, fee: str = "0"
) -> None:
    portfolio.apply_fill(m.instrument(index), side, D(px), D(qty), D(fee), "USDC")


def test_resolution_pays_out_exactly_in_the_portfolio() -> None:
    m = market()
    p = Portfolio({"USDC": D(100)})
    _book(p, m, 0, OrderSide.BUY, "0.41", "10", "0.01")
    _book(p, m, 1, OrderSide.BUY, "0.55", "10")
    _book(p, m, 1, OrderSide.SELL, "0.57", "4")  # NO position now 6
    for event in resolution_events(m, Resolution.YES, ts_event=1, ts_init=1):
        p.apply_resolution(m.instrument(m.index_of(event.instrument_id)), event)
    # cash: 100 - 4.10 - 0.01 - 5.50 + 2.28 + 10 (YES pays 1 x 10) + 0 (NO pays 0)
    assert p.balance("USDC") == D("102.67")
    assert all(pos.quantity == 0 for pos in p.positions)
    assert p.realized_pnl("USDC") == D("10") - D("4.10") + (D("0.57") - D("0.55")) * 4 - D("0.55") * 6


def test_a_split_resolution_pays_half_to_a_short_as_well() -> None:
    m = market()
    p = Portfolio({"USDC": D(0)})
    _book(p, m, 0, OrderSide.SELL, "0.70", "3")  # short YES: received 2.10
    for event in resolution_events(m, Resolution.SPLIT, ts_event=1, ts_init=1):
        p.apply_resolution(m.instrument(m.index_of(event.instrument_id)), event)
    assert p.balance("USDC") == D("2.10") - D("1.5")


def test_resolution_is_refused_for_another_instrument_or_a_price_outside_zero_one() -> None:
    m, other = market(), market(mid="0xc2")
    p = Portfolio()
    event = resolution_events(m, Resolution.YES, ts_event=1, ts_init=1)[0]
    with pytest.raises(ValueError, match="cannot settle"):
        p.apply_resolution(other.instrument(0), event)


@given(
    yes=st.integers(0, 10_000),
    no=st.integers(0, 10_000),
    px_yes=st.integers(1, 99),
    px_no=st.integers(1, 99),
    outcome=st.sampled_from(list(Resolution)),
)
def test_a_box_of_yes_and_no_pays_exactly_the_smaller_leg_whatever_the_resolution(
    yes: int, no: int, px_yes: int, px_no: int, outcome: Resolution
) -> None:
    m = market()
    p = Portfolio({"USDC": D(0)})
    qy, qn = D(yes) / 100, D(no) / 100
    py, pn = D(px_yes) / 100, D(px_no) / 100
    if qy:
        _book(p, m, 0, OrderSide.BUY, str(py), str(qy))
    if qn:
        _book(p, m, 1, OrderSide.BUY, str(pn), str(qn))
    for event in resolution_events(m, outcome, ts_event=1, ts_init=1):
        p.apply_resolution(m.instrument(m.index_of(event.instrument_id)), event)
    paid = qy * outcome.payout(0) + qn * outcome.payout(1)
    assert p.balance("USDC") == paid - qy * py - qn * pn
    assert paid >= min(qy, qn)  # a full pair is worth exactly 1 in every resolution


def test_an_event_with_a_placeholder_outcome_is_not_exhaustive() -> None:
    a, b = market(neg_risk=True, mid="0xa"), market(neg_risk=True, mid="0xb")
    other = market(neg_risk=True, placeholder=True, mid="0xc")
    full = OutcomeEvent(venue=Venue("POLYMARKET"), event_id="1", title="t", markets=(a, b), neg_risk=True)
    assert full.is_exhaustive
    assert not OutcomeEvent(
        venue=Venue("POLYMARKET"), event_id="1", title="t", markets=(a, b, other), neg_risk=True
    ).is_exhaustive
    assert not OutcomeEvent(venue=Venue("POLYMARKET"), event_id="1", title="t", markets=(a, b)).is_exhaustive
