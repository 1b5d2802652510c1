"""Order amounts are exact micro-units, equal to the official client's wherever its floats are exact."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tradewright.core.errors import GridError
from tradewright.venues.polymarket.amounts import limit_amounts, market_amounts, round_config

D = Decimal


def test_limit_buy_offers_size_times_price_collateral_for_the_shares() -> None:
    assert limit_amounts(0, D("0.5"), D("5"), D("0.01")) == (2_500_000, 5_000_000)  # ccxt's vector
    assert limit_amounts(1, D("0.513"), D("5"), D("0.001")) == (5_000_000, 2_565_000)


def test_new_tick_sizes_have_their_rounding() -> None:
    assert round_config(D("0.005")).amount == 5 and round_config(D("0.0025")).amount == 6
    assert limit_amounts(0, D("0.4975"), D("12.34"), D("0.0025")) == (6_139_150, 12_340_000)


def test_a_tick_the_table_does_not_know_gets_the_same_rule() -> None:
    assert round_config(D("0.02")).price == 2 and round_config(D("0.02")).amount == 4


def test_sizes_are_cut_to_two_decimals_and_a_zero_size_is_refused() -> None:
    assert limit_amounts(0, D("0.5"), D("5.009"), D("0.01")) == (2_500_000, 5_000_000)
    with pytest.raises(GridError):
        limit_amounts(0, D("0.5"), D("0.004"), D("0.01"))


def test_market_buy_spends_collateral_and_sell_sells_shares() -> None:
    assert market_amounts(0, D("10"), D("0.3"), D("0.01")) == (10_000_000, 33_333_300)
    assert market_amounts(1, D("7"), D("0.45"), D("0.01")) == (7_000_000, 3_150_000)


_TICKS = ["0.1", "0.01", "0.001", "0.0001"]


@settings(max_examples=200, deadline=None)
@given(
    tick=st.sampled_from(_TICKS),
    ticks=st.integers(1, 9999),
    cents=st.integers(1, 10_000_000),
    side=st.sampled_from([0, 1]),
)
def test_limit_amounts_equal_the_official_client_on_the_grid(
    tick: str, ticks: int, cents: int, side: int
) -> None:
    pytest.importorskip("py_clob_client_v2", reason="the official client is the oracle here")
    from py_clob_client_v2.order_builder.builder import ROUNDING_CONFIG, OrderBuilder

    t = D(tick)
    price = t * ticks
    if price >= 1:
        price = 1 - t
    size = D(cents) / 100
    # Where the official client's float cut of the size is itself wrong (4.35 -> 4.34, see the test
    # below) there is nothing to compare: elsewhere the two must agree to the micro-unit.
    assume(int(float(size) * 100) == cents)
    official = OrderBuilder(signer=None)  # type: ignore[arg-type]
    _, maker, taker = official.get_order_amounts(
        "BUY" if side == 0 else "SELL", float(size), float(price), ROUNDING_CONFIG[tick]
    )
    assert limit_amounts(side, price, size, t) == (maker, taker)


def test_exact_amounts_do_not_lose_the_cent_the_official_float_rounding_loses() -> None:
    # The official client computes floor(4.35 * 100) / 100 in floats = 4.34 (4.35 * 100 is 434.999...).
    assert limit_amounts(0, D("0.1"), D("4.35"), D("0.1")) == (435_000, 4_350_000)
