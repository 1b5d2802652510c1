"""Money round-trips exactly on both backends: the value, and its scale, never through a float."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, MetaData, Table, select, text

from tradewright.core.ids import ClientOrderId
from tradewright.model import OrderSide, Position
from tradewright.store import ExactDecimal, SqlStateStore, canonical

from .builders import BTC, instrument, new_order

FIXTURE_OK = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # one store serves every example
    deadline=None,
    max_examples=150,
)

# Prices and sizes as venues quote them: up to 24 significant digits, from 18 decimals (wei-like grids)
# to a positive exponent (1E+2). Built from text, so Hypothesis itself never rounds them.
money = st.builds(lambda n, e: Decimal(f"{n}E{e}"), st.integers(-(10**24), 10**24), st.integers(-18, 6))
positive = st.builds(lambda n, e: Decimal(f"{n}E{e}"), st.integers(1, 10**24), st.integers(-18, 6))

_probe_table = Table("decimal_probe", MetaData(), Column("value", ExactDecimal, nullable=True))


@pytest.fixture
def probe(store: SqlStateStore) -> SqlStateStore:
    with store.engine.begin() as conn:
        _probe_table.create(conn)
    return store


@FIXTURE_OK
@given(value=money)
@example(value=Decimal("0.00000001"))
@example(value=Decimal("123456789.123456789"))
@example(value=Decimal("1E+2"))
@example(value=Decimal("-0.000"))
@example(value=Decimal("100.10"))
def test_a_decimal_column_gives_back_the_same_value_and_scale(probe: SqlStateStore, value: Decimal) -> None:
    with probe.engine.begin() as conn:
        conn.execute(_probe_table.delete())
        conn.execute(_probe_table.insert(), {"value": value})
        back = conn.execute(select(_probe_table.c.value)).scalar_one()

    assert isinstance(back, Decimal)
    assert back == value
    assert str(back) == str(canonical(value))  # identical on both backends
    assert back.as_tuple().exponent == min(value.as_tuple().exponent, 0)


@FIXTURE_OK
@given(price=positive, size=positive, fee=money)
@example(price=Decimal("0.00000001"), size=Decimal("123456789.123456789"), fee=Decimal("-0.00000001"))
@example(price=Decimal("123456789.123456789"), size=Decimal("0.00000001"), fee=Decimal("0"))
def test_positions_and_balances_round_trip_exactly(
    store: SqlStateStore, price: Decimal, size: Decimal, fee: Decimal
) -> None:
    position = Position(instrument(tick="0.000000000000000001", lot="0.000000000000000001"))
    position.apply_fill(OrderSide.SELL, price, size, fee)
    cash = price * size - fee

    store.save_portfolio([position], {"USDT": cash, "FEE": fee}, ts_ns=1)

    state = store.load_state()
    loaded = state.positions[BTC]
    assert (loaded.quantity, loaded.avg_px, loaded.fees, loaded.traded_volume) == (
        position.quantity,
        position.avg_px,
        position.fees,
        position.traded_volume,
    )
    assert (loaded.quantity, loaded.fees) == (-size, fee)
    assert state.balances == {"USDT": cash, "FEE": fee}
    assert str(state.balances["USDT"]) == str(canonical(cash))


_counter = iter(range(10**9))


@FIXTURE_OK
@given(price=positive, qty=positive)
@example(price=Decimal("0.00000001"), qty=Decimal("123456789.123456789"))
def test_order_terms_round_trip_exactly(store: SqlStateStore, price: Decimal, qty: Decimal) -> None:
    cid = f"c-{next(_counter)}"
    store.record_intent(new_order(cid, price=str(price), qty=str(qty)))

    with store.engine.connect() as conn:
        row = conn.execute(
            text("SELECT price, quantity FROM orders WHERE client_order_id = :c"), {"c": cid}
        ).one()
    loaded = store.load_state().open_orders[ClientOrderId(cid)]

    assert (loaded.price, loaded.quantity) == (price, qty)
    assert str(loaded.price) == str(price)  # the intent JSON keeps the exact text
    assert Decimal(str(row.price)) == price  # and the column holds the exact value (TEXT or NUMERIC)


def test_a_float_never_reaches_a_money_column(probe: SqlStateStore) -> None:
    with (
        pytest.raises(Exception, match="money columns take Decimal, got float"),
        probe.engine.begin() as conn,
    ):
        conn.execute(_probe_table.insert(), {"value": 0.1})


def test_non_finite_money_is_refused(probe: SqlStateStore) -> None:
    with pytest.raises(Exception, match="money must be finite"), probe.engine.begin() as conn:
        conn.execute(_probe_table.insert(), {"value": Decimal("NaN")})
