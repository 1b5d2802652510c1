"""Real processes for the live-node tests: the Binance USD-M emulator and `tradewright live` nodes.

The emulator keeps running while nodes are started, killed (SIGKILL or a crash hook) and restarted. Its
durable SQLite state is read directly to see what the venue saw; the node's store is read directly to see
what the node committed. Nothing here reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.conftest import shared_data

RECORDING = "l2/hftbacktest/binance_usdm_btcusdt_20240808.jsonl.gz"
CREDENTIALS = {"BINANCE_API_KEY": "emulator-api-key", "BINANCE_API_SECRET": "emulator-api-secret"}
QUOTER = Path(__file__).with_name("quoter.py")
SYMBOL = "BTCUSDT"
IID = "BTCUSDT-PERP.BINANCE"


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEWRIGHT_", "BINANCE_"))}
    env.update(extra or {})
    return env


class Emulator:
    """`tradewright emulator serve` on a free port of 127.0.0.1, with its state file in `folder`."""

    def __init__(self, folder: Path, *, speed: float, extra: list[str] | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.state = folder / "emulator.sqlite"
        self.log = folder / "emulator.log"
        args = [
            sys.executable, "-m", "tradewright.cli.main", "emulator", "serve",
            "--venue", "binance-usdm", "--data", str(shared_data(RECORDING)),
            "--speed", str(speed), "--port", "0", "--state", str(self.state), "--json", *(extra or []),
        ]  # fmt: skip
        self._err = self.log.open("wb")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._err, env=_env())
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the emulator did not start: {self.log.read_text()[-2000:]}")
        self.port = int(json.loads(line)["port"])

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._err.close()

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(f"file:{self.state}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def client_order_ids(self) -> list[str]:
        return [r[0] for r in self.query("SELECT client_order_id FROM orders ORDER BY order_id")]

    def fills(self) -> Counter[tuple[str, str]]:
        """(trade id, client order id) of every fill the venue made, counted."""
        rows = self.query(
            "SELECT f.trade_id, o.client_order_id FROM fills f JOIN orders o ON o.order_id = f.order_id"
        )
        return Counter((str(t), c) for t, c in rows)

    def fill_cash(self) -> Decimal:
        """What the fills moved cash by, in the portfolio's convention (-side x price x size - fee)."""
        total = Decimal(0)
        for side, price, qty, commission in self.query("SELECT side, price, qty, commission FROM fills"):
            sign = 1 if side == "BUY" else -1
            total -= sign * Decimal(price) * Decimal(qty) + Decimal(commission)
        return total

    def position(self) -> tuple[Decimal, Decimal]:
        rows = self.query("SELECT amount, entry_price FROM positions WHERE symbol = ?", SYMBOL)
        return (Decimal(rows[0][0]), Decimal(rows[0][1])) if rows else (Decimal(0), Decimal(0))

    def wallet(self) -> Decimal:
        rows = self.query("SELECT balance FROM wallets WHERE asset = 'USDT'")
        return Decimal(rows[0][0])

    def open_orders(self) -> list[str]:
        return [
            r[0]
            for r in self.query(
                "SELECT client_order_id FROM orders WHERE status IN ('NEW', 'PARTIALLY_FILLED')"
            )
        ]

    def pause(self) -> None:
        """Freeze the market (its clock, book and trades); requests are still answered."""
        self.admin("POST", "/_admin/replay", {"paused": True})

    def resume(self) -> None:
        self.admin("POST", "/_admin/replay", {"paused": False})

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        import urllib.request

        request = urllib.request.Request(
            f"http://{self.url}{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read() or b"null")


def write_config(folder: Path, emulator: Emulator, store_url: str, **sections: dict[str, Any]) -> Path:
    """A live config for the quoter on the emulator; `sections` override keys per section."""
    config: dict[str, dict[str, Any]] = {
        "node": {
            "name": "crash",
            "snapshot_interval_s": 1.0,
            "shutdown_timeout_s": 8.0,
            "min_order_age_s": 2.0,
        },
        "venue": {
            "symbol": SYMBOL,
            "rest_url": f"http://{emulator.url}",
            "ws_url": f"ws://{emulator.url}",
            "rate_limit": False,
            "timeout_ms": 5000,
        },
        "store": {"url": store_url},
        "reconcile": {"interval_s": 3.0},
        "strategy": {"path": str(QUOTER), "class": "CrashQuoter", "id": "Q"},
        "risk": {},
    }
    for name, values in sections.items():
        config.setdefault(name, {}).update(values)
    params = config.pop("params", {"size": "0.002", "max_position": "0.010", "offset_ticks": 0})
    lines: list[str] = []
    for name, values in config.items():
        lines.append(f"[{name}]")
        lines.extend(f"{k} = {_toml(v)}" for k, v in values.items())
        lines.append("")
    lines.append("[strategy.params]")
    lines.extend(f"{k} = {_toml(v)}" for k, v in params.items())
    path = folder / "live.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value))


class Node:
    """One `tradewright live` process; its log (stderr) goes to a file read by the waits below."""

    def __init__(
        self,
        config: Path,
        log: Path,
        env: dict[str, str] | None = None,
        *,
        max_file_bytes: int | None = None,
        args: list[str] | None = None,
        launcher: list[str] | None = None,
    ) -> None:
        """`max_file_bytes`: no file the node writes may grow beyond this (RLIMIT_FSIZE): a full disk.
        `args`: more command-line arguments (e.g. ``--log-level DEBUG``). `launcher`: what runs
        ``live CONFIG ARGS`` instead of ``python -m tradewright.cli.main`` (e.g. the image's entrypoint)."""
        self.log = log
        self._out = log.open("wb")
        limit = None
        if max_file_bytes is not None:

            def limit() -> None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

        self.proc = subprocess.Popen(
            [
                *(launcher or [sys.executable, "-m", "tradewright.cli.main"]),
                "live",
                str(config),
                *(args or []),
            ],
            stdout=subprocess.DEVNULL,
            # Under a file size limit the log goes through a pipe (which has none) to our file.
            stderr=self._out if limit is None else subprocess.PIPE,
            env=_env({**CREDENTIALS, **(env or {})}),
            preexec_fn=limit,
        )
        self._pump: threading.Thread | None = None
        if limit is not None:
            self._pump = threading.Thread(target=self._copy_log, daemon=True)
            self._pump.start()
        self.prefix: str | None = None

    def _copy_log(self) -> None:
        assert self.proc.stderr is not None
        for chunk in iter(lambda: self.proc.stderr.read1(65536), b""):  # type: ignore[union-attr]
            self._out.write(chunk)
            self._out.flush()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        """Never leave a node behind, whatever the test did."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._out.close()

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout_s: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout_s
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            found = regex.search(self.text())
            if found is not None:
                return found
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(
            f"the node never logged {pattern!r} (exit {self.proc.poll()}):\n{self.text()[-4000:]}"
        )

    def wait_started(self, timeout_s: float = 90) -> str:
        """Wait for trading to start; return this run's client order id prefix."""
        self.prefix = self.wait_for(r"client order ids (\S+)-\*", timeout_s).group(1)
        return self.prefix

    def kill(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        return self.wait_exit(10)

    def terminate(self, timeout_s: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait_exit(timeout_s)

    def wait_exit(self, timeout_s: float) -> int:
        try:
            code = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"the node did not exit in {timeout_s} s:\n{self.text()[-4000:]}") from None
        if self._pump is not None:
            self._pump.join(timeout=10)
        self._out.close()
        return code


def wait_until(predicate: Any, timeout_s: float, what: str, poll_s: float = 0.1) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


class StoreView:
    """Read the node's store directly (SQLite or PostgreSQL), as an operator would."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    def fills(self) -> Counter[tuple[str, str]]:
        return Counter((str(t), c) for t, c in self.rows("SELECT trade_id, client_order_id FROM fills"))

    def client_order_ids(self) -> set[str]:
        return {r[0] for r in self.rows("SELECT client_order_id FROM orders")}

    def position(self) -> Decimal:
        rows = self.rows("SELECT quantity FROM positions WHERE instrument_id = :iid", iid=IID)
        return Decimal(str(rows[0][0])) if rows else Decimal(0)

    def balance(self) -> Decimal:
        rows = self.rows("SELECT total FROM balances WHERE currency = 'USDT'")
        return Decimal(str(rows[0][0])) if rows else Decimal(0)

    def statuses(self) -> Counter[str]:
        return Counter(r[0] for r in self.rows("SELECT status FROM orders"))

    def open_orders(self) -> list[str]:
        finished = ("DENIED", "REJECTED", "FILLED", "CANCELED", "EXPIRED")
        return [r[0] for r in self.rows("SELECT client_order_id, status FROM orders") if r[1] not in finished]

    def rejections(self) -> Counter[str]:
        rows = self.rows(
            "SELECT payload FROM order_events WHERE event_type IN ('OrderRejected', 'OrderDenied')"
        )
        return Counter(json.loads(r[0])["reason"] for r in rows)

    def audits(self) -> Counter[str]:
        return Counter(
            f"{r[0]}:{r[1]}" for r in self.rows("SELECT actor, action FROM audit WHERE actor = 'reconcile'")
        )

    def risk_events(self) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in self.rows("SELECT kind, message FROM risk_events ORDER BY id")]

    def last_snapshot(self) -> tuple[dict[str, Any], int] | None:
        """The quoter's newest snapshot and its fill watermark (the last fill it had seen)."""
        rows = self.rows(
            "SELECT state, last_fill_id FROM strategy_state WHERE strategy_id = 'Q' ORDER BY id DESC LIMIT 1"
        )
        return None if not rows else (json.loads(rows[0][0]), int(rows[0][1]))

    def close(self) -> None:
        self.engine.dispose()
