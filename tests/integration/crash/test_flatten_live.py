"""`tradewright flatten --pid` against a live node trading on the Binance USD-M emulator, and the
refusal to signal anything that is not a tradewright node.

The node quotes (the crash tests' quoter) until it holds a position; `tradewright flatten --pid` then
must leave nothing behind at the venue — no open order, a flat position — and the node must exit 0
with the reason in its log and its run record. A SIGTERM with `risk.close_positions_on_sigterm` must
do the same (docs/risk.md promises it).
"""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.integration.crash.harness import Emulator, Node, StoreView, wait_until, write_config

pytestmark = pytest.mark.slow


def flatten(pid: int, reason: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradewright.cli.main", "flatten", "--pid", str(pid), "--reason", reason],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _quote_until_a_position(emulator: Emulator, node: Node) -> None:
    node.wait_started()
    wait_until(lambda: emulator.position()[0] != 0, 90, "the node to hold a position at the venue")
    wait_until(lambda: len(emulator.open_orders()) > 0, 30, "the node to have quotes working")


def test_flatten_pid_leaves_a_live_node_flat_with_no_open_order_and_it_exits_0(tmp_path: Path) -> None:
    emulator = Emulator(tmp_path / "emulator", speed=4.0)
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    config = write_config(tmp_path, emulator, url)
    store = StoreView(url)
    try:
        with Node(config, tmp_path / "node.log") as node:
            _quote_until_a_position(emulator, node)

            sent = flatten(node.proc.pid, "drill: flatten the live node")

            assert sent.returncode == 0, sent.stderr
            assert f"(pid {node.proc.pid})" in sent.stdout
            assert node.wait_exit(60) == 0, node.text()[-3000:]
        assert emulator.open_orders() == []
        assert emulator.position()[0] == Decimal(0)
        log = node.text()
        assert "flattened on request: drill: flatten the live node" in log
        status = store.rows("SELECT exit_status FROM runs ORDER BY started_ns DESC LIMIT 1")[0][0]
        assert "drill: flatten the live node" in status
        assert any("drill: flatten the live node" in message for _, message in store.risk_events())
    finally:
        store.close()
        emulator.stop()


def test_sigterm_closes_the_live_position_when_configured(tmp_path: Path) -> None:
    emulator = Emulator(tmp_path / "emulator", speed=4.0)
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    config = write_config(tmp_path, emulator, url, risk={"close_positions_on_sigterm": True})
    try:
        with Node(config, tmp_path / "node.log") as node:
            _quote_until_a_position(emulator, node)

            assert node.terminate(60) == 0, node.text()[-3000:]
        assert emulator.open_orders() == []
        assert emulator.position()[0] == Decimal(0)
        assert "risk.close_positions_on_sigterm" in node.text()
    finally:
        emulator.stop()


def test_flatten_refuses_a_process_that_is_not_a_tradewright_node_and_leaves_it_running() -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        result = flatten(sleeper.pid, "must not reach sleep")

        assert result.returncode == 2
        assert f"pid {sleeper.pid} is not a running tradewright node" in result.stderr
        assert "nothing was sent" in result.stderr
        assert sleeper.poll() is None, "the process was signalled"
    finally:
        sleeper.kill()
        sleeper.wait()


def test_flatten_refuses_a_pid_whose_control_file_another_process_left(tmp_path: Path) -> None:
    from tradewright.live.control import control_dir

    sleeper = subprocess.Popen(["sleep", "60"])
    stale = control_dir() / f"tradewright-node-{sleeper.pid}.json"
    # A node that died long ago with this pid: its process start time is not the sleeper's.
    stale.write_text(
        f'{{"pid": {sleeper.pid}, "nonce": "x", "process_start": "1", "mode": "live", "name": "old"}}'
    )
    try:
        result = flatten(sleeper.pid, "must not reach sleep")

        assert result.returncode == 2
        assert "now belongs to another process" in result.stderr
        assert sleeper.poll() is None
    finally:
        stale.unlink(missing_ok=True)
        sleeper.kill()
        sleeper.wait()
