"""Fuzz the emulator's REST and WebSocket endpoints over real loopback connections: every mutated request
gets an answer in Binance's shape — a result, or ``{"code", "msg"}`` with a 4xx status — never a 5xx, a
plain-text page, silence or a dropped connection.

Requests are mutations of what clients send (the cryptofeed recordings' REST calls and subscriptions,
orders made of the recorded order answers' fields); most are signed after mutation, so they get past
authentication into parameter parsing, filters, matching and the account.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
import traceback
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

from tests.fuzz import seeds
from tests.fuzz.conftest import CI, LONG, long_run
from tests.fuzz.mutate import UNICODE, mutate
from tests.fuzz.tally import Tally
from tests.integration.emulator.support import API_KEY, SECRET, emulator, run, stream_of, usdm_path

LIMITS: dict[str, Any] = {"weight_limit": 10**9, "orders_per_10s": 10**9, "orders_long": 10**9}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _request(rnd: random.Random) -> tuple[str, str, str, dict[str, str], str]:
    """(method, path, query, headers, body) of one mutated REST request."""
    method, path, params = rnd.choice(seeds.rest_request_seeds())
    case = mutate(params, rnd)
    if isinstance(case.value, dict):
        pairs = [(str(k), _text(v)) for k, v in case.value.items()]
        if rnd.random() < 0.8:
            pairs.append(("timestamp", str(int(time.time() * 1000))))
        query = urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote, errors="surrogatepass")
    else:
        query = urllib.parse.quote(case.text, safe="=&", errors="surrogatepass")
    if rnd.random() < 0.7:  # signed after mutation: the request reaches parameter parsing
        signature = hmac.new(SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
        query += f"&signature={signature}"
    headers = {"X-MBX-APIKEY": API_KEY if rnd.random() < 0.9 else rnd.choice(["", "x" * 300, "k\u00e9y"])}
    body = ""
    if method in ("POST", "DELETE") and rnd.random() < 0.3:
        query, body = "", query  # the same parameters as a form body
    if rnd.random() < 0.03:
        method = rnd.choice(["PUT", "PATCH", "GET", "DELETE", "POST"])
    if rnd.random() < 0.03:
        path = path + rnd.choice(["/", "x", "/../order", "%00", rnd.choice(UNICODE)])
    return method, path, query, headers, body


def _check_answer(status: int, content_type: str, raw: bytes, tally: Tally, what: str) -> None:
    if status >= 500 or "json" not in content_type:
        tally.crash(f"{what}: HTTP {status} {content_type}: {raw[:500]!r}")
        return
    body = json.loads(raw)
    if status >= 400:
        if isinstance(body, dict) and isinstance(body.get("code"), int) and isinstance(body.get("msg"), str):
            tally.refuse(f"{status} {body['code']}")
        else:
            tally.crash(f"{what}: HTTP {status} without Binance's envelope: {raw[:500]!r}")
        return
    tally.ok()


async def fuzz_rest(n: int, tally: Tally, state: Path) -> None:
    async with (
        emulator(stream_of(usdm_path()), state, "binance-usdm", speed=5.0, **LIMITS) as server,
        aiohttp.ClientSession() as session,
    ):
        base = f"http://127.0.0.1:{server.port}"
        for i in range(n):
            rnd = random.Random(f"rest:{i}")
            method, path, query, headers, body = _request(rnd)
            quoted = urllib.parse.quote(path, safe="/%", errors="surrogatepass")
            url = URL(base + quoted + (f"?{query}" if query else ""), encoded=True)
            what = f"{method} {url} body={body[:300]!r}"
            try:
                async with session.request(
                    method,
                    url,
                    headers=headers,
                    data=body.encode(errors="surrogatepass") or None,
                    timeout=aiohttp.ClientTimeout(total=30),
                ) as resp:
                    _check_answer(resp.status, resp.content_type, await resp.read(), tally, what)
            except (aiohttp.ClientError, TimeoutError) as exc:
                tally.crash(f"{what}: {exc!r}")
            except ValueError:  # the answer was not JSON
                tally.crash(f"{what}:\n{traceback.format_exc()}")


def _is_reply(frame: Any) -> bool:
    return (
        isinstance(frame, dict)
        and ("id" in frame or "error" in frame or "status" in frame)
        and "e" not in frame
    )


async def fuzz_ws(n: int, tally: Tally, state: Path) -> None:
    async with (
        emulator(stream_of(usdm_path()), state, "binance-usdm", speed=5.0, **LIMITS) as server,
        aiohttp.ClientSession() as session,
    ):
        base = f"ws://127.0.0.1:{server.port}"
        sockets: dict[str, aiohttp.ClientWebSocketResponse] = {}
        for i in range(n):
            rnd = random.Random(f"ws:{i}")
            path, request = rnd.choice(seeds.ws_request_seeds())
            ws = sockets.get(path)
            if ws is None or ws.closed:
                ws = sockets[path] = await session.ws_connect(base + path, max_msg_size=0)
            text = mutate(request, rnd).text
            what = f"{path} {text[:300]!r}"
            try:
                await ws.send_str(text.encode(errors="surrogatepass").decode(errors="replace"))
                while True:
                    msg = await ws.receive(timeout=10)
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        tally.crash(f"{what}: the connection ended: {msg.type} {msg.data!r}")
                        break
                    frame = json.loads(msg.data)
                    if _is_reply(frame):
                        break
            except TimeoutError:
                tally.crash(f"{what}: no answer in 10 s")
                continue
            else:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
            status = frame.get("status")
            error = frame.get("error")
            if isinstance(status, int) and status >= 500:
                tally.crash(f"{what}: {msg.data[:500]}")
            elif error is not None:
                tally.refuse(f"{path} {error.get('code') if isinstance(error, dict) else error}")
            else:
                tally.ok()
        for ws in sockets.values():
            await ws.close()


def _run(kind: str, n: int, make_tally: Callable[[str], Tally], tmp_path: Path) -> None:
    tally = make_tally(f"emulator {kind} over loopback")
    body = fuzz_rest if kind == "REST" else fuzz_ws
    run(body(n, tally, tmp_path / f"{kind}.sqlite"), timeout=3600)
    assert not tally.crashes, f"{len(tally.crashes)} bad answers; the first:\n{tally.crashes[0]}"


def test_emulator_rest_answers_every_mutated_request_in_binances_envelope(
    tally: Callable[[str], Tally], tmp_path: Path
) -> None:
    _run("REST", CI["emulator_rest"], tally, tmp_path)


def test_emulator_websockets_answer_every_mutated_request_and_stay_open(
    tally: Callable[[str], Tally], tmp_path: Path
) -> None:
    _run("WebSocket", CI["emulator_ws"], tally, tmp_path)


@pytest.mark.slow
@long_run
@pytest.mark.parametrize("kind", ["REST", "WebSocket"])
def test_emulator_long_run(kind: str, tally: Callable[[str], Tally], tmp_path: Path) -> None:
    _run(kind, LONG["emulator_rest" if kind == "REST" else "emulator_ws"], tally, tmp_path)
