"""Acceptance: killing the emulator process (SIGKILL) and starting it again on the same state file keeps
every order, fill and balance, resumes the replay where it was, and keeps resting orders in their queues."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.integration.emulator.support import admin, ccxt_clients, run, spot_path

SYMBOL = "BTC/USDT"


class Process:
    """`tradewright emulator serve` in a child process; the port comes from its JSON listening line."""

    def __init__(self, state: Path) -> None:
        cmd = [
            sys.executable,
            "-m",
            "tradewright.cli.main",
            "emulator",
            "serve",
            "--venue",
            "binance-spot",
            "--data",
            str(spot_path()),
            "--speed",
            "5",
            "--state",
            str(state),
            "--json",
        ]
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: queue.Queue[str] = queue.Queue()
        assert self.proc.stdout is not None
        threading.Thread(target=lambda: [lines.put(x) for x in self.proc.stdout], daemon=True).start()  # type: ignore[union-attr]
        try:
            self.info = json.loads(lines.get(timeout=60))
        except queue.Empty:
            self.proc.kill()
            why = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"the emulator did not start: {why}") from None
        self.port = int(self.info["port"])

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        assert self.proc.wait(timeout=10) == -signal.SIGKILL

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=20)


async def snapshot(rest: Any, port: int) -> dict[str, Any]:
    orders = await rest.fetch_orders(SYMBOL)
    return {
        "orders": [
            (o["id"], o["clientOrderId"], o["status"], o["price"], o["amount"], o["filled"]) for o in orders
        ],
        "trades": [
            (t["id"], t["order"], t["price"], t["amount"], t["fee"])
            for t in await rest.fetch_my_trades(SYMBOL)
        ],
        "balances": (await rest.fetch_balance())["info"]["balances"],
        "open": sorted(o["id"] for o in await rest.fetch_open_orders(SYMBOL)),
        "status": await admin(port, "GET", "status"),
    }


@pytest.mark.slow
def test_kill_9_and_restart_keeps_orders_fills_balances_and_queues(tmp_path: Path) -> None:
    state = tmp_path / "emulator.sqlite"
    first = Process(state)
    try:

        async def trade() -> tuple[dict[str, Any], str, str]:
            async with ccxt_clients(first.port, futures=False) as (rest, _):
                bid = (await rest.fetch_order_book(SYMBOL, 5))["bids"][0][0]
                keep = await rest.create_order(
                    SYMBOL, "limit", "buy", 0.001, float(rest.price_to_precision(SYMBOL, bid * 0.995))
                )
                await rest.create_order(SYMBOL, "market", "buy", 0.002)
                await rest.create_order(SYMBOL, "market", "sell", 0.001)
                gone = await rest.create_order(
                    SYMBOL, "limit", "sell", 0.001, float(rest.price_to_precision(SYMBOL, bid * 1.01))
                )
                await rest.cancel_order(gone["id"], SYMBOL)
                listen_key = (await rest.public_post_userdatastream())["listenKey"]
                before = await snapshot(rest, first.port)
                return before, keep["id"], listen_key

        before, keep_id, listen_key = run(trade())
        queue_before = run(admin(first.port, "GET", f"orders/{keep_id}"))
        first.kill9()
    finally:
        first.stop()

    second = Process(state)
    try:

        async def check() -> None:
            async with ccxt_clients(second.port, futures=False) as (rest, _):
                after = await snapshot(rest, second.port)
                assert after["orders"] == before["orders"]
                assert after["trades"] == before["trades"]
                assert after["balances"] == before["balances"]
                assert after["open"] == before["open"] == [keep_id]
                # the replay resumed from where it was, not from the start of the recording
                assert after["status"]["row"] >= before["status"]["row"]
                assert after["status"]["dataTimeNs"] >= before["status"]["dataTimeNs"]
                # the resting order is back in its queue, no further from the front than before
                queue_after = await admin(second.port, "GET", f"orders/{keep_id}")
                assert queue_after["queueAhead"] is not None
                assert float(queue_after["queueAhead"]) <= float(queue_before["queueAhead"])
                # the listen key survived; new ids continue after the old ones; the order still cancels
                await rest.public_put_userdatastream({"listenKey": listen_key})
                new = await rest.create_order(SYMBOL, "market", "buy", 0.001)
                assert int(new["id"]) > max(int(o[0]) for o in before["orders"])
                canceled = await rest.cancel_order(keep_id, SYMBOL)
                assert canceled["status"] == "canceled"

        run(check())
    finally:
        second.stop()


def test_usdm_positions_wallet_and_leverage_survive_a_restart(tmp_path: Path) -> None:
    from tests.integration.emulator.support import emulator, stream_of, usdm_path

    stream = stream_of(usdm_path())
    state = tmp_path / "usdm.sqlite"
    symbol = "BTC/USDT:USDT"

    async def observe(rest: Any) -> dict[str, Any]:
        account = await rest.fapiprivatev3_get_account()
        return {
            "wallet": account["totalWalletBalance"],
            "position": [
                (p["symbol"], p["contracts"], p["entryPrice"]) for p in await rest.fetch_positions()
            ],
            "trades": [(t["id"], t["price"], t["amount"]) for t in await rest.fetch_my_trades(symbol)],
            "leverage": (await rest.fapiprivatev2_get_positionrisk())[0]["leverage"],
        }

    async def session(trade: bool) -> dict[str, Any]:
        async with (
            emulator(stream, state, "binance-usdm") as server,
            ccxt_clients(server.port, futures=True) as (
                rest,
                _,
            ),
        ):
            if trade:
                await rest.set_leverage(10, symbol)
                await rest.create_order(symbol, "market", "buy", 0.005)
                await rest.create_order(symbol, "market", "sell", 0.002)
            return await observe(rest)

    before = run(session(trade=True))
    assert before["position"][0][1] == 0.003 and before["leverage"] == "10"
    assert run(session(trade=False)) == before
