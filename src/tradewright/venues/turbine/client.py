"""Turbine REST over aiohttp: public calls, Ed25519 bearer-token calls (a fresh token per request),
and API-key registration signed by the wallet. Errors say whether a request may have been carried out."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from tradewright.core.errors import VenueError
from tradewright.venues._common.ratelimit import TokenBucket
from tradewright.venues.turbine.schemas import ApiKeyAnswer
from tradewright.venues.turbine.signing import bearer_token, registration_signature, wallet_address

__all__ = ["ApiKey", "TurbineApiError", "TurbineHttp", "register_api_key"]


class TurbineApiError(VenueError):
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
            return str(value.get("error") or value.get("message") or self.body)
        return self.body


class ApiKey:
    """An API key id and its Ed25519 private key (never shown)."""

    __slots__ = ("_private", "key_id")

    def __init__(self, key_id: str, private_key_hex: str) -> None:
        self.key_id = key_id
        self._private = private_key_hex

    def token(self, ts_s: int) -> str:
        return bearer_token(self.key_id, self._private, ts_s)

    def __repr__(self) -> str:
        return f"ApiKey({self.key_id[:6]}…, private=***)"


class TurbineHttp:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        api_key: ApiKey | None = None,
        timeout_s: float = 10.0,
        clock_s: Callable[[], int] = lambda: int(time.time()),
        limit: TokenBucket | None = None,
    ) -> None:
        self._session = session
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._clock = clock_s
        self.limit = limit or TokenBucket("turbine", 20, 1.0)
        self.requests = 0

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        auth: bool = False,
    ) -> Any:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if auth:
            if self.api_key is None:
                raise VenueError(f"{method} {path} needs a Turbine API key, which is not configured")
            headers["Authorization"] = f"Bearer {self.api_key.token(self._clock())}"
        await self.limit.acquire()
        self.requests += 1
        changes = method != "GET"
        try:
            async with self._session.request(
                method,
                self.base_url + path,
                params=params,
                data=None if body is None else json.dumps(body, separators=(",", ":")).encode(),
                headers=headers,
                timeout=self._timeout,
            ) as resp:
                text = await resp.text()
                status = resp.status
                retry_after = resp.headers.get("Retry-After")
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise TurbineApiError(
                f"{method} {path}: no answer ({type(exc).__name__})", status=0, outcome_unknown=changes
            ) from None
        if status == 429:
            self.limit.penalise(float(retry_after) if retry_after else 1.0)
        if status >= 400:
            raise TurbineApiError(
                f"{method} {path}: HTTP {status}: {text[:300]}",
                status=status,
                body=text,
                outcome_unknown=changes and status >= 500,
            )
        return json.loads(text) if text.strip() else None


async def register_api_key(http: TurbineHttp, private_key: str, name: str = "tradewright") -> ApiKey:
    """Register an API key for the wallet (`POST /api/v1/api-keys`, signed by the wallet). A wallet that
    already has one gets 409: its private key cannot be recovered, so that is a configuration error."""
    body = {
        "address": wallet_address(private_key),
        "signature": registration_signature(private_key),
        "name": name,
    }
    try:
        raw = await http.request("POST", "/api/v1/api-keys", body=body)
    except TurbineApiError as exc:
        if exc.status == 409:
            raise VenueError(
                f"wallet {body['address']} already has a Turbine API key; its private key cannot be shown again: "
                "set the key id and private key you saved in the environment"
            ) from None
        raise
    from tradewright.venues.turbine.parsing import decode

    answer: ApiKeyAnswer = decode(ApiKeyAnswer, raw, "api key answer")
    if not answer.success or not answer.api_key_id or not answer.api_private_key:
        raise VenueError(f"Turbine refused to register an API key: {answer.message or raw}")
    return ApiKey(answer.api_key_id, answer.api_private_key)
