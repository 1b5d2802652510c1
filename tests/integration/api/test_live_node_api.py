"""The live node serves the same operator port: `tradewright live` on the Binance USD-M emulator with
`[api] enabled`, its keys in the node's own store — reads say LIVE, commands go through the kernel to the
venue (a halt cancels the working orders at the emulator), and SIGTERM stops the API with the node."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.integration.crash.harness import Emulator, Node, write_config
from tradewright.cli.main import main

pytestmark = pytest.mark.slow


def test_a_live_node_on_the_emulator_serves_its_api_and_halts_through_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator = Emulator(tmp_path / "emu", speed=2.0)
    try:
        store = f"sqlite:///{tmp_path / 'live.sqlite'}"
        assert main(["api", "key", "create", "--name", "ops", "--role", "operator", "--url", store]) == 0
        key = capsys.readouterr().out.strip().splitlines()[-1]
        config = write_config(tmp_path, emulator, store, api={"enabled": True, "port": 0})
        with Node(config, tmp_path / "live.log") as node:
            node.wait_started()
            url = node.wait_for(r"dashboard and API: (http://127\.0\.0\.1:\d+)/", 30).group(1)
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=10) as c:
                system = c.get("/api/v1/system").json()
                assert system["mode"] == "live" and system["store"] == "sqlite"
                assert [v["health"] for v in c.get("/api/v1/venues").json()] == ["UP"]
                deadline = time.monotonic() + 30
                while not c.get("/api/v1/orders").json() and time.monotonic() < deadline:
                    time.sleep(0.2)
                assert c.get("/api/v1/orders").json(), "the quoter never quoted"
                halted = c.post("/api/v1/risk/halt", json={"reason": "live drill"})
                assert halted.status_code == 202
                deadline = time.monotonic() + 30
                while (c.get("/api/v1/orders").json() or emulator.open_orders()) and time.monotonic() < deadline:
                    time.sleep(0.2)
                assert c.get("/api/v1/orders").json() == [] and emulator.open_orders() == []
                audit = c.get("/api/v1/audit", params={"limit": 5000}).json()
                assert any(r["action"] == "risk.halt" and r["actor"].startswith("api:key:") for r in audit)
            assert node.terminate() == 0
        with pytest.raises(httpx.ConnectError):
            httpx.get(url + "/api/v1/health", timeout=2)
    finally:
        emulator.stop()
