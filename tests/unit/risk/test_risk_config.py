"""The [risk] section: defaults impose no limit; unknown keys and nonsense values are errors that name
the key; per-instrument overrides."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from tradewright.config.run import InstrumentLimits, RiskConfig, load_run_config
from tradewright.core.errors import ConfigError

BASE = """
[data]
paths = ["x.jsonl"]
[strategy]
class = "X"
module = "x"
"""


def load(tmp_path: Path, risk: str) -> RiskConfig:
    path = tmp_path / "run.toml"
    path.write_text(BASE + "[risk]\n" + risk)
    return load_run_config(path).risk


def test_no_risk_section_means_no_limits(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(BASE)
    risk = load_run_config(path).risk
    limits = [
        name
        for name in RiskConfig.__struct_fields__
        if (
            name.startswith(("max_", "min_", "daily_loss", "breaker_"))
            and not name.endswith(("_action", "_ms", "_count", "_reasons"))
        )
    ]
    assert limits and all(getattr(risk, name) in (None, False) for name in limits), {
        n: getattr(risk, n) for n in limits if getattr(risk, n) not in (None, False)
    }
    assert not risk.check_balance and not risk.close_positions_on_sigterm


def test_a_full_risk_section_loads_with_units_in_its_names(tmp_path: Path) -> None:
    risk = load(
        tmp_path,
        """
max_order_notional_quote = "5000"
price_band_bps = 50
max_orders_per_second_venue = 10
daily_loss_limit_r = 2
r_unit_quote = "100"
trading_day_start = "17:00"
trading_day_utc_offset_minutes = -300
[risk.instruments."BTCUSDT-PERP.BINANCE"]
max_position_base = "0.5"
price_band_bps = 20
""",
    )
    assert risk.max_order_notional_quote == D(5000) and risk.price_band_bps == D(50)
    assert risk.trading_day_offset_ns == 22 * 3_600_000_000_000  # 17:00 at UTC-5 is 22:00 UTC
    merged = risk.limits_for("BTCUSDT-PERP.BINANCE")
    assert (merged.max_position_base, merged.price_band_bps, merged.max_order_notional_quote) == (
        D("0.5"),
        D(20),
        D(5000),
    )
    assert risk.limits_for("ETHUSDT-PERP.BINANCE").price_band_bps == D(50)
    assert isinstance(merged, InstrumentLimits)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max_order_size = 1", "unknown config key `risk.max_order_size`"),
        ("price_band_bps = -5", "`risk.price_band_bps` must be a number > 0, got -5"),
        ('daily_loss_limit_quote = "NaN"', "`risk.daily_loss_limit_quote` must be a number > 0"),
        ("max_orders_per_second_venue = 0", "`risk.max_orders_per_second_venue`"),
        ("daily_loss_limit_r = 2", "`risk.daily_loss_limit_r` needs `risk.r_unit_quote`"),
        ('trading_day_start = "24:30"', "`risk.trading_day_start` must be HH:MM"),
        ("trading_day_utc_offset_minutes = 900", "`risk.trading_day_utc_offset_minutes`"),
        ('breaker_rejects_action = "panic"', "`risk.breaker_rejects_action`"),
        ("initial_margin_pct = 150", "`risk.initial_margin_pct` must be <= 100"),
        ("min_order_size_base = 2\nmax_order_size_base = 1", "must not exceed `risk.max_order_size_base`"),
        ('[risk.instruments."NOVENUE"]', "the key must be an instrument id SYMBOL.VENUE"),
        ('[risk.instruments."X.Y"]\nmax_position_base = 0', "`risk.instruments.X.Y.max_position_base`"),
    ],
)
def test_nonsense_is_an_error_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, text)
    assert message in str(err.value)
