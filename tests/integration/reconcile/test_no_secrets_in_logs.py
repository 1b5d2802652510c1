"""Credentials never reach a log: a live node at --log-level DEBUG (where CCXT logs every request with
its headers and signed URL) trades against the emulator with its own key and secret, through venue
errors whose messages quote URLs; not one line of its log holds the key, the secret or a signature."""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

import pytest

from tests.integration.crash.harness import Emulator, Node, wait_until, write_config


def test_a_debug_live_run_logs_neither_the_key_nor_the_secret_nor_a_signature(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, secret = f"key-{secrets.token_hex(16)}", f"secret-{secrets.token_hex(24)}"
    monkeypatch.setenv("GREP_TEST_SECRET", secret)  # the emulator reads its account's secret from here
    (tmp_path / "emulator.toml").write_text(
        f'[[accounts]]\napi_key = "{key}"\nsecret_env = "GREP_TEST_SECRET"\nbalances = {{ USDT = "100000" }}\n'
    )
    emulator = Emulator(tmp_path / "emulator", speed=4.0, extra=["--config", str(tmp_path / "emulator.toml")])
    try:
        config = write_config(tmp_path, emulator, f"sqlite:///{tmp_path / 'store.sqlite'}")
        env = {"BINANCE_API_KEY": key, "BINANCE_API_SECRET": secret}
        with Node(config, tmp_path / "node.log", env, args=["--log-level", "DEBUG"]) as node:
            node.wait_started()
            wait_until(lambda: len(emulator.client_order_ids()) >= 4, 60, "the node to send orders")
            # venue errors whose text quotes the request (CCXT puts the signed URL in them)
            emulator.admin("POST", "/_admin/faults", {"http_error": 3, "http_429": 2})
            time.sleep(3.0)
            assert node.terminate() == 0, node.text()[-3000:]
            log = node.text()
    finally:
        emulator.stop()

    lines = log.splitlines()
    assert len(lines) > 200 and any("Request:" in line for line in lines), "not a DEBUG log of CCXT requests"
    assert any("signature=***" in line for line in lines), "the signed requests are not in the log at all"
    leaks = [line for line in lines if key in line or secret in line]
    assert leaks == [], leaks[:5]
    signatures = [line for line in lines if re.search(r"signature=[0-9a-f]{16}", line)]
    assert signatures == [], signatures[:5]
