"""Polymarket REST over aiohttp: public calls, L1 (wallet) and L2 (HMAC) signed calls, client-side rate
buckets holding the venue's published limits, and errors that say whether a request may have been
carried out.

A body is serialized once, compactly, and those exact bytes are both signed and sent (the HMAC covers
the text). The signed path never includes the query string (as the official clients sign it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from tradewright.core.errors import VenueError
from tradewright.venues._common.ratelimit import TokenBucket
from tradewright.venues.polymarket.auth import l1_headers, l2_headers

__all__ = ["ApiCreds", "ClobHttp", "PolymarketApiError", "buckets"]


class PolymarketApiError(VenueError):
    """The venue answered with an error (`status` ≥ 400) or could not be reached (`status` 0).

    `outcome_unknown` is True when the request may still have been carried out: no answer at all, a
    timeout, or a 5xx to a request that changes state.
    """

    def __init__(self, message: str, *, status: int, body: str = "", outcome_unknown: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        self.outcome_unknown = outcome_unknown

    @property
    def error_text(self) -> str:
        try:
            value = json.loads(self.body)
        except ValueError:
            return self.body
        if isinstance(value, dict):
            return str(value.get("error") or value.get("errorMsg") or value.get("message") or self.body)
        return self.body


@dataclass(frozen=True, slots=True)
class ApiCreds:
    api_key: str
    secret: str
    passphrase: str

    def __repr__(self) -> str:
        return f"ApiCreds(api_key={self.api_key[:4]}…, secret=***, passphrase=***)"


def buckets() -> dict[str, TokenBucket]:
    """Polymarket's published limits (per 10 s; Cloudflare throttles, then answers 429)."""
    specs = {
        "clob": 9_000,
        "post_order": 3_500,
        "post_orders": 1_000,
        "delete_order": 3_000,
        "delete_orders": 1_000,
        "balance": 200,
        "auth": 100,
        "gamma": 300,
    }
    return {name: TokenBucket(f"polymarket {name}", capacity, 10.0) for name, capacity in specs.items()}


def _bucket_for(method: str, path: str) -> str:
    if path.startswith("/auth"):
        return "auth"
    if path.startswith("/balance-allowance"):
        return "balance"
    if path == "/order":
        return "post_order" if method == "POST" else "delete_order"
    if path == "/orders":
        return "post_orders" if method == "POST" else "delete_orders"
    return "clob"


class ClobHttp:
    """One CLOB endpoint's REST client (also used for Gamma, with `signed=False` calls only)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        private_key: str = "",
        chain_id: int = 137,
        address: str = "",
        creds: ApiCreds | None = None,
        timeout_s: float = 10.0,
        limits: Mapping[str, TokenBucket] | None = None,
        clock_s: Callable[[], int] = lambda: int(time.time()),
    ) -> None:
        self._session = session
        self.base_url = base_url.rstrip("/")
        self._key = private_key
        self.chain_id = chain_id
        self.address = address
        self.creds = creds
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.limits = dict(limits) if limits is not None else buckets()
        self.clock_s = clock_s
        self.requests = 0

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        auth: str = "none",  # "none" | "l1" | "l2"
        bucket: str | None = None,
    ) -> Any:
        """Send one request and decode its JSON answer; `PolymarketApiError` on any failure."""
        text = "" if body is None else json.dumps(body, separators=(",", ":"))
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if auth != "none":
            headers.update(self._auth_headers(auth, method, path, text))
        limit = self.limits.get(bucket or _bucket_for(method, path))
        if limit is not None:
            await limit.acquire()
        changes_state = method != "GET"
        self.requests += 1
        try:
            async with self._session.request(
                method,
                self.base_url + path,
                params=params,
                data=text.encode() if body is not None else None,
                headers=headers,
                timeout=self._timeout,
            ) as resp:
                answer = await resp.text()
                status = resp.status
                retry_after = resp.headers.get("Retry-After")
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise PolymarketApiError(
                f"{method} {path}: no answer ({type(exc).__name__})", status=0, outcome_unknown=changes_state
            ) from None
        if status == 429 and limit is not None:
            limit.penalise(float(retry_after) if retry_after else 1.0)
        if status >= 400:
            raise PolymarketApiError(
                f"{method} {path}: HTTP {status}: {answer[:300]}",
                status=status,
                body=answer,
                outcome_unknown=changes_state and status >= 500,
            )
        if not answer.strip():
            return None
        try:
            return json.loads(answer)
        except ValueError:
            return answer  # a few endpoints answer plain text ("OK")

    def _auth_headers(self, auth: str, method: str, path: str, body: str) -> dict[str, str]:
        ts = self.clock_s()
        if auth == "l1":
            if not self._key:
                raise VenueError(f"{method} {path} needs the wallet key (L1), which is not configured")
            return l1_headers(self._key, self.chain_id, ts)
        if self.creds is None:
            raise VenueError(f"{method} {path} needs API credentials (L2), which are not configured")
        return l2_headers(
            self.address, self.creds.api_key, self.creds.secret, self.creds.passphrase, ts, method, path, body
        )

    async def sync_clock(self) -> None:
        """Sign with the venue's clock (`GET /time`) instead of ours, to avoid skew rejections."""
        server = await self.request("GET", "/time")
        offset = int(server) - int(time.time())
        self.clock_s = lambda: int(time.time()) + offset
