"""`tradewright live` refuses to start clearly (fail closed) and its crash hooks do what they say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tradewright.core.errors import ConfigError
from tradewright.live.config import load_live_config
from tradewright.live.crash import CrashHooks
from tradewright.live.node import order_id_prefix

CONFIG = """
[venue]
symbol = "BTCUSDT"
rest_url = "http://127.0.0.1:9"
ws_url = "ws://127.0.0.1:9"

[store]
url = "sqlite:///{store}"

[strategy]
path = "quoter.py"
class = "CrashQuoter"
id = "{strategy_id}"
"""


def write(tmp_path: Path, strategy_id: str = "Q", extra: str = "") -> Path:
    path = tmp_path / "live.toml"
    path.write_text(CONFIG.format(store=tmp_path / "s.sqlite", strategy_id=strategy_id) + extra)
    return path


def live(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradewright.cli.main", "live", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", **env},
    )


def test_without_credentials_the_node_refuses_to_start_naming_the_variables(tmp_path: Path) -> None:
    done = live(write(tmp_path), {})

    assert done.returncode == 2
    assert "missing Binance credentials: set BINANCE_API_KEY and BINANCE_API_SECRET" in done.stderr
    assert not (tmp_path / "s.sqlite").exists()  # refused before anything was opened


def test_an_unreachable_venue_refuses_to_start_and_never_shows_the_secret(tmp_path: Path) -> None:
    done = live(
        write(tmp_path), {"BINANCE_API_KEY": "key-123456789", "BINANCE_API_SECRET": "very-secret-value"}
    )

    assert done.returncode == 2
    assert "cannot load BTCUSDT from http://127.0.0.1:9" in done.stderr
    assert "very-secret-value" not in done.stderr + done.stdout


def test_config_errors_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown config key `node\.nmae`"):
        load_live_config(write(tmp_path, extra='[node]\nnmae = "x"\n'))
    with pytest.raises(ConfigError, match=r"strategy\.id"):
        load_live_config(write(tmp_path, strategy_id="has-dash"))
    config = load_live_config(write(tmp_path, extra="[reconcile]\ninterval_s = 5\ndrift_pct = 2\n"))
    assert (config.reconcile.interval_s, str(config.reconcile.drift_pct)) == (5.0, "2")


def test_crash_hooks_parse_strictly_and_exit_at_the_nth_time() -> None:
    with pytest.raises(ConfigError, match="after_intent_commit"):
        CrashHooks("after_intent_comit:1")
    with pytest.raises(ConfigError, match="N >= 1"):
        CrashHooks("fill_received:0")
    script = (
        "from tradewright.live.crash import CrashHooks\n"
        "h = CrashHooks('fill_received:3')\n"
        "for n in range(5):\n"
        "    print(n, flush=True)\n"
        "    h.reached('fill_received')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 137 and done.stdout.split() == ["0", "1", "2"]
    assert "crash hook fill_received:3 reached" in done.stderr


def test_client_order_ids_get_a_new_prefix_every_run_within_binances_limit() -> None:
    a, b = order_id_prefix(1_795_276_512_413), order_id_prefix(1_795_276_512_414)
    assert a != b and a.startswith("T") and len(f"{a}-ABCDEFGHIJKL-999999") <= 36
