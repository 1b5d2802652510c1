"""`tradewright probe` against the local OKX and Gate servers: read-only by default (markets, keys,
clock skew, balances, open orders, a verified book — and no order request reaches the venue);
`--order-test` refuses without `--execute`; with it, the smallest order is placed far below the market,
seen open at the venue, cancelled, and nothing fills."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.integration.multi.harness import KEYS, two_venues, write_config
from tests.integration.multi.test_multi_node import QUOTERS
from tests.servers.support import run

pytestmark = pytest.mark.slow  # three CLI runs, each waiting for a verified book


async def _cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tradewright.cli.main", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, **KEYS},
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _order_requests(server: object) -> list[str]:
    return [f"{r.method} {r.path}" for r in server.requests.http() if r.method in ("POST", "DELETE")]  # type: ignore[attr-defined]


def test_probe_reads_a_venue_and_never_trades_unless_told_twice(tmp_path: Path) -> None:
    async def body() -> None:
        async with two_venues() as (okx, gate):
            path = str(write_config(tmp_path, okx, gate, QUOTERS))
            code, out, err = await _cli("probe", path, "--venue", "okx")
            assert code == 0, out + err
            assert "connected to okx (OKX)" in out and "keys accepted" in out
            assert "market BTC-USDT.OKX: tick 0.1, lot 1E-8, min size 0.00001" in out
            assert "balances " in out and "USDT 100000" in out
            assert "open orders of ours on BTC-USDT.OKX: 0" in out
            assert "book BTC-USDT.OKX: best bid " in out
            assert "clock skew: " in out
            assert _order_requests(okx) == []

            code, out, err = await _cli("probe", path, "--venue", "gate", "--order-test")
            assert code == 2 and "add --execute to confirm" in err
            assert _order_requests(gate) == []

            code, out, err = await _cli("probe", path, "--venue", "gate", "--order-test", "--execute")
            assert code == 0, out + err
            assert "order test: BUY 1 RDNT_USDT-PERP.GATE @ " in out
            assert "listed open at the venue: True" in out
            assert "order test: cancelled (CANCELED); nothing filled" in out
            placed = _order_requests(gate)
            assert any(r.startswith("POST") for r in placed) and any(r.startswith("DELETE") for r in placed)
            assert "probe gate: every check passed" in err

    run(body(), timeout=120)
