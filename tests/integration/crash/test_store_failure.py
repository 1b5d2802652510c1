"""A store that fails under a running node: a SQLite file on a full disk, a PostgreSQL server that goes away.

The node must stop sending new orders at once, say clearly why, cancel what it has working at the venue
(cancels go out even though they cannot be recorded), exit with status 3 and keep everything it had
committed. Restarted once the store is back, it reconciles with the venue and ends up exactly where the
venue is — as after a crash.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.integration.crash.harness import Emulator, Node, StoreView, wait_until, write_config
from tests.integration.crash.test_crash_recovery import START_CASH, Trial, check_consistent
from tests.integration.store.conftest import PG_URL, PgSchema, pg_unavailable

pytestmark = pytest.mark.slow


def assert_stopped_cleanly_on_store_failure(
    node: Node, emulator: Emulator, store: StoreView, says: str
) -> None:
    code = node.wait_exit(120)
    log = node.text()
    assert code == 3, f"exit {code}:\n{log[-3000:]}"
    assert "the state store failed" in log and "New orders are refused" in log and says in log, log[-3000:]
    assert "live: stopped: the state store failed" in log
    # Nothing was sent without being committed first: the venue knows no order the store does not.
    assert set(emulator.client_order_ids()) <= store.client_order_ids()
    # What was committed is intact and true: every stored fill is one the venue made.
    assert set(store.fills()) <= set(emulator.fills())
    assert store.balance() > 0
    # Its cancels went out although they could not be recorded.
    wait_until(lambda: emulator.open_orders() == [], 20, "the venue to have no open orders of the node")


def recover_and_compare(config: Path, emulator: Emulator, store: StoreView, logs: Path) -> None:
    with Node(config, logs / "restarted.log") as node:
        prefix = node.wait_started()
        wait_until(
            lambda: any(c.startswith(prefix + "-") for c in emulator.client_order_ids()), 60, "quoting"
        )
        assert node.terminate() == 0
    check_consistent(Trial("store-failure"), emulator, store)
    assert store.balance() == START_CASH + emulator.fill_cash()


def test_a_full_disk_stops_new_orders_with_a_clear_error_and_keeps_every_commit(tmp_path: Path) -> None:
    emulator = Emulator(tmp_path / "emulator", speed=3.0)
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = StoreView(url)
    try:
        config = write_config(tmp_path, emulator, url)
        with Node(config, tmp_path / "full.log", max_file_bytes=1_500_000) as node:
            node.wait_started()
            assert_stopped_cleanly_on_store_failure(
                node, emulator, store, "disk I/O error"
            )  # EFBIG, as SQLite says it
        recover_and_compare(config, emulator, store, tmp_path)
    finally:
        store.close()
        emulator.stop()


class TcpProxy:
    """127.0.0.1:port -> 127.0.0.1:target, until `close` drops every connection and stops listening."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """The server is gone: existing connections break, new ones are refused."""
        self.closed = True
        self.listener.close()
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
                s.close()


@pytest.mark.postgres
def test_a_postgres_that_goes_away_stops_new_orders_and_loses_no_committed_state(tmp_path: Path) -> None:
    reason = pg_unavailable()
    if reason is not None:
        pytest.skip(reason)
    schema = PgSchema()
    proxy = TcpProxy(5432)
    emulator = Emulator(tmp_path / "emulator", speed=3.0)
    direct = StoreView(schema.url)
    try:
        via_proxy = schema.url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{proxy.port}/")
        assert via_proxy != schema.url and PG_URL in schema.url
        config = write_config(tmp_path, emulator, via_proxy)
        with Node(config, tmp_path / "gone.log") as node:
            node.wait_started()
            wait_until(lambda: direct.fills() != {}, 90, "a first fill")
            time.sleep(1.0)
            proxy.close()
            assert_stopped_cleanly_on_store_failure(node, emulator, direct, "postgresql")
        recover_and_compare(write_config(tmp_path, emulator, schema.url), emulator, direct, tmp_path)
    finally:
        direct.close()
        emulator.stop()
        proxy.close()
        schema.drop()
