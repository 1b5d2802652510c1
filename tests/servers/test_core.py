"""The generic replay server: recordings, REST routing, the market clock, faults, admin, the request log."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from tests.servers.support import recording, run, serving
from tradewright.core.errors import DataError
from tradewright.servers._core import Pacing, StringBook, load_recording
from tradewright.servers._core.rest import canonical_query
from tradewright.servers.okx import OkxProtocol


def test_recording_reads_cryptofeed_http_bodies_and_ws_frames_verbatim() -> None:
    rec = recording("okx")
    instruments = rec.http_matching("/api/v5/public/instruments")
    assert len(instruments) == 25
    assert {r.query for r in instruments} == {
        "instType=SPOT", "instType=SWAP", "instType=FUTURES", "instType=OPTION&uly=BTC-USD", "instType=OPTION&uly=ETH-USD",
    }  # fmt: skip
    (session,) = rec.sessions_matching("/ws/v5/public")
    assert len(session.frames) == 410
    assert session.frames[0].text.startswith('{"event":"subscribe"')
    assert session.frames[0].ts_ns == 1652459225503749100


def test_recording_refuses_a_line_it_cannot_read_naming_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "X.ws.1.0.gz"
    with gzip.open(bad, "wt") as fh:
        fh.write("wss://x/ws <-> 1.5\n1.6: {}\nthis is not a recording line\n")
    with pytest.raises(DataError, match=r"X\.ws\.1\.0\.gz:3: not a cryptofeed recording line"):
        load_recording(bad)


def test_canonical_query_ignores_parameter_order() -> None:
    assert canonical_query("b=2&a=1") == canonical_query("a=1&b=2") == "a=1&b=2"


def test_string_book_keeps_the_venues_text_and_sorts_levels() -> None:
    book = StringBook()
    for px, sz in (("100.10", "1"), ("100.2", "2"), ("99.9", "3")):
        book.set(1, px, sz)
    book.set(-1, "101", "5", "0", "7")
    book.set(1, "100.2", "0")
    assert book.top(1) == [("100.10", "1"), ("99.9", "3")]
    assert book.top(1, 1) == [("100.10", "1")]
    assert book.top(-1) == [("101", "5", "0", "7")]
    assert book.best(1) == Decimal("100.1")


def test_recorded_body_is_served_byte_for_byte_and_unknown_requests_get_404_and_are_logged() -> None:
    async def body() -> None:
        rec = recording("okx")
        spot = [r for r in rec.http if r.query == "instType=SPOT"][-1]
        async with serving(OkxProtocol(rec)) as server, aiohttp.ClientSession() as http:
            async with http.get(f"{server.url}/api/v5/public/instruments?instType=SPOT") as resp:
                assert resp.status == 200
                assert await resp.text() == spot.body
            async with http.get(f"{server.url}/api/v5/market/books?instId=BTC-USDT") as resp:
                assert resp.status == 404
                assert (await resp.json())["code"] == "404"
            unknown = server.requests.unknown()
            assert [str(e) for e in unknown] == ["GET /api/v5/market/books?instId=BTC-USDT"]

    run(body())


def test_http_faults_answer_with_the_venues_envelopes_then_stop() -> None:
    async def body() -> None:
        async with serving(OkxProtocol(recording("okx"))) as server, aiohttp.ClientSession() as http:
            url = f"{server.url}/api/v5/public/instruments?instType=SPOT"
            server.faults.update({"http_429": 2, "http_5xx": 1, "http_5xx_status": 502})
            statuses = []
            for _ in range(4):
                async with http.get(url) as resp:
                    statuses.append((resp.status, (await resp.json())["code"]))
            assert statuses == [(429, "50011"), (429, "50011"), (502, "50001"), (200, "0")]
            assert server.faults.fired == {"http_429": 2, "http_5xx": 1}

    run(body())


async def _subscribe(ws: aiohttp.ClientWebSocketResponse, channel: str, inst: str) -> dict:
    await ws.send_str(json.dumps({"op": "subscribe", "args": [{"channel": channel, "instId": inst}]}))
    return json.loads((await ws.receive()).data)


def test_step_mode_plays_the_market_only_when_told_and_books_start_with_a_snapshot() -> None:
    async def body() -> None:
        async with (
            serving(OkxProtocol(recording("okx"))) as server,
            aiohttp.ClientSession() as http,
            http.ws_connect(f"{server.ws_url}/ws/v5/public") as ws,
        ):
            ack = await _subscribe(ws, "books", "BTC-USDT")
            assert ack["event"] == "subscribe"
            assert server.timeline.position == 0
            await server.step(1, "books:BTC-USDT")
            first = json.loads((await ws.receive(timeout=5)).data)
            assert first["action"] == "snapshot" and first["arg"]["instId"] == "BTC-USDT"
            await server.step(1, "books:BTC-USDT")
            second = json.loads((await ws.receive(timeout=5)).data)
            assert second["action"] == "update"

    run(body())


def test_a_late_subscriber_gets_a_snapshot_of_the_servers_book_with_a_valid_checksum() -> None:
    from tradewright.model.checksum import okx_checksum

    async def body() -> None:
        async with serving(OkxProtocol(recording("okx"))) as server, aiohttp.ClientSession() as http:
            await server.step(30, "books:BTC-USDT")
            async with http.ws_connect(f"{server.ws_url}/ws/v5/public") as ws:
                await _subscribe(ws, "books", "BTC-USDT")
                snap = json.loads((await ws.receive(timeout=5)).data)
            data = snap["data"][0]
            assert snap["action"] == "snapshot"
            book = server.protocol.books["BTC-USDT"]
            assert [tuple(lv[:2]) for lv in data["bids"]] == book.pairs(1)
            assert data["checksum"] == okx_checksum(
                [tuple(x[:2]) for x in data["bids"][:25]], [tuple(x[:2]) for x in data["asks"][:25]]
            )

    run(body())


def test_book_faults_drop_duplicate_and_corrupt_frames_for_subscribers_only() -> None:
    async def body() -> None:
        async with serving(OkxProtocol(recording("okx"))) as server, aiohttp.ClientSession() as http:
            async with http.ws_connect(f"{server.ws_url}/ws/v5/public") as ws:
                await _subscribe(ws, "books", "BTC-USDT")
                await server.step(2, "books:BTC-USDT")
                await ws.receive(timeout=5)
                await ws.receive(timeout=5)
                server.faults.update({"drop": 1, "match": "BTC-USDT"})
                await server.step(2, "books:BTC-USDT")  # the first of these is dropped
                got = json.loads((await ws.receive(timeout=5)).data)
                fourth = server.timeline.events[server.timeline.position - 1].payload[0]
                assert got["data"][0]["checksum"] == fourth["data"][0]["checksum"]
                server.faults.update({"duplicate": 1})
                await server.step(1, "books:BTC-USDT")
                a, b = (await ws.receive(timeout=5)).data, (await ws.receive(timeout=5)).data
                assert a == b
                server.faults.update({"corrupt": 1})
                await server.step(1, "books:BTC-USDT")
                corrupted = json.loads((await ws.receive(timeout=5)).data)
                original = server.timeline.events[server.timeline.position - 1].payload[0]
                assert corrupted["data"][0]["checksum"] == original["data"][0]["checksum"]
                assert corrupted["data"][0]["bids"] != original["data"][0]["bids"]
            assert server.faults.fired == {"drop": 1, "duplicate": 1, "corrupt": 1}

    run(body())


def test_admin_endpoint_steps_pauses_and_reports_status_over_http() -> None:
    async def body() -> None:
        async with (
            serving(OkxProtocol(recording("okx")), pacing=Pacing.STEP) as server,
            aiohttp.ClientSession() as http,
        ):
            async with http.post(f"{server.url}/_admin/step", json={"count": 3}) as resp:
                assert (await resp.json())["position"] == 3
            async with http.get(f"{server.url}/_admin/status") as resp:
                status = await resp.json()
            assert status["venue"] == "okx" and status["position"] == 3 and status["pacing"] == "step"
            async with http.post(f"{server.url}/_admin/faults", json={"no_such_fault": 1}) as resp:
                assert resp.status == 400
                assert "no_such_fault" in (await resp.json())["error"]
            async with http.get(f"{server.url}/api/v5/public/instruments?instType=SWAP"):
                pass
            async with http.get(f"{server.url}/_admin/requests") as resp:
                logged = await resp.json()
            assert [(e["method"], e["path"], e["query"], e["status"]) for e in logged] == [
                ("GET", "/api/v5/public/instruments", "instType=SWAP", 200)
            ]

    run(body())
