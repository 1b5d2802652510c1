"""The CLI faces of a running node: `tradewright api key|user`, `status [--verbose]`, `halt`, `resume` and
`flatten` (two steps through the API), as an operator types them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.api.harness import Node, demo_config, start_node
from tradewright.cli.main import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    tmp = tmp_path_factory.mktemp("cli")
    running = start_node(tmp, demo_config(tmp), speed=3.0)
    yield running
    running.stop()


def test_api_keys_are_shown_once_listed_without_secrets_and_revoked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'keys.sqlite'}"
    assert main(["api", "key", "create", "--name", "grafana", "--role", "metrics", "--url", url]) == 0
    out = capsys.readouterr().out
    key = out.strip().splitlines()[-1]
    key_id = key.split("_")[1]
    assert key.startswith("twk_") and "shown only now" in out
    assert main(["api", "key", "list", "--url", url]) == 0
    listing = capsys.readouterr().out
    assert key_id in listing and "metrics" in listing and "active" in listing and key.split("_", 2)[2] not in listing
    assert main(["api", "key", "revoke", key_id, "--url", url]) == 0
    assert main(["api", "key", "list", "--url", url]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["api", "key", "revoke", "nope0000", "--url", url]) == 2
    assert "no active API key" in capsys.readouterr().err


def test_an_account_with_a_weak_password_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'users.sqlite'}"
    monkeypatch.setenv("PW", "changeme")
    assert main(["api", "user", "add", "ops", "--role", "operator", "--password-env", "PW", "--url", url]) == 2
    assert "at least 12 characters" in capsys.readouterr().err
    monkeypatch.setenv("PW", "a perfectly long passphrase")
    assert main(["api", "user", "add", "ops", "--role", "operator", "--password-env", "PW", "--url", url]) == 0
    assert main(["api", "user", "list", "--url", url]) == 0
    assert "ops  operator" in capsys.readouterr().out


def test_status_halt_resume_and_flatten_talk_to_the_running_node(
    node: Node, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRADEWRIGHT_API_KEY", node.keys["viewer"])
    time.sleep(2)
    assert main(["status", "--url", node.url, "--verbose"]) == 0
    out = capsys.readouterr().out
    assert "PAPER" in out and "ACTIVE" in out and "BTCUSDT-PERP.BINANCE" in out
    assert "top offenders" in out and "tick_to_quote" in out and "resync ratio" in out

    assert main(["halt", "--url", node.url, "--reason", "cli drill"]) == 0  # a viewer may halt
    assert "HALTED" in capsys.readouterr().out
    assert main(["resume", "--url", node.url, "--reason", "nope"]) == 2  # but not resume
    assert "403" in capsys.readouterr().err

    monkeypatch.setenv("TRADEWRIGHT_API_KEY", node.keys["admin"])
    assert main(["resume", "--url", node.url, "--reason", "drill over"]) == 0
    assert "lifted operator" in capsys.readouterr().out
    time.sleep(2)
    assert main(["flatten", "--url", node.url, "--reason", "cli flatten", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "cancel" in out and "kill switch fired: cli flatten" in out
    deadline = time.monotonic() + 20
    with httpx.Client(base_url=node.url, headers=node.headers("viewer")) as c:
        while time.monotonic() < deadline:
            state = c.get("/api/v1/risk/state").json()
            if state["state"] == "HALTED" and not state["kill_switch_active"]:
                break
            time.sleep(0.2)
        assert state["state"] == "HALTED"
        assert all(float(p["quantity"]) == 0 for p in c.get("/api/v1/positions").json())


def test_the_cli_says_what_is_missing_without_a_key_or_a_node(monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("TRADEWRIGHT_API_KEY", raising=False)
    assert main(["status", "--url", "http://127.0.0.1:9"]) == 2
    assert "set TRADEWRIGHT_API_KEY" in capsys.readouterr().err
    monkeypatch.setenv("TRADEWRIGHT_API_KEY", "twk_00000000_x")
    assert main(["status", "--url", "http://127.0.0.1:9"]) == 2
    assert "cannot reach the node's API" in capsys.readouterr().err
