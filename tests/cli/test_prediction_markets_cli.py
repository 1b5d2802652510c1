"""The prediction-market commands, run as a user runs them (subprocesses; everything on 127.0.0.1):
`venues serve`, `markets`, `polymarket approve` (dry run, then --execute against the local chain
endpoint, after which the wallet may trade) and `turbine claim`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import shared_data
from tradewright.core.clock import LiveClock
from tradewright.core.errors import ConfigError
from tradewright.servers._core import ReplayServer
from tradewright.servers.polymarket import DEFAULT_WALLET, serve_polymarket
from tradewright.venues._common.ports import VenueHooks
from tradewright.venues.polymarket import PolymarketConfig, connect, credentials

pytestmark = pytest.mark.slow  # subprocesses: each command starts a fresh interpreter

CID = "0xdd22472e552920b8438158ea7238bfadfa4f736aa4cee91a6b86c39ead110917"
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # Hardhat #0: public test key
EXE = [sys.executable, "-m", "tradewright.cli.main"]


def tw(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*EXE, *args], capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )


@contextmanager
def serving(*args: str) -> Iterator[dict[str, Any]]:
    """`tradewright venues serve ... --json` in a subprocess; its listening line."""
    proc = subprocess.Popen(
        [*EXE, "venues", "serve", "--json", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else "no output"
        yield json.loads(line)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def in_thread(server: ReplayServer) -> Iterator[ReplayServer]:
    """A server on its own event loop in a thread (for setups the command line does not offer)."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    thread = threading.Thread(target=lambda: (asyncio.set_event_loop(loop), loop.run_forever()), daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(30)
    started.set()
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_markets_lists_a_local_polymarket_with_search_active_and_json() -> None:
    with serving(
        "--venue", "polymarket", "--data", str(shared_data("venues/polymarket")), "--start", "now"
    ) as info:
        assert info["url"].startswith("http://127.0.0.1:") and info["accounts"] == [DEFAULT_WALLET.api_key]
        urls = ("--rest-url", info["url"], "--ws-url", info["ws_url"])
        out = tw("markets", "--venue", "polymarket", *urls, "--search", "Up or Down", "--json")
        assert out.returncode == 0, out.stderr
        rows = [json.loads(line) for line in out.stdout.splitlines()]
        assert {r["base"] for r in rows} == {"Up", "Down"} and all(
            r["extra"]["neg_risk"] == "no" for r in rows
        )
        table = tw("markets", "--venue", "polymarket", *urls, "--active")
        assert table.returncode == 0 and "ends" in table.stdout and "2026-03-12T09:25" in table.stdout


def test_approve_prints_a_dry_run_then_executes_on_loopback_and_the_wallet_may_trade() -> None:
    env = {"POLYMARKET_PRIVATE_KEY": KEY}
    unapproved = serve_polymarket(str(shared_data("venues/polymarket")), wallets=[replace_approved(False)])
    with in_thread(unapproved) as server:
        cfg = PolymarketConfig(markets=[CID], rest_url=server.url, ws_url=server.ws_url)

        async def try_connect() -> None:
            venue = await connect(
                cfg, credentials(cfg, env), VenueHooks(clock=LiveClock(), emit=lambda e: None)
            )
            await venue.close()

        with pytest.raises(ConfigError, match="polymarket approve"):
            asyncio.run(try_connect())
        dry = tw("polymarket", "approve", env=env)
        assert dry.returncode == 0 and "dry run: nothing was signed or sent" in dry.stdout
        assert dry.stdout.count("approve(") == 3 and dry.stdout.count("setApprovalForAll(") == 3
        assert "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" in dry.stdout
        sent = tw("polymarket", "approve", "--execute", "--rpc-url", server.url + "/rpc", env=env)
        assert sent.returncode == 0, sent.stderr
        assert sent.stdout.count("sent ") == 6 and "6 transaction(s) confirmed" in sent.stdout
        asyncio.run(try_connect())  # approved now: the funding check passes


def replace_approved(approved: bool) -> Any:
    from dataclasses import replace

    return replace(DEFAULT_WALLET, approved=approved)


def test_approve_execute_without_a_key_or_rpc_refuses_before_sending() -> None:
    env = {k: v for k, v in os.environ.items() if k != "POLYMARKET_PRIVATE_KEY"}
    out = subprocess.run(
        [*EXE, "polymarket", "approve", "--execute"], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 2 and "POLYMARKET_PRIVATE_KEY" in out.stderr
    out = tw("polymarket", "approve", "--execute", env={"POLYMARKET_PRIVATE_KEY": KEY})
    assert out.returncode == 2 and "--rpc-url" in out.stderr


def test_turbine_serves_without_data_and_claim_with_nothing_owed_says_so(tmp_path: Path) -> None:
    env = {
        "TURBINE_PRIVATE_KEY": KEY,
        "TURBINE_API_KEY_ID": "local-turbine-key",
        "TURBINE_API_PRIVATE_KEY": "11" * 32,
    }
    with serving("--venue", "turbine") as info:
        rows = tw(
            "markets", "--venue", "turbine", "--rest-url", info["url"], "--ws-url", info["ws_url"], "--json"
        )
        assert (
            rows.returncode == 0 and len(rows.stdout.splitlines()) == 4
        )  # YES/NO of the current and next market
        out = tw(
            "turbine", "claim", "--rest-url", info["url"], "--audit", str(tmp_path / "claims.jsonl"), env=env
        )
        assert out.returncode == 0, out.stderr
        assert "nothing to claim" in out.stdout


def test_venues_serve_polymarket_without_data_is_refused() -> None:
    out = tw("venues", "serve", "--venue", "polymarket")
    assert out.returncode == 2 and "--data" in out.stderr
