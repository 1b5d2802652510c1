"""The kill switch in paper mode, driven the way an operator drives it: --flatten-after, `tradewright
flatten --pid`, and SIGTERM with risk.close_positions_on_sigterm."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

DEMO = REPO / "examples" / "demo_mm.toml"


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tradewright.cli.main", *args]


def wait_until_ready(proc: subprocess.Popen[str], timeout_s: float = 120) -> None:
    """Read the node's stderr until it says it is running (signals are handled from then on)."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout_s
    seen = ""
    while "tradewright flatten --pid" not in seen:
        assert time.monotonic() < deadline, f"paper node not ready after {timeout_s} s: {seen}"
        assert proc.poll() is None, seen + proc.stderr.read()
        ready, _, _ = select.select([proc.stderr], [], [], 1.0)
        if ready:
            seen += proc.stderr.readline()


def events(folder: Path) -> list[dict[str, Any]]:
    with (folder / "events.jsonl").open() as fh:
        return [json.loads(line) for line in fh]


def config_with_risk(tmp_path: Path, risk: str) -> Path:
    text = (
        DEMO.read_text()
        .replace('path = "symmetric_mm.py"', f'path = "{REPO / "examples" / "symmetric_mm.py"}"')
        .replace('"../data/', f'"{REPO / "data"}/')
    )
    cfg = tmp_path / "demo.toml"
    cfg.write_text(text + "\n[risk]\n" + risk + "\n")
    return cfg


def assert_flat_and_recorded(summary: dict[str, Any], folder: Path, reason: str) -> dict[str, Any]:
    assert Decimal(summary["final_position"]) == 0
    assert summary["open_orders_at_end"] == 0
    (started,) = [e for e in events(folder) if e["type"] == "FlattenStarted"]
    assert started["reason"] == reason
    assert any(reason in line for line in summary["risk_events"])
    return started


@pytest.mark.slow
def test_paper_flatten_after_leaves_nothing_open_and_records_the_reason(tmp_path: Path) -> None:
    out = tmp_path / "paper"
    result = subprocess.run(
        cli(
            "paper",
            str(DEMO),
            "--speed",
            "20",
            "--duration",
            "8",
            "--flatten-after",
            "4",
            "--json",
            "--out",
            str(out),
        ),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert_flat_and_recorded(summary, out, "paper --flatten-after 4 s")
    assert summary["trading_state"] == "HALTED"
    assert summary["stop_reason"] == "duration of 8 s reached"
    finished = [e for e in events(out) if e["type"] == "FlattenFinished"]
    assert finished and finished[0]["complete"] is True


@pytest.mark.slow
def test_tradewright_flatten_reaches_a_running_paper_node(tmp_path: Path) -> None:
    out = tmp_path / "paper"
    proc = subprocess.Popen(
        cli("paper", str(DEMO), "--speed", "20", "--json", "--out", str(out)),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        wait_until_ready(proc)
        time.sleep(3)
        sent = subprocess.run(
            cli("flatten", "--pid", str(proc.pid), "--reason", "ops drill: flatten everything"),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert sent.returncode == 0, sent.stderr
        assert f"flatten requested from the paper node 'demo_mm' (pid {proc.pid})" in sent.stdout
        time.sleep(3)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    summary = json.loads(stdout)
    started = assert_flat_and_recorded(summary, out, "ops drill: flatten everything")
    assert started["actor"] == "paper"
    assert summary["trading_state"] == "HALTED"


@pytest.mark.slow
def test_sigterm_closes_positions_when_configured(tmp_path: Path) -> None:
    cfg = config_with_risk(tmp_path, "close_positions_on_sigterm = true")
    out = tmp_path / "paper"
    proc = subprocess.Popen(
        cli("paper", str(cfg), "--speed", "20", "--json", "--out", str(out)),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_ready(proc)
        time.sleep(4)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary["stop_reason"] == "stop requested (signal)"
    started = assert_flat_and_recorded(
        summary, out, "shutdown: stop requested (signal) (risk.close_positions_on_sigterm)"
    )
    assert started["actor"] == "paper:shutdown"


def test_flatten_names_a_missing_process(tmp_path: Path) -> None:
    result = subprocess.run(
        cli("flatten", "--pid", "999999999"), cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "pid 999999999 is not a running tradewright node" in result.stderr
