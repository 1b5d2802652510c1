"""The modelled quotes of a bar run: a spread by session or local-time window, the first rule that holds
the bar wins, shown around each bar's close before the strategies hear of the bar."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tradewright.config.run import load_run_config
from tradewright.core.errors import ConfigError
from tradewright.daytrade.quotes import SpreadModel
from tradewright.model.contracts import futures_instrument

SIXE = futures_instrument("6EH4.XCME")
NS = 1_000_000_000


def at(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) * NS  # type: ignore[misc]


def test_the_first_rule_that_holds_the_bar_gives_its_spread_and_default_the_rest() -> None:
    model = SpreadModel(SIXE, {"07:20-07:35 America/Chicago": 3, "rth": 1, "default": 2})
    assert model.ticks_at(at(2024, 1, 9, 13, 25)) == 3  # 07:25 Chicago: the opening minutes
    assert model.ticks_at(at(2024, 1, 9, 15, 0)) == 1  # 09:00: the day session
    assert model.ticks_at(at(2024, 1, 9, 3, 0)) == 2  # 21:00 the evening before: overnight


def test_a_session_the_instrument_lacks_is_named() -> None:
    with pytest.raises(ConfigError, match=r"6EH4\.XCME has no session 'pit' \(it has globex, rth"):
        SpreadModel(SIXE, {"pit": 1})


def test_quotes_and_a_store_are_refused_on_l2_data(tmp_path: Path) -> None:
    config = tmp_path / "l2.toml"
    config.write_text(
        '[data]\npaths = ["x.jsonl.gz"]\n[strategy]\nclass = "X"\n[venue.bar_spread_ticks]\ndefault = 1\n'
    )
    with pytest.raises(ConfigError, match="apply to bar data only"):
        load_run_config(config)


def test_a_quote_size_needs_a_spread_and_must_be_positive(tmp_path: Path) -> None:
    config = tmp_path / "bars.toml"
    base = '[data]\nformat = "bars"\npaths = ["x.csv"]\ninstrument = "6EH4.XCME"\n[strategy]\nclass = "X"\n'
    config.write_text(base + "[venue]\nbar_quote_size = 5\n")
    with pytest.raises(ConfigError, match=r"bar_quote_size` needs `venue\.bar_spread_ticks"):
        load_run_config(config)
    config.write_text(base + '[venue]\nbar_quote_size = -1\n[venue.bar_spread_ticks]\ndefault = 1\n')
    with pytest.raises(ConfigError, match="must be a number > 0"):
        load_run_config(config)
