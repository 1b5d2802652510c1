"""The CCXT client of a venue family: a `ccxt.pro` subclass that hands us every raw WebSocket message
before CCXT handles it (our book verification, trades and private pushes read the venue's own text,
exact, whatever CCXT does with it), pointed at the configured hosts, with our rate buckets in front.

CCXT's own rate limiter is off: the venue's documented limits are token buckets here (`RateGate`), so
a 429 or a venue "too many requests" answer can pause exactly the bucket it belongs to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import ccxt.pro

from tradewright.core.errors import ConfigError
from tradewright.venues._ccxt.config import CcxtVenueConfig
from tradewright.venues._ccxt.family import Failure, Family, RateSpec
from tradewright.venues._common.credentials import Credentials
from tradewright.venues._common.ratelimit import TokenBucket

__all__ = ["RateGate", "SecretFilter", "Tap", "make_exchange", "point_urls"]

log = logging.getLogger("tradewright.venues")
T = TypeVar("T")
Tap = Callable[[Any, Any], None]


def point_urls(urls: dict[str, Any], rest_root: str, ws_root: str) -> None:
    """Rewrite scheme and host of every endpoint in CCXT's `urls['api']` tree onto our roots, keeping
    each path (and never leaving a trailing slash where the original had no path)."""
    for key, value in list(urls.items()):
        if isinstance(value, dict):
            point_urls(value, rest_root, ws_root)
        elif isinstance(value, str) and "://" in value:
            parts = urlsplit(value.replace("{hostname}", "host"))
            root = ws_root if parts.scheme in ("ws", "wss") else rest_root
            urls[key] = root.rstrip("/") + parts.path


class SecretFilter(logging.Filter):
    """Redact credential values from CCXT's own log records (at DEBUG it logs request headers, which
    carry the key and, for OKX and Bitget, the passphrase). Attached to CCXT's loggers while a venue is
    connected; `remove()` detaches it."""

    _LOGGERS = ("ccxt", "ccxt.base.exchange", "ccxt.base.ws.client")

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__("tradewright-secrets")
        self._secrets = tuple(s for s in secrets if s)
        for name in self._LOGGERS:
            logging.getLogger(name).addFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        text = record.getMessage()
        if any(secret in text for secret in self._secrets):
            for secret in self._secrets:
                text = text.replace(secret, "***")
            record.msg, record.args = text, ()
        return True

    def remove(self) -> None:
        for name in self._LOGGERS:
            logging.getLogger(name).removeFilter(self)


def make_exchange(family: Family, config: CcxtVenueConfig, creds: Credentials | None, tap: Tap) -> Any:
    """A new CCXT client for the family, its messages tapped, pointed where the config says."""
    base = getattr(ccxt.pro, family.ccxt_id, None)
    if base is None:
        raise ConfigError(
            f"ccxt has no {family.ccxt_id} exchange: install the pinned ccxt (pip install -e '.[live]')"
        )

    class Tapped(base):  # type: ignore[misc, valid-type]
        """CCXT's client, handing every raw message to `tap` before its own handling."""

        def handle_message(self, client: Any, message: Any) -> Any:
            try:
                tap(client, message)
            except Exception:  # our parsing must never take CCXT's connection down
                log.exception("%s: handling a raw message failed", family.name)
            return super().handle_message(client, message)

    Tapped.__name__ = f"Tapped{base.__name__}"
    cls = family.extend(Tapped, tap)
    exchange = cls(
        {
            **family.ccxt_keys(creds),
            "timeout": config.timeout_ms,
            "enableRateLimit": False,  # our token buckets pace requests (RateGate)
            "options": family.options(config),
        }
    )
    family.prepare(exchange, config)
    if config.rest_url is not None and config.ws_url is not None:
        point_urls(exchange.urls["api"], config.rest_url, config.ws_url)
    return exchange


class RateGate:
    """The family's documented limits as token buckets, by name; disabled when `enabled` is False."""

    def __init__(self, rates: Mapping[str, RateSpec], *, enabled: bool = True, pause_s: float = 1.0) -> None:
        self.enabled = enabled
        self.pause_s = pause_s
        self.buckets = {name: TokenBucket(name, spec.capacity, spec.period_s) for name, spec in rates.items()}
        self.rate_limited = 0  # answers that said "too many requests"

    async def acquire(self, bucket: str, weight: float = 1.0) -> None:
        b = self.buckets.get(bucket)
        if b is not None and self.enabled:
            await b.acquire(weight)

    def penalise(self, bucket: str, pause_s: float) -> None:
        self.rate_limited += 1
        b = self.buckets.get(bucket)
        if b is not None:
            b.penalise(pause_s)

    async def call(
        self,
        family: Family,
        bucket: str,
        request: Callable[[], Awaitable[T]],
        *,
        retries: int = 5,
    ) -> T:
        """Send a request through its bucket. An answer that says "too many requests" was refused before
        it was processed: pause the bucket (the venue's Retry-After, or `pause_s`, longer each time) and send it
        again — at most `retries` times, never faster than the bucket allows."""
        attempt = 0
        while True:
            await self.acquire(bucket)
            try:
                return await request()
            except Exception as exc:
                failure, _ = family.classify(exc)
                if failure is not Failure.RATE_LIMITED or attempt >= retries:
                    raise
                attempt += 1
                pause = family.retry_after_s(exc, self.pause_s) * attempt
                log.warning(
                    "%s: too many requests (%s); %s paused %.2f s", family.name, str(exc)[:120], bucket, pause
                )
                self.penalise(bucket, pause)
                if bucket not in self.buckets or not self.enabled:
                    await asyncio.sleep(pause)
