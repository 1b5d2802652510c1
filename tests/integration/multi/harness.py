"""Two real venue servers on 127.0.0.1 (OKX spot and Gate futures, each replaying its real recording
over its own wire protocol) and a multi-venue node config pointing at them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from tests.servers.support import recording
from tradewright.servers._core import Pacing, ReplayServer, ServerOptions
from tradewright.servers.gate import GateProtocol
from tradewright.servers.okx import OkxProtocol

KEYS = {
    "OKX_API_KEY": "local-okx-key",
    "OKX_API_SECRET": "local-okx-secret",
    "OKX_API_PASSPHRASE": "local-okx-passphrase",
    "GATE_API_KEY": "local-gate-key",
    "GATE_API_SECRET": "local-gate-secret",
    "GATE_UID": "1",
}
QUOTER = Path(__file__).with_name("quoter.py")


@contextlib.asynccontextmanager
async def two_venues(speed: float = 1.0) -> AsyncIterator[tuple[ReplayServer, ReplayServer]]:
    """OKX and Gate servers replaying their recordings (11 s and 30 s long) `speed` times as fast."""
    okx = ReplayServer(OkxProtocol(recording("okx")), ServerOptions(pacing=Pacing.RECORDED, speed=speed))
    gate = ReplayServer(GateProtocol(recording("gate")), ServerOptions(pacing=Pacing.RECORDED, speed=speed))
    await okx.start()
    try:
        await gate.start()
        try:
            yield okx, gate
        finally:
            await gate.stop()
    finally:
        await okx.stop()


def write_config(folder: Path, okx: ReplayServer, gate: ReplayServer, body: str) -> Path:
    """A `[venues]` config for both servers, a SQLite store in `folder`, then `body` (strategies etc.)."""
    text = f"""
[node]
name = "multi-test"
snapshot_interval_s = 1
shutdown_timeout_s = 5

[venues.okx]
kind = "okx"
symbols = ["BTC-USDT"]
rest_url = "{okx.url}"
ws_url = "{okx.ws_url}"
rate_limited_pause_s = 0.1

[venues.gate]
kind = "gate"
symbols = ["RDNT_USDT"]
rest_url = "{gate.url}"
ws_url = "{gate.ws_url}"
rate_limited_pause_s = 0.1

[store]
url = "sqlite:///{folder / "multi.sqlite"}"

[reconcile]
interval_s = 0
"""
    path = folder / "multi.toml"
    path.write_text(text + body.replace("QUOTER", str(QUOTER)), encoding="utf-8")
    return path


async def eventually(check: Callable[[], bool], timeout_s: float = 20.0, what: str = "condition") -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
