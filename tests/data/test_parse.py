"""Exact decimal-string scaling (the compiled kernels every loader uses) against Decimal arithmetic."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewright.data._parse import (
    MALFORMED,
    OFF_GRID,
    OK,
    OUT_OF_RANGE,
    finest_step,
    parse_level_arrays,
    scale_strings,
    split_step,
)

STEPS = [Decimal(s) for s in ("0.25", "0.1", "0.01", "0.00001", "0.000001", "1", "5", "100", "0.5")]

_decimal_text = st.builds(
    lambda mantissa, places, pad: (
        format(Decimal(mantissa).scaleb(-places), "f") + ("0" * pad if places else "")
    ),
    st.integers(0, 10**12),  # at most 10**18 of the finest step: inside int64
    st.integers(0, 9),
    st.integers(0, 4),
)


def _expected(text: str, step: Decimal) -> tuple[int, int]:
    steps, rem = divmod(Decimal(text), step)
    return (int(steps), OK) if rem == 0 else (0, OFF_GRID)


@settings(max_examples=300, deadline=None)
@given(st.lists(_decimal_text, min_size=1, max_size=40), st.sampled_from(STEPS))
def test_scaling_equals_decimal_division_or_reports_off_grid(texts: list[str], step: Decimal) -> None:
    values, status = scale_strings(texts, step)
    for text, value, code in zip(texts, values.tolist(), status.tolist(), strict=True):
        want_value, want_code = _expected(text, step)
        assert code == want_code, text
        if code == OK:
            assert value == want_value, text


def test_trailing_zeros_and_negative_values() -> None:
    values, status = scale_strings(
        ["61737.63000000", "0.00000000", "-1.50", "12"], Decimal("0.01"), signed=True
    )
    assert values.tolist() == [6173763, 0, -150, 1200] and status.tolist() == [OK] * 4
    _, unsigned = scale_strings(["-1.50"], Decimal("0.01"))
    assert unsigned.tolist() == [MALFORMED]


@pytest.mark.parametrize(
    "text", ["", "-", ".", "1.2.3", "1e5", " 1", "1 ", "abc", "+1", "NaN", "Infinity", "1_000"]
)
def test_text_that_is_not_a_plain_decimal_is_malformed(text: str) -> None:
    _, status = scale_strings([text], Decimal("0.01"))
    assert status.tolist() == [MALFORMED]


@pytest.mark.parametrize("text", ["12345678901234567890", "1" + "0" * 27, "92233720368547758.08"])
def test_a_decimal_beyond_int64_steps_is_out_of_range(text: str) -> None:
    _, status = scale_strings([text], Decimal("0.01"))
    assert status.tolist() == [OUT_OF_RANGE]


def test_split_step() -> None:
    assert split_step(Decimal("0.25")) == (25, 2)
    assert split_step(Decimal("0.10")) == (1, 1)
    assert split_step(Decimal("1E+2")) == (100, 0)
    assert split_step(Decimal("0.00001")) == (1, 5)


def test_finest_step_ignores_trailing_zeros() -> None:
    assert finest_step(["56218.30000", "56218.4"]) == Decimal("0.1")
    assert finest_step(["30316", "7"]) == Decimal(1)
    assert finest_step(["0.00003530"]) == Decimal("0.0000001")


_levels = st.lists(st.tuples(_decimal_text, _decimal_text), max_size=20)


@settings(max_examples=200, deadline=None)
@given(st.lists(_levels, min_size=1, max_size=6))
def test_json_level_arrays_parse_like_decode_then_scale(arrays: list[list[tuple[str, str]]]) -> None:
    tick, lot = Decimal("0.01"), Decimal("0.000001")
    chunks = [json.dumps([list(level) for level in levels]).encode() for levels in arrays]
    ticks, lots, counts, status = parse_level_arrays(chunks, tick, lot)
    assert counts.tolist() == [len(levels) for levels in arrays]
    flat = [level for levels in arrays for level in levels]
    for k, (price, size) in enumerate(flat):
        p, p_code = _expected(price, tick)
        q, q_code = _expected(size, lot)
        if p_code == OK and q_code == OK:
            assert (ticks[k], lots[k]) == (p, q)
    for levels, code in zip(arrays, status.tolist(), strict=True):
        on_grid = all(_expected(p, tick)[1] == OK and _expected(q, lot)[1] == OK for p, q in levels)
        assert code == (OK if on_grid else OFF_GRID)


def test_malformed_level_arrays_contribute_no_rows() -> None:
    chunks = [
        b'[["1.00","2"]]',
        b'[["1.00"]]',
        b'[[1.00,"2"]]',
        b"[",
        b' [ ["3.00" , "4", "0", "9"] ] ',
        b"[]",
    ]
    ticks, lots, counts, status = parse_level_arrays(chunks, Decimal("0.01"), Decimal(1))
    assert status.tolist() == [OK, MALFORMED, MALFORMED, MALFORMED, OK, OK]
    assert counts.tolist() == [1, 0, 0, 0, 1, 0]
    assert ticks.tolist() == [100, 300] and lots.tolist() == [2, 4]
