"""Many nodes, one database (and the deployment's restore path), with real processes: two `tradewright
live` nodes, each started through the image's entrypoint against its own Binance USD-M emulator, share one
PostgreSQL store with different node ids. Each node's rows are exactly its venue's orders and fills, none of
the other's; `tradewright db nodes` lists both. Then the database is backed up, a fresh empty one takes
its place, and one node is started on it through the entrypoint with the backup to restore: the other
node's state comes back identical, and the restarted node carries on consistent with its venue."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from tradewright.store import SqlStateStore, StoreConfig
from tradewright.store.records import StoreState

from ..store.conftest import PgSchema, pg_unavailable
from .harness import IID, Emulator, Node, StoreView, wait_until, write_config

ENTRYPOINT = Path(__file__).resolve().parents[3] / "deploy" / "entrypoint.sh"
SPEED = 6.0
NODES = {"node-a": "QA", "node-b": "QB"}  # node id -> strategy id


def launcher_env(url: str, **extra: str) -> dict[str, str]:
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {"PATH": path, "TRADEWRIGHT_STORE_URL": url, "TRADEWRIGHT_STORE_WAIT_S": "30", **extra}


def node_rows(view: StoreView, node_id: str) -> tuple[set[str], Counter[tuple[str, str]], Decimal]:
    """A node's client order ids, fills (trade id, client order id) and position, read as an operator would."""
    ids = {r[0] for r in view.rows("SELECT client_order_id FROM orders WHERE node_id = :n", n=node_id)}
    fills = Counter(
        (str(t), c)
        for t, c in view.rows("SELECT trade_id, client_order_id FROM fills WHERE node_id = :n", n=node_id)
    )
    rows = view.rows(
        "SELECT quantity FROM positions WHERE node_id = :n AND instrument_id = :i", n=node_id, i=IID
    )
    return ids, fills, Decimal(str(rows[0][0])) if rows else Decimal(0)


def state_of(url: str, node_id: str) -> StoreState:
    store = SqlStateStore(StoreConfig(url=url, node_id=node_id))
    try:
        return store.load_state()
    finally:
        store.close()


def comparable(state: StoreState) -> tuple[object, ...]:
    return (
        {cid: (o.status, o.filled_qty, len(o.events)) for cid, o in state.orders.items()},
        {i: (p.quantity, p.realized_pnl, p.fees) for i, p in state.positions.items()},
        state.balances,
        {s: (snap.state, snap.last_fill_id) for s, snap in state.snapshots.items()},
        None if state.last_run is None else state.last_run.run_id,
    )


@pytest.mark.slow
@pytest.mark.postgres
def test_two_nodes_share_one_postgresql_without_cross_talk_and_one_restarts_from_a_backup(
    tmp_path: Path,
) -> None:
    reason = pg_unavailable()
    if reason is not None:
        pytest.skip(reason)
    first, second = PgSchema(), PgSchema()
    emulators = {n: Emulator(tmp_path / n / "emulator", speed=SPEED) for n in NODES}
    view = StoreView(first.url)
    try:
        for e in emulators.values():
            e.pause()
        configs = {
            n: write_config(
                tmp_path / n,
                emulators[n],
                first.url,
                node={"name": n},
                store={"node_id": n},
                strategy={"id": sid},
            )
            for n, sid in NODES.items()
        }
        entry = ["sh", str(ENTRYPOINT)]
        nodes = {
            n: Node(configs[n], tmp_path / n / "node.log", launcher_env(first.url), launcher=entry)
            for n in NODES
        }
        try:
            for node in nodes.values():
                node.wait_started()
            for e in emulators.values():
                e.resume()
            for n, e in emulators.items():
                wait_until(lambda e=e: sum(e.fills().values()) >= 2, 90, f"{n}: two fills at its venue")
            codes = {n: node.terminate() for n, node in nodes.items()}
        finally:
            for node in nodes.values():
                node.__exit__()
        assert codes == {"node-a": 0, "node-b": 0}, {n: nodes[n].text()[-2000:] for n in NODES}
        for e in emulators.values():
            e.pause()

        # Each node's rows are its own venue's orders and fills, and only those.
        for n, sid in NODES.items():
            ids, fills, position = node_rows(view, n)
            venue = emulators[n]
            assert set(venue.client_order_ids()) <= ids
            assert all(f"-{sid}-" in cid for cid in ids), f"{n} holds another node's orders"
            assert fills == venue.fills() and max(fills.values()) == 1
            assert position == venue.position()[0]
            state = state_of(first.url, n)
            assert set(state.orders) <= ids and all(f"-{sid}-" in cid for cid in state.orders)
        listing = subprocess.run(
            [sys.executable, "-m", "tradewright.cli.main", "db", "nodes", "--url", first.url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listing.returncode == 0, listing.stderr
        rows = [line.split() for line in listing.stdout.splitlines()[2:]]
        assert [(r[0], r[-5]) for r in rows] == [("node-a", "ok"), ("node-b", "ok")]

        # Back up, take a fresh empty database, and start node-a on it through the entrypoint with the backup.
        archive = tmp_path / "store.twb.gz"
        saved = subprocess.run(
            [sys.executable, "-m", "tradewright.cli.main", "db", "backup", str(archive), "--url", first.url],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert saved.returncode == 0, saved.stderr
        before = {n: comparable(state_of(first.url, n)) for n in NODES}
        (tmp_path / "restored").mkdir()
        config = write_config(
            tmp_path / "restored",
            emulators["node-a"],
            second.url,
            node={"name": "node-a"},
            store={"node_id": "node-a"},
            strategy={"id": "QA"},
        )
        env = launcher_env(second.url, TRADEWRIGHT_RESTORE_FROM=str(archive))
        with Node(config, tmp_path / "restored" / "node.log", env, launcher=entry) as node:
            node.wait_started()
            assert "restored from the store:" in node.text()
            emulators["node-a"].resume()
            time.sleep(2.0)
            assert node.terminate() == 0, node.text()[-3000:]
        emulators["node-a"].pause()

        assert comparable(state_of(second.url, "node-b")) == before["node-b"]  # untouched: as backed up
        restored = StoreView(second.url)
        try:
            ids, fills, position = node_rows(restored, "node-a")
            venue = emulators["node-a"]
            assert set(venue.client_order_ids()) <= ids
            assert fills == venue.fills() and position == venue.position()[0]
            old_ids = set(before["node-a"][0])  # type: ignore[arg-type]
            assert old_ids <= ids
        finally:
            restored.close()
    finally:
        view.close()
        for e in emulators.values():
            e.stop()
        first.drop()
        second.drop()
