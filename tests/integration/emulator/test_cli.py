"""`tradewright emulator serve`: flags, a TOML config and per-run faults become one checked config."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tradewright.cli.emulator_cmd import _build_config
from tradewright.cli.main import build_parser, main
from tradewright.core.errors import ConfigError


def parse(*argv: str) -> object:
    return _build_config(build_parser().parse_args(["emulator", "serve", *argv]))


def test_flags_and_per_run_faults_become_the_config(tmp_path: Path) -> None:
    config = parse(
        "--venue",
        "binance-usdm",
        "--data",
        "rec.jsonl.gz",
        "--speed",
        "25",
        "--state",
        str(tmp_path / "s.sqlite"),
        "--balance",
        "USDT=5000",
        "--fault",
        "ws_delay_ms=250",
        "--fault",
        "reject_orders=2",
        "--fault",
        "reject_code=-2019",
    )
    assert config.venue == "binance-usdm" and config.speed == 25  # type: ignore[attr-defined]
    assert config.faults.ws_delay_ms == 250 and config.faults.reject_orders == 2  # type: ignore[attr-defined]
    assert config.faults.reject_code == -2019  # type: ignore[attr-defined]
    assert config.account_list()[0].balances == {"USDT": Decimal(5000)}  # type: ignore[attr-defined]


def test_a_config_file_with_accounts_is_read_relative_to_itself(tmp_path: Path) -> None:
    (tmp_path / "emulator.toml").write_text(
        """
venue = "binance-spot"
data = ["data/rec.jsonl.gz"]
state = "state/em.sqlite"

[[accounts]]
api_key = "bot-1"
secret_env = "BOT1_SECRET"
balances = { USDT = "2500", BTC = "0.1" }

[faults]
ws_drop = 3
ws_drop_match = "depth"
"""
    )
    config = parse("--config", str(tmp_path / "emulator.toml"), "--speed", "3")
    assert config.data == [str(tmp_path / "data" / "rec.jsonl.gz")]  # type: ignore[attr-defined]
    assert config.state_path() == tmp_path / "state" / "em.sqlite"  # type: ignore[attr-defined]
    assert config.accounts[0].balances == {"USDT": Decimal(2500), "BTC": Decimal("0.1")}  # type: ignore[attr-defined]
    assert (config.faults.ws_drop, config.speed) == (3, 3.0)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fault", "ws_dorp=1"], "ws_dorp"),
        (["--fault", "reject_orders=1", "--fault", "reject_code=-7777"], "reject_msg"),
        (["--balance", "USDT"], "NAME=VALUE"),
        (["--speed", "0"], "speed"),
    ],
)
def test_bad_settings_are_refused_by_name(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse("--venue", "binance-spot", "--data", "x.jsonl.gz", *argv)


def test_the_command_exits_2_with_a_clear_message_for_a_missing_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["emulator", "serve", "--venue", "binance-spot", "--data", str(tmp_path / "none.jsonl.gz")])
    assert code == 2
    assert "data file not found" in capsys.readouterr().err
