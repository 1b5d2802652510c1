"""A live node loads only what live trading needs: no compiler (numba/llvmlite), no pandas or pyarrow,
no backtester. Checked in a fresh interpreter, since this test process has loaded all of them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

_HEAVY = ("numba", "llvmlite", "pandas", "pyarrow", "tradewright.backtest", "tradewright.sim")


def _modules_loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {_HEAVY!r} if m in sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    loaded: list[str] = json.loads(out.strip().splitlines()[-1])
    return loaded


def test_importing_the_live_node_loads_no_numba_pandas_pyarrow_or_backtester() -> None:
    assert _modules_loaded_after("import tradewright.live.node") == []


def test_the_live_command_path_loads_no_numba_pandas_pyarrow_or_backtester() -> None:
    pytest.importorskip("ccxt")
    # What `tradewright live CONFIG` imports before the node starts: the CLI's parser (every command
    # group registers itself) and the modules its `live` command loads.
    code = (
        "from tradewright.cli.main import build_parser\n"
        "build_parser().parse_args(['live', 'config.toml'])\n"
        "import ccxt\n"
        "import tradewright.live.config, tradewright.live.crash, tradewright.live.node\n"
        "import tradewright.store.sql_store, tradewright.venues.binance.config\n"
    )
    assert _modules_loaded_after(code) == []


def test_the_backtest_path_still_compiles_the_same_ladder() -> None:
    # The other side of the switch: once the replay path is loaded, books use the compiled kernels.
    code = "import tradewright.backtest.engine\nfrom tradewright.model._ladder import KERNELS\nassert KERNELS.compiled"
    assert "numba" in _modules_loaded_after(code)


def test_the_multi_venue_node_loads_no_numba_pandas_pyarrow_or_backtester() -> None:
    pytest.importorskip("ccxt")
    code = (
        "import tradewright.live.multi, tradewright.live.alerts, tradewright.live.multi_config\n"
        "import tradewright.cli.multi_cmd, tradewright.risk.budget, tradewright.venues.okx\n"
    )
    assert _modules_loaded_after(code) == []
