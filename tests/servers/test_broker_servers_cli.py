"""`tradewright venues serve --venue ib|alpaca`: the local broker servers start from the command line on
127.0.0.1, announce where they listen, answer their venue's own clients, and stop on SIGINT."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys

import pytest

from tests.conftest import shared_data


def serve(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tradewright.cli.main", "venues", "serve", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, line


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 0


def test_the_ib_server_serves_the_tws_protocol_to_ib_async_and_stops_on_sigint() -> None:
    from ib_async import IB, Future

    data = shared_data("bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz")
    proc, line = serve("--venue", "ib", "--data", str(data), "--seconds-per-bar", "60")
    try:
        match = re.search(r"on 127\.0\.0\.1:(\d+); account DU1234567", line)
        assert match, line

        async def client() -> list[str]:
            ib = IB()
            await ib.connectAsync("127.0.0.1", int(match.group(1)), clientId=3, timeout=5)
            try:
                details = await ib.reqContractDetailsAsync(Future("6E", "202403", "CME"))
                return [str(d.contract.localSymbol) for d in details]
            finally:
                ib.disconnect()

        assert asyncio.run(client()) == ["6EH4"]
    finally:
        stop(proc)


def test_the_alpaca_server_answers_alpaca_py_with_the_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from alpaca.trading.client import TradingClient

    data = shared_data("bars/backtrader/nvda-1999-2014.txt")
    monkeypatch.setenv("APCA_API_KEY_ID", "AKCLI0000000000001")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "cli-secret")
    proc, line = serve("--venue", "alpaca", "--data", f"{data}=NVDA", "--from-date", "2014-01-02")
    try:
        match = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
        assert match and "cli-secret" not in line, line
        client = TradingClient("AKCLI0000000000001", "cli-secret", url_override=match.group(1), raw_data=True)
        asset = client.get_asset("NVDA")
        assert asset["symbol"] == "NVDA" and asset["class"] == "us_equity"  # type: ignore[index]
    finally:
        stop(proc)


def test_serving_without_data_is_refused_naming_the_option() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tradewright.cli.main", "venues", "serve", "--venue", "ib"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2 and "--data PATH[=SYMBOL]" in result.stderr


def test_with_json_the_broker_servers_print_one_json_line_with_their_port_and_no_secret() -> None:
    import json
    import socket

    ib_data = shared_data("bars/nautilus/6EH4.XCME_1min_bars_20240101_20240131.csv.gz")
    proc, line = serve("--venue", "ib", "--data", str(ib_data), "--json")
    try:
        info = json.loads(line)
        assert info["venue"] == "ib" and info["accounts"] == ["DU1234567"]
        socket.create_connection(("127.0.0.1", info["port"]), timeout=5).close()
    finally:
        stop(proc)
    alpaca_data = shared_data("bars/backtrader/nvda-1999-2014.txt")
    proc, line = serve("--venue", "alpaca", "--data", f"{alpaca_data}=NVDA", "--from-date", "2014-01-02", "--json")
    try:
        info = json.loads(line)
        assert info["url"] == f"http://127.0.0.1:{info['port']}" and info["accounts"] == ["AKLOCAL0000000000001"]
        assert "secret" not in line
    finally:
        stop(proc)
