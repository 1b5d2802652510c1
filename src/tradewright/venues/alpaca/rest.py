"""Alpaca's Trading API through alpaca-py's REST client, paced, timed out, and with clear outcomes.

alpaca-py's client is synchronous (requests); each call runs in a worker thread. It is built with
`raw_data=True` (we decode the JSON ourselves, numbers stay exact) and retries only 429 (the request was
not carried out): a 5xx or a timeout may have been carried out, so it surfaces as `OutcomeUnknown` and
the caller looks the order up instead of sending it again. Requests wait for a token of Alpaca's
documented 200 a minute.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from requests.adapters import HTTPAdapter

from tradewright.core.errors import VenueError
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.ratelimit import TokenBucket
from tradewright.venues.alpaca.config import AlpacaConfig

__all__ = ["AlpacaHttpError", "AlpacaRest", "OutcomeUnknown"]


class AlpacaHttpError(VenueError):
    """Alpaca answered with an error: HTTP `status`, Alpaca's `code` and message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"HTTP {status}, Alpaca code {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class OutcomeUnknown(VenueError):
    """The request may or may not have been carried out (no answer, or a 5xx)."""


class _TimeoutAdapter(HTTPAdapter):
    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self._timeout_s = timeout_s

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["timeout"] = kwargs.get("timeout") or self._timeout_s
        return super().send(request, **kwargs)


class AlpacaRest:
    """The Trading API calls the adapter makes (`get`/`post`/`patch`/`delete` on ``/v2`` paths)."""

    def __init__(self, config: AlpacaConfig, credentials: Credentials) -> None:
        self.config = config
        self.client = TradingClient(
            credentials.get("api_key"),
            credentials.get("secret"),
            paper=config.paper,
            raw_data=True,
            url_override=config.rest_root,
        )
        # alpaca-py retries 429 and 504 by default. A 504 may have been carried out (a gateway timed out
        # waiting for Alpaca): resending a POST /orders then is a second order attempt, so only 429
        # (refused, nothing done) is retried; the constructor offers no setting for it.
        self.client._retry_codes = [429]
        # requests has no default timeout: without one a silent server would hold a worker forever.
        session: requests.Session = self.client._session
        adapter = _TimeoutAdapter(config.timeout_s)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self.bucket = TokenBucket("Alpaca REST", config.requests_per_minute, 60.0)
        self.requests = 0

    async def call(self, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        await self.bucket.acquire()
        self.requests += 1
        fn = getattr(self.client, method)
        try:
            return await asyncio.to_thread(fn, path, data)
        except APIError as exc:
            status = exc.status_code or 0
            code, message = _code(str(exc))
            if status == 429:
                self.bucket.penalise(3.0)
            if status >= 500 or status == 0:
                raise OutcomeUnknown(f"Alpaca {method.upper()} {path}: HTTP {status}: {message}") from None
            raise AlpacaHttpError(status, code, message) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise OutcomeUnknown(f"Alpaca {method.upper()} {path}: no answer ({type(exc).__name__})") from None

    async def get(self, path: str, data: dict[str, Any] | None = None) -> Any:
        return await self.call("get", path, data)

    async def post(self, path: str, data: dict[str, Any]) -> Any:
        return await self.call("post", path, data)

    async def patch(self, path: str, data: dict[str, Any]) -> Any:
        return await self.call("patch", path, data)

    async def delete(self, path: str) -> Any:
        return await self.call("delete", path, None)


def _code(text: str) -> tuple[int, str]:
    try:
        body = json.loads(text)
        return int(body.get("code", 0)), str(body.get("message", text))[:300]
    except (ValueError, AttributeError):
        return 0, text[:300]
