"""A paper node with its API, running in a thread of the test process: the real node, kernel, simulated
venue, store, FastAPI app and uvicorn on 127.0.0.1 (a free port), replaying the bundled recording."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from tests.conftest import REPO
from tradewright.api.credentials import hash_password, hash_secret, new_api_key
from tradewright.api.server import ApiServer, api_service
from tradewright.config.run import RunConfig, load_run_config
from tradewright.data.loading import load_stream
from tradewright.live.paper import PaperNode
from tradewright.store import ApiKeyRecord, SqlStateStore, StoreConfig, UserRecord
from tradewright.strategy.loader import make_strategy

PASSWORD = "correct-horse-battery-staple"
ROLES = ("metrics", "viewer", "operator", "admin")


@dataclass
class Node:
    url: str
    keys: dict[str, str]
    store: SqlStateStore
    node: PaperNode
    thread: threading.Thread
    loop: asyncio.AbstractEventLoop
    stop_event: asyncio.Event
    errors: list[BaseException] = field(default_factory=list)

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(timeout=60)
        self.store.close()


def demo_config(tmp: Path, api: dict[str, Any] | None = None, **sections: dict[str, Any]) -> RunConfig:
    base = load_run_config(REPO / "examples" / "demo_mm.toml")
    api_section = {"enabled": True, "port": 0, **(api or {})}
    data = msgspec.to_builtins(base)
    data["api"] = api_section
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return msgspec.convert(data, RunConfig)


def make_credentials(store: SqlStateStore) -> dict[str, str]:
    keys = {}
    now = time.time_ns()
    for role in ROLES:
        text, parts = new_api_key()
        store.save_api_key(
            ApiKeyRecord(key_id=parts.key_id, name=f"test-{role}", role=role, secret_hash=hash_secret(parts),
                         created_ns=now)
        )
        keys[role] = text
    store.save_user(UserRecord(username="admin", role="admin", password_hash=hash_password(PASSWORD),
                               created_ns=now, updated_ns=now))
    store.save_user(UserRecord(username="watcher", role="viewer", password_hash=hash_password(PASSWORD),
                               created_ns=now, updated_ns=now))
    return keys


def start_node(tmp: Path, config: RunConfig, *, speed: float = 2.0, strategy: Any = None) -> Node:
    store = SqlStateStore(StoreConfig(url=f"sqlite:///{tmp / 'api.sqlite'}"))
    keys = make_credentials(store)
    stream = load_stream([config.resolve(p) for p in config.data.paths], fmt=config.data.format)
    strat = strategy if strategy is not None else make_strategy(config, stream.instrument.id)
    ready = threading.Event()
    box: dict[str, Any] = {}

    def on_ready(server: ApiServer) -> None:
        box["url"] = server.url.rstrip("/")
        ready.set()

    def main() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        stop = asyncio.Event()
        box["loop"], box["stop"] = loop, stop
        node = PaperNode(stream, strat, config, speed=speed,
                         services=[api_service(config.api, store=store, on_ready=on_ready)])
        box["node"] = node
        try:
            loop.run_until_complete(node.run(stop, duration_s=600))
        except BaseException as exc:  # surfaced by the fixture
            box.setdefault("errors", []).append(exc)
            ready.set()
        finally:
            loop.close()

    thread = threading.Thread(target=main, name="paper-node", daemon=True)
    thread.start()
    assert ready.wait(120), "the node's API did not start"
    if "url" not in box:
        raise box["errors"][0]
    return Node(box["url"], keys, store, box["node"], thread, box["loop"], box["stop"])
