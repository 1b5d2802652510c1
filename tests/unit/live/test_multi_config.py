"""A multi-venue config is checked before anything connects: every venue decoded by its own package,
every market a strategy names found in its venue's symbols, one id per strategy instance, per-market
overrides over the entry's params, and the staged budget's "paper" stage refused by a live node."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tradewright.core.errors import ConfigError
from tradewright.live.multi import MultiNode
from tradewright.live.multi_config import is_multi_config, load_multi_config

VENUES = """
[venues.okx]
kind = "okx"
symbols = ["BTC-USDT", "ETH-USDT"]
rest_url = "http://127.0.0.1:9"
ws_url = "ws://127.0.0.1:9"

[venues.gate]
kind = "gate"
symbols = ["RDNT_USDT"]
rest_url = "http://127.0.0.1:9"
ws_url = "ws://127.0.0.1:9"
"""

STRATEGY = """
[[strategies]]
id = "MM"
module = "tradewright.strategies.spread_quoter"
class = "SpreadQuoter"
markets = {markets}
params = {{ size = "0.001" }}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "multi.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_one_entry_on_many_markets_is_one_strategy_each_with_its_overrides(tmp_path: Path) -> None:
    text = VENUES + STRATEGY.format(markets='["okx:BTC-USDT", "okx:ETH-USDT", "gate:RDNT_USDT"]')
    text += '[strategies.overrides."gate:RDNT_USDT"]\nsize = "5"\n'
    path = _write(tmp_path, text)
    config, venues, tasks = load_multi_config(path)
    assert is_multi_config(path)
    assert [(v.name, v.kind, v.symbols) for v in venues] == [
        ("okx", "okx", ("BTC-USDT", "ETH-USDT")),
        ("gate", "gate", ("RDNT_USDT",)),
    ]
    assert [(t.strategy_id, t.market, t.params["size"]) for t in tasks] == [
        ("MM_1", "okx:BTC-USDT", "0.001"),
        ("MM_2", "okx:ETH-USDT", "0.001"),
        ("MM_3", "gate:RDNT_USDT", "5"),
    ]
    assert tasks[2].run_config(config).strategy.id == "MM_3"


@pytest.mark.parametrize(
    ("markets", "extra", "message"),
    [
        ('["okx:SOL-USDT"]', "", r"'SOL-USDT' is not in `venues.okx.symbols` \(BTC-USDT, ETH-USDT\)"),
        ('["kraken:XMR/USD"]', "", r"is not \"<venue>:<symbol>\" with a venue of this config \(gate, okx\)"),
        ('["BTC-USDT"]', "", r"is not \"<venue>:<symbol>\""),
        ("[]", "", r"`strategies\[0\].markets`: name the markets it trades"),
        (
            '["okx:BTC-USDT"]',
            '[strategies.overrides."gate:RDNT_USDT"]\nsize = "5"\n',
            r"is not one of its markets",
        ),
        (
            '["okx:BTC-USDT"]',
            '[[strategies]]\nid = "MM"\nmodule = "m"\nclass = "C"\nmarkets = ["gate:RDNT_USDT"]\n',
            r"strategy id 'MM' is used twice",
        ),
    ],
)
def test_a_market_or_strategy_that_cannot_be_is_refused_naming_it(
    tmp_path: Path, markets: str, extra: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_multi_config(_write(tmp_path, VENUES + STRATEGY.format(markets=markets) + extra))


def test_venue_tables_are_checked_by_their_package(tmp_path: Path) -> None:
    one = STRATEGY.format(markets='["okx:BTC-USDT"]')
    with pytest.raises(ConfigError, match=r"unknown venue kind 'nasdaq'"):
        load_multi_config(_write(tmp_path, '[venues.x]\nkind = "nasdaq"\n' + one))
    with pytest.raises(ConfigError, match=r"venues\.okx\.symbol"):
        load_multi_config(_write(tmp_path, '[venues.okx]\nkind = "okx"\nsymbol = "BTC-USDT"\n' + one))
    twice = VENUES + '[venues.okx2]\nkind = "okx"\nsymbols = ["BTC-USDT"]\n'
    with pytest.raises(ConfigError, match=r"venue kind 'okx' is already `venues.okx`"):
        load_multi_config(_write(tmp_path, twice + one))
    with pytest.raises(ConfigError, match=r"\[venue\]` belongs to a single-venue config"):
        load_multi_config(_write(tmp_path, VENUES + one + '[venue]\nsymbol = "BTCUSDT"\n'))


def test_a_live_node_refuses_the_paper_stage(tmp_path: Path) -> None:
    text = (
        VENUES
        + STRATEGY.format(markets='["okx:BTC-USDT"]')
        + '[budget]\ntotal_quote = "1000"\nstage = "paper"\n'
    )
    config, venues, tasks = load_multi_config(_write(tmp_path, text))
    assert config.budget.stage_quote == Decimal(0)
    with pytest.raises(ConfigError, match=r"`budget.stage` is \"paper\": this config may not trade live yet"):
        MultiNode(config, venues, tasks, {}, None)
    node = MultiNode(config, venues, tasks, {}, None, dry_run=True)  # a dry run may look at it
    assert node.dry_run
