"""Real node processes for the API and latency benchmarks: a paper or live node with its API on a free
loopback port, an admin API key made for it, and the Binance USD-M emulator as the live node's venue."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RECORDING = REPO / "data" / "binance" / "binance_usdm_btcusdt_20240808.jsonl.gz"
_URL = re.compile(r"dashboard and API: (http://127\.0\.0\.1:\d+)/")


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEWRIGHT_", "BINANCE_"))}
    env.update(extra or {})
    return env


def tw(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "tradewright.cli.main", *args], capture_output=True, text=True,
                          env=_env(), check=True)
    return done.stdout


def admin_key(store_url: str) -> str:
    return tw("api", "key", "create", "--name", "bench", "--role", "admin", "--url", store_url).strip().splitlines()[-1]


class Process:
    """A tradewright process whose stderr goes to a log file; `url` is its API once it printed it."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "tradewright.cli.main", *args], stdout=subprocess.DEVNULL,
                                     stderr=self._out, env=_env(env))
        self.url = ""

    def wait_url(self, timeout_s: float = 180) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = _URL.search(self.log.read_text(errors="replace"))
            if found:
                self.url = found.group(1)
                return self.url
            if self.proc.poll() is not None:
                raise RuntimeError(f"the node exited: {self.log.read_text()[-3000:]}")
            time.sleep(0.1)
        raise RuntimeError("the node's API did not start in time")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()


def paper_node(folder: Path, *, speed: float, duration_s: float, api: dict[str, Any] | None = None) -> tuple[Process, str]:
    """`tradewright paper` of the demo config with its API; returns (process, admin key)."""
    store = f"sqlite:///{folder / 'api.sqlite'}"
    key = admin_key(store)
    text = (REPO / "examples" / "demo_mm.toml").read_text()
    text = text.replace('"../data/', f'"{REPO / "data"}/').replace('path = "symmetric_mm.py"',
                                                                    f'path = "{REPO / "examples" / "symmetric_mm.py"}"')
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in (api or {}).items())
    text += f'\n[api]\nenabled = true\nport = 0\nstore_url = "{store}"\n{extra}'
    (folder / "paper.toml").write_text(text)
    proc = Process(["paper", str(folder / "paper.toml"), "--speed", str(speed), "--duration", str(duration_s),
                    "--out", str(folder / "run")], folder / "paper.log")
    proc.wait_url()
    return proc, key


class Emulator:
    def __init__(self, folder: Path, speed: float) -> None:
        self._log = (folder / "emulator.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tradewright.cli.main", "emulator", "serve", "--venue", "binance-usdm",
             "--data", str(RECORDING), "--speed", str(speed), "--port", "0", "--state", str(folder / "emu.sqlite"),
             "--json"], stdout=subprocess.PIPE, stderr=self._log, env=_env())
        assert self.proc.stdout is not None
        self.port = int(json.loads(self.proc.stdout.readline())["port"])

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


def live_node(folder: Path, emulator: Emulator, *, sqlite_sync: str = "FULL") -> tuple[Process, str]:
    """`tradewright live` of the demo market maker on the emulator, store and API in `folder`."""
    store = f"sqlite:///{folder / 'live.sqlite'}"
    key = admin_key(store)
    config = f"""[node]
name = "bench"
[venue]
symbol = "BTCUSDT"
rest_url = "http://127.0.0.1:{emulator.port}"
ws_url = "ws://127.0.0.1:{emulator.port}"
rate_limit = false
[store]
url = "{store}"
sqlite_synchronous = "{sqlite_sync}"
[strategy]
path = "{REPO / 'examples' / 'symmetric_mm.py'}"
class = "SymmetricMarketMaker"
id = "MM"
[strategy.params]
size = "0.002"
max_position = "0.010"
offset_ticks = 0
[api]
enabled = true
port = 0
"""
    (folder / "live.toml").write_text(config)
    proc = Process(["live", str(folder / "live.toml")], folder / "live.log",
                   env={"BINANCE_API_KEY": "emulator-api-key", "BINANCE_API_SECRET": "emulator-api-secret"})
    proc.wait_url()
    return proc, key
