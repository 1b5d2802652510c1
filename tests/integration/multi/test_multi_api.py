"""The multi-venue node serves the operator API like the single-venue one: each venue with its own
health and market-data counters (FeedStats), each market in the status report, every strategy."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.multi.harness import KEYS, eventually, two_venues, write_config
from tests.integration.multi.test_multi_node import QUOTERS
from tests.servers.support import run
from tradewright.api.server import api_service
from tradewright.cli.main import main
from tradewright.live.multi import MultiNode
from tradewright.live.multi_config import load_multi_config
from tradewright.store.sql_store import SqlStateStore
from tradewright.venues.registry import venue_package


def test_the_api_shows_every_venue_feed_and_strategy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'multi.sqlite'}"
    assert main(["api", "key", "create", "--name", "ops", "--role", "viewer", "--url", url]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]

    async def body() -> None:
        async with two_venues() as (okx, gate):
            path = write_config(tmp_path, okx, gate, QUOTERS + "\n[api]\nenabled = true\nport = 0\n")
            config, venues, tasks = load_multi_config(path)
            creds = {v.name: venue_package(v.kind).credentials(v.config, KEYS) for v in venues}
            store = SqlStateStore(config.store)
            served: list[Any] = []
            node = MultiNode(
                config,
                venues,
                tasks,
                creds,
                store,
                services=[api_service(config.api, store=store, on_ready=served.append)],
            )
            stop = asyncio.Event()
            running = asyncio.create_task(node.run(stop))
            try:
                await eventually(lambda: bool(served), what="the API serving")
                headers = {"Authorization": f"Bearer {key}"}
                async with httpx.AsyncClient(base_url=served[0].url, headers=headers, timeout=10) as client:

                    async def venues_seen() -> list[dict[str, Any]]:
                        return list((await client.get("/api/v1/venues")).json())

                    deadline = asyncio.get_running_loop().time() + 20
                    rows = await venues_seen()
                    while (
                        not all(r["book_updates"] > 0 for r in rows)
                        and asyncio.get_running_loop().time() < deadline
                    ):
                        await asyncio.sleep(0.2)
                        rows = await venues_seen()
                    status = (await client.get("/api/v1/system/status")).json()
                    strategies = (await client.get("/api/v1/strategies")).json()
                    system = (await client.get("/api/v1/system")).json()
            finally:
                stop.set()
                code = await running
                store.close()
        assert code == 0, node.stop_reason
        assert [(r["venue"], r["health"]) for r in rows] == [("gate", "UP"), ("okx", "UP")]
        assert all(r["book_updates"] > 0 and r["book_resyncs"] == 0 for r in rows)
        assert {m["instrument_id"] for m in status["markets"]} == {"BTC-USDT.OKX", "RDNT_USDT-PERP.GATE"}
        assert {(s["strategy_id"], s["state"], *s["instruments"]) for s in strategies} == {
            ("Q_1", "running", "BTC-USDT.OKX"),
            ("Q_2", "running", "RDNT_USDT-PERP.GATE"),
        }
        assert system["mode"] == "live"

    run(body(), timeout=120)
