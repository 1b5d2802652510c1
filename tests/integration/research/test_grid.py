"""Grid options: parsing, expansion, Optuna snapping and trial ids."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradewright.core.errors import ConfigError
from tradewright.research.grid import expand_grid, parse_axis, trial_id


def test_values_are_read_as_toml_like_set_and_bare_words_as_strings() -> None:
    axis = parse_axis('strategy.params.size="0.002","0.003", 4, 0.5, true, power, [1, 2]')
    assert axis.values == ("0.002", "0.003", 4, 0.5, True, "power", [1, 2])
    assert axis.points() == axis.values


def test_an_integer_range_expands_inclusively_and_with_a_step() -> None:
    assert parse_axis("k=0..3").points() == (0, 1, 2, 3)
    assert parse_axis("k=2..10:4").points() == (2, 6, 10)
    assert parse_axis("k=-1..1").integer


def test_a_decimal_range_needs_a_step_in_a_grid_and_lands_on_it_exactly() -> None:
    axis = parse_axis("venue.queue_power=0.5..1.5:0.25")
    assert axis.points() == (0.5, 0.75, 1.0, 1.25, 1.5)
    with pytest.raises(ConfigError, match="a decimal range needs a step"):
        parse_axis("venue.queue_power=0.5..1.5").points()
    # Three steps of 0.1 are 0.30000000000000004 in floats; the grid is built in decimals.
    assert parse_axis("x=0.1..0.3:0.1").points() == (0.1, 0.2, 0.3)


def test_optuna_suggestions_snap_to_the_axis_grid() -> None:
    assert parse_axis("k=0..9").snap(3.0000001) == 3
    assert parse_axis("x=0.001..0.009:0.001").snap(0.0030000000000000005) == 0.003
    assert parse_axis("x=0.5..2.5").snap(1.2345678) == 1.2345678
    assert parse_axis("x=1,2").snap(2) == 2


def test_endpoints_bound_an_axis() -> None:
    assert parse_axis("k=1..5").endpoints() == (1, 5)
    assert parse_axis("x=0.5..1.5").endpoints() == (0.5, 1.5)
    assert parse_axis("m=a,b,c").endpoints() == ("a", "b", "c")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("strategy.params.offset_ticks", "expects KEY=VALUES"),
        ("=1,2", "expects KEY=VALUES"),
        ("a b=1", "not a dotted config key"),
        ("k=3..1", "LO <= HI"),
        ("k=1..3:0", "step must be > 0"),
        ("k=1,2,1", "appears twice"),
        ("k=1,,2", "empty value"),
        ('k="a,b', "unbalanced"),
        ("data.paths=a.gz", "cannot be swept"),
        ("run.output_dir=x", "cannot be swept"),
    ],
)
def test_malformed_grid_options_are_refused_quoting_them(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_axis(text)


def test_commas_inside_quotes_and_brackets_do_not_split() -> None:
    axis = parse_axis('k="a,b",[1, 2],"say \\"hi, there\\""')
    assert axis.values == ("a,b", [1, 2], 'say "hi, there"')


def test_the_grid_is_every_combination_first_axis_slowest() -> None:
    points = expand_grid([parse_axis("a=1,2"), parse_axis("b=x,y,z")])
    assert points == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 1, "b": "z"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
        {"a": 2, "b": "z"},
    ]
    with pytest.raises(ConfigError, match="more than once"):
        expand_grid([parse_axis("a=1"), parse_axis("a=2")])


def test_a_trial_id_depends_on_the_point_not_on_key_order() -> None:
    assert trial_id({"a": 1, "b": "x"}) == trial_id({"b": "x", "a": 1})
    assert trial_id({"a": 1}) != trial_id({"a": 2}) != trial_id({"a": "2"})
    assert len(trial_id({"a": Decimal("1")})) == 12
