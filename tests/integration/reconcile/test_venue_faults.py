"""A venue that misbehaves under a quoting node: server errors on requests it did execute ("execution status
unknown"), lost user-stream messages and dropped WebSockets. The node must never send an order twice,
must find out what became of each request, and reconciliation must recover whatever the stream lost —
ending, after a clean stop, exactly where the venue is."""

from __future__ import annotations

import time
from pathlib import Path

from tests.integration.crash.harness import Emulator, Node, StoreView, write_config
from tests.integration.crash.test_crash_recovery import Trial, check_consistent


def test_unknown_outcomes_lost_stream_messages_and_reconnects_end_where_the_venue_is(
    tmp_path: Path, emulator: Emulator
) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = StoreView(url)
    config = write_config(tmp_path, emulator, url, reconcile={"interval_s": 1.0})
    with Node(config, tmp_path / "node.log") as node:
        node.wait_started()
        for round_ in range(6):
            faults = {
                "http_error": 2,
                "http_error_after_execute": True,
                "ws_drop": 2,
                "ws_drop_match": "ORDER_TRADE",
            }
            if round_ == 3:
                faults["close_ws"] = True
            emulator.admin("POST", "/_admin/faults", faults)
            time.sleep(1.5)
        emulator.admin("DELETE", "/_admin/faults")
        fired = emulator.admin("GET", "/_admin/faults")["fired"]
        time.sleep(5.0)  # a few clean reconciliations (orders untouched for 2 s are checked)
        assert node.terminate() == 0
        log = node.text()

    assert fired.get("http_error", 0) >= 6 and fired.get("ws_drop", 0) >= 4, fired
    assert "no answer" in log  # requests whose outcome was unknown ...
    assert "user stream connected again" in log  # ... and a stream that came back
    check_consistent(Trial("venue faults"), emulator, store)
    store.close()
