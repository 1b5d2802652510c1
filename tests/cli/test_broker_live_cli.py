"""`tradewright live CONFIG.toml` with a `[broker]` table: a live node on the local IB gateway (started with
`tradewright venues serve --venue ib`) that starts, trades its strategy, stops on SIGTERM with exit 0
and leaves its run in the store; and the start refused with a clear message when the gateway is
unreachable or the broker's keys are missing."""

from __future__ import annotations

import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, shared_data

SIXE = "bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz"


def config(tmp: Path, broker: str) -> Path:
    """The futures day config's strategy and risk, on a broker."""
    example = (REPO / "examples" / "futures_day_6e.toml").read_text()
    strategy_and_risk = example[example.index("[strategy]") :]
    path = tmp / "live.toml"
    path.write_text(
        f'{broker}\n[node]\nname = "day-ib"\nbar_seconds = 60\n\n[store]\nurl = "sqlite:///{tmp / "live.sqlite"}"\n\n'
        + strategy_and_risk
    )
    return path


def live(path: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tradewright.cli.main", "live", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(path.parent), **env},
    )  # fmt: skip


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_gateway_stops_the_start_naming_the_address(tmp_path: Path) -> None:
    port = closed_port()
    path = config(
        tmp_path,
        f'[broker]\nkind = "ib"\nport = {port}\nclient_id = 5\n[[broker.instruments]]\nsymbol = "6E"',
    )
    proc = live(path)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert f"127.0.0.1:{port}" in err and "Traceback" not in err


def test_missing_alpaca_keys_stop_the_start_naming_the_variables(tmp_path: Path) -> None:
    path = config(tmp_path, '[broker]\nkind = "alpaca"\nsymbols = ["NVDA"]')
    proc = live(path)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "APCA_API_KEY_ID" in err and "Traceback" not in err


@pytest.mark.slow
def test_a_live_node_on_the_ib_gateway_runs_the_day_trader_and_stops_on_sigterm(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "tradewright.cli.main", "venues", "serve", "--venue", "ib", "--data", str(shared_data(SIXE)),
         "--seconds-per-bar", "0.05"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        match = re.search(r"on 127\.0\.0\.1:(\d+)", server.stdout.readline())
        assert match
        path = config(
            tmp_path,
            f'[broker]\nkind = "ib"\nport = {match.group(1)}\nclient_id = 9\n[[broker.instruments]]\nsymbol = "6E"',
        )
        node = live(path)
        try:
            time.sleep(8)  # it connects, reconciles and trades bars as the gateway replays them
            assert node.poll() is None, node.communicate()[1]
        finally:
            node.send_signal(signal.SIGTERM)
            _, err = node.communicate(timeout=60)
        assert node.returncode == 0, err
        assert "live on IB: DAY trading 6EH4.IB" in err and "live: stopped (stop requested (signal))" in err
        with sqlite3.connect(tmp_path / "live.sqlite") as db:
            runs = db.execute("select mode, exit_status from runs").fetchall()
            instruments = [i for (i,) in db.execute("select instrument_id from instruments")]
        assert runs == [("live", "ok")] and "6EH4.IB" in instruments
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=20)
