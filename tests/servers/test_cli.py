"""`tradewright venues serve` and `tradewright markets`, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, shared_data
from tradewright.cli.main import main


def _serve(*args: str) -> tuple[subprocess.Popen[str], dict]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tradewright.cli.main", "venues", "serve", *args, "--json"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(10)
        pytest.fail(f"the server did not start: {proc.stderr.read() if proc.stderr else ''}")
    return proc, json.loads(line)


def test_venues_serve_prints_where_it_listens_and_markets_lists_the_recorded_instruments(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = shared_data("venues/okx/cryptofeed_raw")
    proc, info = _serve("--venue", "okx", "--data", str(data), "--pacing", "fast")
    try:
        assert info["url"].startswith("http://127.0.0.1:") and info["accounts"] == ["local-okx-key"]
        code = main(
            [
                "markets",
                "--venue",
                "okx",
                "--search",
                "uni-usd",
                "--rest-url",
                info["url"],
                "--ws-url",
                info["ws_url"],
                "--json",
            ]
        )
        rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert code == 0
        assert {r["symbol"] for r in rows} >= {"UNI-USD-SWAP"}
        swap = next(r for r in rows if r["symbol"] == "UNI-USD-SWAP")
        assert (swap["tick_size"], swap["lot_size"], swap["kind"]) == ("0.001", "1", "swap")
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.returncode == 0


def test_venues_serve_refuses_a_missing_recording_and_an_unknown_fault(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["venues", "serve", "--venue", "okx", "--data", str(tmp_path / "nothing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    data = str(shared_data("venues/okx/cryptofeed_raw"))
    assert main(["venues", "serve", "--venue", "okx", "--data", data, "--fault", "teleport=1"]) == 2
    assert "teleport" in capsys.readouterr().err
