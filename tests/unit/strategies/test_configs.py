"""Every strategy's config is checked when the run config loads: bad values name the field and the range.

Also the bar-data keys of `[data]` and `[venue]`, and the futures spec table they draw on.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tradewright.backtest.runner import run_backtest
from tradewright.config.run import load_run_config
from tradewright.core.errors import ConfigError
from tradewright.core.ids import InstrumentId
from tradewright.model.contracts import CONTRACTS, contract_root, futures_instrument
from tradewright.strategy.loader import make_strategy

L2_DATA = '[data]\npaths = ["x.jsonl.gz"]\nformat = "binance"\n'
BAR_DATA = '[data]\npaths = ["x.csv"]\nformat = "bars"\ninstrument = "MNQH4.XCME"\n'
REQUIRED = {
    "AvellanedaStoikov": 'order_size = "0.002"\nmax_inventory = "0.01"\n',
    "SpreadQuoter": 'bid_sizes = ["0.002"]\nask_sizes = ["0.002"]\nmax_inventory = "0.01"\n',
    "Grid": 'order_size = "1"\n',
    "SmaCross": "",
    "VwapPullback": "",
    "OpeningRangeRetest": "",
    "MeanReversion": "",
    "CrossVenueArb": 'instruments = ["BTCUSDT.BINANCE", "BTCUSDT-PERP.BINANCE"]\nmax_size_base = "0.01"\n',
}
BAR_STRATEGIES = ["Grid", "SmaCross", "VwapPullback", "OpeningRangeRetest", "MeanReversion"]


def load(tmp_path: Path, strategy: str, params: str, data: str | None = None) -> object:
    """Load a run config for `strategy` with `params` (which replace the required keys they name)."""
    data = data or (BAR_DATA if strategy in BAR_STRATEGIES else L2_DATA)
    given = {line.split("=")[0].strip() for line in params.splitlines() if "=" in line}
    required = "".join(
        line + "\n" for line in REQUIRED[strategy].splitlines() if line.split("=")[0].strip() not in given
    )
    text = f'{data}\n[strategy]\nmodule = "tradewright.strategies"\nclass = "{strategy}"\n\n'
    text += f"[strategy.params]\n{required}{params}"
    path = tmp_path / "run.toml"
    path.write_text(text)
    config = load_run_config(path)
    return make_strategy(config, InstrumentId.parse("MNQH4.XCME"))


@pytest.mark.parametrize("strategy", sorted(REQUIRED))
def test_every_strategy_loads_with_its_defaults_and_refuses_an_unknown_key(
    strategy: str, tmp_path: Path
) -> None:
    assert load(tmp_path, strategy, "") is not None
    with pytest.raises(ConfigError, match=r"unknown config key `strategy\.params\.ofset_ticks`"):
        load(tmp_path, strategy, "ofset_ticks = 1\n")


@pytest.mark.parametrize("strategy", BAR_STRATEGIES)
def test_a_zero_atr_period_is_refused_naming_the_field_and_its_range(strategy: str, tmp_path: Path) -> None:
    params = 'spacing = "atr"\natr_period = 0\n' if strategy == "Grid" else "atr_period = 0\n"
    with pytest.raises(ConfigError, match=r"`strategy\.params\.atr_period`: Expected `int` >= 1"):
        load(tmp_path, strategy, params)


@pytest.mark.parametrize(
    ("strategy", "params", "message"),
    [
        (
            "SpreadQuoter",
            "half_spread_bps = -0.5\n",
            r"`strategy\.params\.half_spread_bps`: Expected `float` >= 0\.0",
        ),
        (
            "SpreadQuoter",
            "level_spacing_ticks = 0\n",
            r"`strategy\.params\.level_spacing_ticks`: Expected `int` >= 1",
        ),
        (
            "AvellanedaStoikov",
            "risk_aversion = 0\n",
            r"`strategy\.params\.risk_aversion`: Expected `float` > 0\.0",
        ),
        (
            "AvellanedaStoikov",
            "min_spread_ticks = -1\n",
            r"`strategy\.params\.min_spread_ticks`: Expected `int` >= 1",
        ),
        ("Grid", "spacing_ticks = -3\n", r"`strategy\.params\.spacing_ticks`: Expected `int` >= 1"),
        ("Grid", "levels = 101\n", r"`strategy\.params\.levels`: Expected `int` <= 100"),
        ("MeanReversion", "rsi_low = 120.0\n", r"`strategy\.params\.rsi_low`: Expected `float` <= 100\.0"),
        ("SmaCross", "stop_atr = -1.0\n", r"`strategy\.params\.stop_atr`: Expected `float` >= 0\.0"),
    ],
)
def test_out_of_range_values_are_refused_naming_the_field_and_the_range(
    strategy: str, params: str, message: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, strategy, params)


@pytest.mark.parametrize("strategy", ["AvellanedaStoikov", "SpreadQuoter"])
def test_a_negative_minimum_quote_lifetime_is_refused(strategy: str, tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"`strategy\.params\.quotes\.min_quote_lifetime_ms`: Expected `int` >= 0"
    ):
        load(tmp_path, strategy, "\n[strategy.params.quotes]\nmin_quote_lifetime_ms = -1\n")


@pytest.mark.parametrize(
    ("strategy", "params", "message"),
    [
        ("SmaCross", 'risk_per_trade = "-100"\n', r"`risk_per_trade` must be a number > 0, got -100"),
        ("SmaCross", "fast = 30\nslow = 10\n", r"`fast` \(30\) must be below `slow` \(10\)"),
        (
            "SmaCross",
            'sizing = "atr"\nstop_atr = 0.0\ntarget_r = 0.0\n',
            r"`stop_atr` must be > 0 with sizing",
        ),
        (
            "MeanReversion",
            "rsi_low = 70.0\nrsi_high = 30.0\n",
            r"`rsi_low` \(70\.0\) must be below `rsi_high`",
        ),
        (
            "AvellanedaStoikov",
            'max_inventory = "0.001"\n',
            r"`max_inventory` \(0\.001\) must be >= `order_size`",
        ),
        ("SpreadQuoter", 'bid_sizes = ["-1"]\n', r"`bid_sizes` must hold numbers > 0"),
    ],
)
def test_decimal_and_cross_field_rules_are_refused_with_the_field_named(
    strategy: str, params: str, message: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, strategy, params)


# --- [data] and [venue] for bars --------------------------------------------------------------------------


def test_bar_only_data_keys_are_refused_on_an_l2_run(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r'`data\.contract` applies to bar data only \(`data\.format = "bars"`\)'
    ):
        load(tmp_path, "SmaCross", "", data=L2_DATA + 'contract = "MNQ"\n')


def test_a_bar_config_needs_an_instrument_id(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"bar data needs `data\.instrument`"):
        load(tmp_path, "SmaCross", "", data='[data]\npaths = ["x.csv"]\nformat = "bars"\n')


def test_bar_fill_keys_are_refused_on_l2_runs_and_l2_venue_keys_on_bar_runs(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    strategy = '[strategy]\nmodule = "tradewright.strategies"\nclass = "SmaCross"\n'
    path.write_text(L2_DATA + "[venue]\nslippage_ticks = 1\n" + strategy)
    with pytest.raises(ConfigError, match=r"`venue\.slippage_ticks` applies to bar data only"):
        run_backtest(load_run_config(path), out=str(tmp_path / "out"))
    bars = tmp_path / "bars.csv"
    bars.write_text(
        "timestamp,open,high,low,close,volume\n2024-01-02 14:30:00,100.00,100.25,99.75,100.00,5\n"
    )
    path.write_text(BAR_DATA.replace("x.csv", str(bars)) + '[venue]\nqueue_model = "power"\n' + strategy)
    with pytest.raises(ConfigError, match=r"`venue\.queue_model` applies to L2 data only"):
        run_backtest(load_run_config(path), out=str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_a_non_futures_bar_instrument_needs_its_tick_size(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    bars = tmp_path / "bars.csv"
    bars.write_text(
        "timestamp,open,high,low,close,volume\n2024-01-02 14:30:00,100.00,100.25,99.75,100.00,5\n"
    )
    path.write_text(
        f'[data]\npaths = ["{bars}"]\nformat = "bars"\ninstrument = "ABC.XNAS"\n'
        '[strategy]\nmodule = "tradewright.strategies"\nclass = "SmaCross"\n'
    )
    with pytest.raises(ConfigError, match=r"`data\.tick_size` is required for ABC\.XNAS"):
        run_backtest(load_run_config(path), out=str(tmp_path / "out"))


def test_the_spec_table_gives_mnq_its_tick_value_and_reads_the_root_from_a_dated_symbol() -> None:
    mnq = futures_instrument("MNQZ24.XCME")
    assert (mnq.tick_size, mnq.multiplier, CONTRACTS["MNQ"].tick_value) == (
        Decimal("0.25"),
        2,
        Decimal("0.50"),
    )
    assert (
        contract_root("6EH4") == "6E" and contract_root("ESM25") == "ES" and contract_root("BTCUSDT") is None
    )
    euro = futures_instrument("6EH4.XCME")
    assert euro.tick_size == Decimal("0.00005") and euro.multiplier == 125_000
    globex, rth = euro.sessions
    assert (globex.name, str(globex)) == ("globex", "17:00-16:00 America/Chicago")
    # 17:00 Chicago is 23:00 UTC in January and 22:00 UTC in July (daylight saving).
    assert globex.start_ns(1_704_200_000_000_000_000) == 1_704_150_000_000_000_000  # 2024-01-01 23:00 UTC
    assert globex.start_ns(1_720_000_000_000_000_000) == 1_719_957_600_000_000_000  # 2024-07-02 22:00 UTC
    assert not rth.contains(1_704_150_000_000_000_000) and rth.contains(1_704_204_000_000_000_000)
    with pytest.raises(KeyError, match="the table knows"):
        futures_instrument("ZZZH4.XCME")
