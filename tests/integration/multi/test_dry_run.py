"""`tradewright live CONFIG --dry-run` on a two-venue config: it connects (read-only), builds every
strategy with its per-market parameters and budget share, prints the orders it would send — and sends
none (the venue servers saw no order request) and writes no store. `--log-format json` makes every log
line one JSON object. SIGTERM on a running node cancels every order on every venue and exits 0."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.integration.multi.harness import KEYS, two_venues, write_config
from tests.servers.support import run
from tradewright.store.config import StoreConfig
from tradewright.store.sql_store import SqlStateStore

CONFIG = """
[[strategies]]
id = "Q"
path = "QUOTER"
class = "Quoter"
markets = ["okx:BTC-USDT", "gate:RDNT_USDT"]
params = { size = "0.001", offset_ticks = 50 }
[strategies.overrides."gate:RDNT_USDT"]
size = "3"

[budget]
total_quote = "2000"
stage = "small"
small_pct = 10
"""


async def _cli(*args: str) -> tuple[int, str, str]:
    env = {**os.environ, **KEYS}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tradewright.cli.main",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def test_dry_run_prints_what_it_would_trade_and_sends_nothing(tmp_path: Path) -> None:
    async def body() -> None:
        async with two_venues() as (okx, gate):
            path = write_config(tmp_path, okx, gate, CONFIG)
            code, out, err = await _cli(
                "live", str(path), "--dry-run", "--dry-run-seconds", "3", "--log-format", "json"
            )
            sent = [
                r for s in (okx, gate) for r in s.requests.http() if r.method in ("POST", "PUT", "DELETE")
            ]
        assert code == 0, err
        assert "dry run: nothing was sent and nothing was written to the store" in out
        assert "venue okx (OKX): BTC-USDT.OKX" in out and "venue gate (GATE): RDNT_USDT-PERP.GATE" in out
        assert "strategy Q_1 on okx:BTC-USDT: Quoter (offset_ticks=50, size=0.001) · budget 100.00" in out
        assert "strategy Q_2 on gate:RDNT_USDT: Quoter (offset_ticks=50, size=3) · budget 100.00" in out
        wanted = [line.strip() for line in out.splitlines() if line.startswith("  Q_")]
        assert any(line.startswith("Q_1: BUY 0.001 BTC-USDT.OKX @") for line in wanted), out
        assert any(line.startswith("Q_2: SELL 3 RDNT_USDT-PERP.GATE @") for line in wanted), out
        assert sent == []  # no order reached either venue
        assert not (tmp_path / "multi.sqlite").exists()
        logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        assert logs and all({"ts", "level", "logger", "msg"} <= set(entry) for entry in logs)
        assert any("dry run: 2 strategies on 2 markets of 2 venues" in entry["msg"] for entry in logs)

    run(body(), timeout=120)


def test_sigterm_cancels_every_order_on_every_venue_and_exits_0(tmp_path: Path) -> None:
    async def body() -> None:
        async with two_venues() as (okx, gate):
            path = write_config(tmp_path, okx, gate, CONFIG.replace('stage = "small"', 'stage = "full"'))
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tradewright.cli.main", "live", str(path), "--log-format", "json",
                "--status-every", "0.5",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, **KEYS},
            )  # fmt: skip
            assert proc.stderr is not None
            lines: list[str] = []
            quoting = False
            while not quoting:
                raw = await asyncio.wait_for(proc.stderr.readline(), 60)
                assert raw, "the node ended early:\n" + "".join(lines)
                lines.append(raw.decode())
                entry = json.loads(raw) if raw.startswith(b"{") else {}
                # e.g. "status: okx UP 12 updates 0 resyncs · gate UP ... · 2/2 strategies running · 4 open orders"
                quoting = "2/2 strategies running · 4 open orders" in str(entry.get("msg", ""))
            proc.terminate()
            _, rest = await asyncio.wait_for(proc.communicate(), 60)
        err = "".join(lines) + rest.decode()
        assert proc.returncode == 0, err
        assert "shutdown: 4 cancels sent" in err
        assert "not confirmed cancelled" not in err
        assert "live: stopped (stop requested (signal))" in err
        store = SqlStateStore(StoreConfig(url=f"sqlite:///{tmp_path / 'multi.sqlite'}"))
        try:
            state = store.load_state()
        finally:
            store.close()
        assert not state.open_orders
        assert {"Q_1", "Q_2"} <= set(state.snapshots)

    run(body(), timeout=120)
