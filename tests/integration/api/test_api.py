"""The node's API against a running paper node: auth and roles, commands through risk, idempotency, the
two-step kill switch, rate limits, CORS and Origin checks, the WebSocket protocol and /metrics."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.api.harness import PASSWORD, Node, demo_config, start_node

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    tmp = tmp_path_factory.mktemp("api")
    config = demo_config(
        tmp,
        api={"cors_origins": ["http://allowed.example:3000"], "login_max_failures": 3, "command_rate_per_s": 2.0},
        risk={"price_band_bps": "100"},
    )
    running = start_node(tmp, config, speed=3.0)
    yield running
    running.stop()


def client(node: Node) -> httpx.Client:
    return httpx.Client(base_url=node.url, timeout=10)


def openapi(node: Node) -> dict[str, Any]:
    with client(node) as c:
        spec: dict[str, Any] = c.get("/api/v1/openapi.json").json()
    return spec


PUBLIC = {("/api/v1/health", "get"), ("/api/v1/auth/login", "post"), ("/api/v1/auth/refresh", "post"),
          ("/api/v1/auth/logout", "post")}


def operations(node: Node) -> list[tuple[str, str]]:
    spec = openapi(node)
    return [(path, method) for path, item in spec["paths"].items() for method in item]


def concrete(path: str) -> str:
    return (path.replace("{strategy_id}", "MM").replace("{action}", "pause").replace("{client_order_id}", "X1")
            .replace("{instrument_id}", "BTCUSDT-PERP.BINANCE").replace("{name}", "max_position_base")
            .replace("{key_id}", "deadbeef"))


def test_every_endpoint_without_credentials_is_refused_with_401_except_the_public_ones(node: Node) -> None:
    ops = operations(node)
    assert len(ops) > 35
    with client(node) as c:
        for path, method in ops:
            answer = c.request(method.upper(), concrete(path), json={})
            if (path, method) in PUBLIC:
                assert answer.status_code != 401 or path.endswith(("refresh", "login")), (path, method)
                continue
            assert answer.status_code == 401, (method, path, answer.status_code, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
        assert c.get("/metrics").status_code == 401
        assert c.get("/api/v1/orders", headers={"Authorization": "Bearer twk_00000000_forged"}).status_code == 401


def test_a_viewer_reads_everything_but_every_command_except_halt_is_forbidden(node: Node) -> None:
    viewer = node.headers("viewer")
    with client(node) as c:
        for path, method in operations(node):
            if (path, method) in PUBLIC or method != "get" or "{" in path or "api-keys" in path:
                continue
            assert c.get(path, headers=viewer).status_code == 200, path
        commands = [(p, m) for p, m in operations(node) if m != "get" and (p, m) not in PUBLIC]
        assert len(commands) >= 14
        for path, method in commands:
            if path.endswith("/risk/halt") or path.endswith("/auth/ws-ticket"):
                continue
            answer = c.request(method.upper(), concrete(path), headers=viewer,
                               json={"reason": "x", "params": {}, "name": "n", "value": "1", "confirm_token": "t"})
            assert answer.status_code == 403, (method, path, answer.status_code, answer.text)


def test_cancel_an_order_goes_through_the_kernel_and_is_streamed_and_audited(node: Node) -> None:
    op = node.headers("operator")
    with client(node) as c:
        deadline = time.monotonic() + 30
        orders: list[dict[str, Any]] = []
        while not orders and time.monotonic() < deadline:
            orders = c.get("/api/v1/orders", headers=op).json()
            time.sleep(0.1)
        assert orders, "the market maker never quoted"
        cid = orders[0]["client_order_id"]
        answer = c.delete(f"/api/v1/orders/{cid}", headers=op)
        if answer.status_code == 409:  # it filled or was replaced between the two calls: that is allowed
            assert "nothing to cancel" in answer.json()["detail"] or "already" in answer.json()["detail"]
        else:
            assert answer.status_code == 202, answer.text
            body = answer.json()
            assert body["command_id"].startswith("cmd_") and body["status"] == "done"
            assert c.get(f"/api/v1/orders/{cid}", headers=op).json()["status"] in (
                "PENDING_CANCEL", "CANCELED", "FILLED", "PARTIALLY_FILLED")
        audit = c.get("/api/v1/audit", headers=op, params={"limit": 5000}).json()
        assert any(r["action"] == "order.cancel" and r["actor"].startswith("api:key:") for r in audit)
        assert c.delete("/api/v1/orders/NOPE", headers=op).status_code == 404


def test_an_idempotency_key_runs_a_command_once_and_refuses_reuse_for_another_request(node: Node) -> None:
    op = node.headers("operator") | {"Idempotency-Key": "same-key-1"}
    time.sleep(2.0)  # let this caller's command bucket refill after the earlier tests
    with client(node) as c:
        first = c.post("/api/v1/orders/cancel-all", headers=op, json={"strategy_id": "MM", "reason": "test"})
        again = c.post("/api/v1/orders/cancel-all", headers=op, json={"strategy_id": "MM", "reason": "test"})
        other = c.post("/api/v1/orders/cancel-all", headers=op, json={"reason": "different"})
    assert first.status_code == 202
    assert again.status_code == 202 and again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert other.status_code == 422 and "different request" in other.json()["detail"]


def test_commands_are_rate_limited_but_halt_never_is(node: Node) -> None:
    op = node.headers("operator")
    with client(node) as c:
        codes = [c.post("/api/v1/strategies/MM/resume", headers=op, json={}).status_code for _ in range(8)]
        assert 429 in codes
        limited = next(r for r in [c.post("/api/v1/strategies/MM/resume", headers=op, json={})] if r.status_code == 429)
        assert int(limited.headers["retry-after"]) >= 1
        halts = [c.post("/api/v1/risk/halt", headers=op, json={"reason": f"drill {i}"}).status_code for i in range(12)]
        assert halts == [202] * 12
        assert c.get("/api/v1/risk/state", headers=op).json()["state"] == "HALTED"
        # Only an admin resumes.
        assert c.post("/api/v1/risk/resume", headers=op, json={"reason": "no"}).status_code == 403
        resumed = c.post("/api/v1/risk/resume", headers=node.headers("admin"), json={"reason": "drill over"})
        assert resumed.status_code == 202, resumed.text
        assert c.get("/api/v1/risk/state", headers=op).json()["state"] == "ACTIVE"


def test_the_login_rate_limit_holds_even_for_the_right_password(node: Node) -> None:
    with client(node) as c:
        for _ in range(3):
            assert c.post("/api/v1/auth/login", json={"username": "watcher", "password": "wrong"}).status_code == 401
        locked = c.post("/api/v1/auth/login", json={"username": "watcher", "password": PASSWORD})
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
        ok = c.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
        assert ok.status_code == 200
        assert "httponly" in ok.headers["set-cookie"].lower() and "samesite=strict" in ok.headers["set-cookie"].lower()
        token = ok.json()["access_token"]
        me = c.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
        assert me == {"kind": "user", "ident": "admin", "role": "admin"}
        refreshed = c.post("/api/v1/auth/refresh")
        assert refreshed.status_code == 200 and refreshed.json()["access_token"] != ""
        assert c.post("/api/v1/auth/refresh", cookies={"tw_refresh": "stolen"}).status_code == 401


def test_cors_allows_only_the_listed_origin_and_foreign_pages_cannot_send_commands(node: Node) -> None:
    with client(node) as c:
        pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
        good = c.options("/api/v1/risk/halt", headers={"Origin": "http://allowed.example:3000", **pre})
        bad = c.options("/api/v1/risk/halt", headers={"Origin": "http://evil.example", **pre})
        assert good.headers.get("access-control-allow-origin") == "http://allowed.example:3000"
        assert bad.status_code == 400 and "access-control-allow-origin" not in bad.headers
        read = c.get("/api/v1/system", headers={"Origin": "http://evil.example", **node.headers("viewer")})
        assert "access-control-allow-origin" not in read.headers
        forged = c.post("/api/v1/risk/halt", headers={"Origin": "http://evil.example", **node.headers("admin")},
                        json={"reason": "csrf"})
        assert forged.status_code == 403


def test_the_two_step_flatten_needs_a_fresh_single_use_token_and_ends_halted_and_flat(node: Node) -> None:
    op = node.headers("operator")
    with client(node) as c:
        assert c.post("/api/v1/risk/flatten/execute", headers=op,
                      json={"confirm_token": "made-up", "reason": "x"}).status_code == 409
        preview = c.post("/api/v1/risk/flatten/prepare", headers=op).json()
        assert preview["mode"] == "paper" and preview["confirm_token"]
        other = c.post("/api/v1/risk/flatten/execute", headers=node.headers("admin"),
                       json={"confirm_token": preview["confirm_token"], "reason": "not mine"})
        assert other.status_code == 409 and "someone else" in other.json()["detail"]
        preview = c.post("/api/v1/risk/flatten/prepare", headers=op).json()
        fired = c.post("/api/v1/risk/flatten/execute", headers=op,
                       json={"confirm_token": preview["confirm_token"], "reason": "end of test"})
        assert fired.status_code == 202 and fired.json()["status"] == "accepted"
        reused = c.post("/api/v1/risk/flatten/execute", headers=op,
                        json={"confirm_token": preview["confirm_token"], "reason": "again"})
        assert reused.status_code == 409
        deadline = time.monotonic() + 30
        state: dict[str, Any] = {}
        while time.monotonic() < deadline:
            state = c.get("/api/v1/risk/state", headers=op).json()
            flat = all(p["quantity"] in ("0", "0.000") or float(p["quantity"]) == 0
                       for p in c.get("/api/v1/positions", headers=op).json())
            if state["state"] == "HALTED" and not state["kill_switch_active"] and flat:
                break
            time.sleep(0.2)
        assert state["state"] == "HALTED" and flat
        assert c.get("/api/v1/orders", headers=op).json() == []
        resumed = c.post("/api/v1/risk/resume", headers=node.headers("admin"), json={"reason": "after flatten"})
        assert resumed.status_code == 202


def test_the_websocket_sends_snapshots_then_numbered_deltas_and_checks_origin(node: Node) -> None:
    async def scenario() -> None:
        uri = node.url.replace("http", "ws") + "/api/v1/ws"
        auth = {"Authorization": f"Bearer {node.keys['viewer']}"}
        with pytest.raises(websockets.InvalidStatus):
            async with websockets.connect(uri, additional_headers={**auth, "Origin": "http://evil.example"}):
                pass
        with pytest.raises(websockets.InvalidStatus):
            async with websockets.connect(uri):
                pass
        async with websockets.connect(uri, additional_headers=auth) as ws:
            await ws.send(json.dumps({"op": "subscribe", "channels": ["orders", "quotes", "system"]}))
            seen: dict[str, list[int]] = {}
            types: dict[str, set[str]] = {}
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and len(seen.get("orders", [])) < 6:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if "channel" in msg:
                    seen.setdefault(msg["channel"], []).append(msg["seq"])
                    types.setdefault(msg["channel"], set()).add(msg["type"])
                    assert msg["mode"] == "paper"
            orders = seen["orders"]
            assert "snapshot" in types["orders"] and len(orders) >= 6
            assert orders[1:] == list(range(orders[0] + 1, orders[0] + len(orders)))  # no gaps
            await ws.send(json.dumps({"op": "subscribe", "channels": ["nope"]}))
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if msg.get("type") == "error":
                    assert "unknown channel" in msg["message"]
                    break

    asyncio.run(scenario())


def test_a_slow_websocket_client_is_dropped_with_1013(tmp_path: Path) -> None:
    running = start_node(tmp_path, demo_config(tmp_path, api={"ws_queue_size": 5}), speed=5.0)
    try:
        async def scenario() -> int:
            uri = running.url.replace("http", "ws") + "/api/v1/ws"
            async with websockets.connect(uri, additional_headers=running.headers("viewer"), max_queue=1) as ws:
                await ws.send(json.dumps({"op": "subscribe", "channels": ["orders", "fills", "book", "quotes"]}))
                await asyncio.sleep(4)  # read nothing: the server's queue for us fills up
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    while True:
                        await asyncio.wait_for(ws.recv(), 10)
                assert closed.value.rcvd is not None
                return closed.value.rcvd.code

        assert asyncio.run(scenario()) == 1013
        with httpx.Client(base_url=running.url) as c:  # the node and the API carry on
            assert c.get("/api/v1/system", headers=running.headers("viewer")).status_code == 200
    finally:
        running.stop()


def test_metrics_expose_the_node_series_with_labels(node: Node) -> None:
    with client(node) as c:
        text = c.get("/metrics", headers=node.headers("metrics")).text
        assert c.get("/api/v1/orders", headers=node.headers("metrics")).status_code == 403
    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name in ("tradewright_orders_submitted", "tradewright_fills", "tradewright_cancels", "tradewright_fill_ratio",
                 "tradewright_position", "tradewright_pnl_net", "tradewright_equity", "tradewright_orders_rejected",
                 "tradewright_trading_state", "tradewright_book_resyncs", "tradewright_venue_up",
                 "tradewright_tick_to_quote_seconds", "tradewright_order_ack_seconds",
                 "tradewright_order_path_stage_seconds", "tradewright_breaker_active", "tradewright_denials"):
        assert name in families, name
    fills = families["tradewright_fills"].samples
    assert fills and fills[0].labels == {"instrument": "BTCUSDT-PERP.BINANCE"} and fills[0].value > 0
    t2q = families["tradewright_tick_to_quote_seconds"].samples
    count = next(s.value for s in t2q if s.name.endswith("_count"))
    assert count > 0
    assert {s.labels["stage"] for s in families["tradewright_order_path_stage_seconds"].samples} >= {"strategy", "risk", "send"}


def test_pause_resume_and_a_bounded_parameter_change_of_a_running_strategy(node: Node) -> None:
    op = node.headers("operator")
    with client(node) as c:
        time.sleep(0.6)  # let the command bucket refill
        paused = c.post("/api/v1/strategies/MM/pause", headers=op, json={"reason": "test"})
        assert paused.status_code == 202, paused.text
        assert c.get("/api/v1/strategies/MM", headers=op).json()["state"] == "paused"
        time.sleep(1.0)
        assert [o for o in c.get("/api/v1/orders", headers=op).json() if o["strategy_id"] == "MM"] == []
        time.sleep(0.6)
        assert c.post("/api/v1/strategies/MM/resume", headers=op, json={}).status_code == 202
        assert c.get("/api/v1/strategies/MM", headers=op).json()["state"] == "running"
        time.sleep(0.6)
        assert c.post("/api/v1/strategies/NOPE/pause", headers=op, json={}).status_code == 404
        time.sleep(0.6)
        admin = node.headers("admin")
        assert c.patch("/api/v1/strategies/MM/params", headers=op, json={"params": {"size": "0.003"}}).status_code == 403
        too_far = c.patch("/api/v1/strategies/MM/params", headers=admin, json={"params": {"size": "0.010"}})
        assert too_far.status_code == 422 and "above the bound of 50%" in too_far.json()["detail"]
        unknown = c.patch("/api/v1/strategies/MM/params", headers=admin, json={"params": {"sizes": "1"}})
        assert unknown.status_code == 422 and "unknown parameter" in unknown.json()["detail"]
        time.sleep(1.0)
        changed = c.patch("/api/v1/strategies/MM/params", headers=admin, json={"params": {"size": "0.003"}})
        assert changed.status_code == 202, changed.text
        assert changed.json()["detail"]["diff"] == {"size": {"from": "0.002", "to": "0.003"}}
        assert c.get("/api/v1/strategies/MM", headers=op).json()["params"]["size"] == "0.003"
        deadline = time.monotonic() + 20
        sizes: set[str] = set()
        while "0.003" not in sizes and time.monotonic() < deadline:
            sizes = {o["quantity"] for o in c.get("/api/v1/orders", headers=op).json()}
            time.sleep(0.2)
        assert "0.003" in sizes  # the strategy quotes the new size


def test_every_request_is_logged_with_its_key_id_and_never_its_secret(
    node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    key = node.keys["viewer"]
    key_id, secret = key.split("_")[1], key.split("_", 2)[2]
    with caplog.at_level("INFO", logger="tradewright.api.access"), client(node) as c:
        c.get("/api/v1/positions", headers=node.headers("viewer"))
        c.get("/api/v1/positions", headers={"Authorization": "Bearer twk_12345678_not-a-real-secret"})
        time.sleep(0.2)
    lines = [r.getMessage() for r in caplog.records if r.name == "tradewright.api.access"]
    assert any("GET /api/v1/positions 200" in line and f"caller=api:key:{key_id}" in line for line in lines)
    assert any("GET /api/v1/positions 401" in line and "caller=-" in line for line in lines)
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert secret not in everything and "not-a-real-secret" not in everything
