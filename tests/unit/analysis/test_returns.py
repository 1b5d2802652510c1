"""Equity curve → returns: the resampling rule (last value carried forward) and its refusals."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradewright.analysis.returns import (
    NS_PER_SECOND,
    Sampling,
    equity_returns,
    resample_last,
    simple_returns,
)
from tradewright.core.errors import DataError

S = NS_PER_SECOND


def test_resample_carries_the_last_value_forward_from_the_first_observation() -> None:
    ts = [10 * S, 10 * S + 300_000_000, 12 * S + 1, 15 * S]
    equity = [100.0, 101.0, 99.0, 102.0]

    grid, values = resample_last(ts, equity, Sampling.every(2 * S))

    assert grid.tolist() == [10 * S, 12 * S, 14 * S]  # 16 s would be after the last observation
    assert values.tolist() == [100.0, 101.0, 99.0]


def test_several_rows_at_one_timestamp_the_last_wins() -> None:
    grid, values = resample_last([0, S, S, S], [1.0, 2.0, 3.0, 4.0], Sampling.every(S))

    assert grid.tolist() == [0, S] and values.tolist() == [1.0, 4.0]


def test_equity_returns_accept_exact_decimals() -> None:
    returns = equity_returns(
        [0, S, 2 * S], [Decimal("100"), Decimal("110"), Decimal("99")], Sampling.every(S)
    )

    np.testing.assert_allclose(returns, [0.1, -0.1], rtol=1e-15)


def test_timestamps_going_backwards_are_refused() -> None:
    with pytest.raises(DataError, match="backwards at index 2"):
        resample_last([0, 2 * S, S], [1.0, 2.0, 3.0], Sampling.every(S))


def test_non_positive_equity_cannot_form_returns() -> None:
    with pytest.raises(DataError, match="must be > 0"):
        equity_returns([0, S], [100.0, 0.0], Sampling.every(S))


def test_nan_equity_is_refused() -> None:
    with pytest.raises(DataError, match="non-finite"):
        resample_last([0, S], [100.0, float("nan")], Sampling.every(S))


def test_empty_curve_gives_no_returns() -> None:
    assert equity_returns([], [], Sampling.every(S)).size == 0


def test_simple_returns_of_prices() -> None:
    np.testing.assert_allclose(simple_returns([100.0, 105.0, 94.5]), [0.05, -0.1], rtol=1e-15)


@given(
    gaps=st.lists(st.integers(min_value=0, max_value=5 * S), min_size=1, max_size=60),
    period_s=st.integers(min_value=1, max_value=4),
    data=st.data(),
)
def test_resampling_matches_pandas_forward_fill(gaps: list[int], period_s: int, data: st.DataObject) -> None:
    ts = np.cumsum(np.array(gaps, dtype=np.int64))
    values = data.draw(st.lists(st.floats(1, 1e6), min_size=len(ts), max_size=len(ts)))
    # pandas' reindex needs a unique index: keep the last row of each timestamp, as our rule does.
    series = pd.Series(values, index=ts).groupby(level=0).last()

    grid, on_grid = resample_last(ts, values, Sampling.every(period_s * S))

    assert grid[0] == ts[0] and grid[-1] <= ts[-1] < grid[-1] + period_s * S
    np.testing.assert_array_equal(on_grid, series.reindex(grid, method="ffill").to_numpy())
