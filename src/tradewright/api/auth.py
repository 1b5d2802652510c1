"""Who is calling, and may they: bearer credentials, browser sessions, roles and rate limits.

A request carries `Authorization: Bearer <credential>`: an API key (`twk_...`, for programs) or an
access token (`twa...`, from `POST /auth/login` or `/auth/refresh`, for the dashboard). The browser's
refresh token is an HttpOnly cookie valid only on `/api/v1/auth`; it is rotated at every refresh and
kept server-side (a restart or logout ends it). A WebSocket, which a browser cannot give headers, shows
a one-time ticket (`POST /auth/ws-ticket`, 30 s) or the same bearer header (programs).

Rate limits are token buckets per caller (reads, commands); halt and flatten are never limited. Login
failures are counted per client address and per (address, user): past `login_max_failures` within
`login_window_s` every attempt is refused with 429 and Retry-After until the window passes.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from collections import deque
from dataclasses import dataclass

from tradewright.api.credentials import TokenSigner, hash_secret, parse_api_key, role_at_least
from tradewright.config.api import ApiConfig
from tradewright.store import ApiKeyRecord, CredentialStore

__all__ = ["Authenticator", "Bucket", "LoginLimiter", "Principal", "RateLimits"]

_KEY_CACHE_S = 2.0  # a revoked key stops working within this long
_TICKET_TTL_S = 30


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: `kind` "key" or "user", `ident` the key id or user name (never a secret)."""

    kind: str
    ident: str
    role: str

    @property
    def actor(self) -> str:
        """How commands and the audit name the caller: "api:key:3f9a1c2e" / "api:user:alice"."""
        return f"api:{self.kind}:{self.ident}"

    def can(self, role: str) -> bool:
        return role_at_least(self.role, role)


class Authenticator:
    """Checks bearer credentials and runs browser sessions (refresh tokens, WebSocket tickets)."""

    def __init__(self, store: CredentialStore, config: ApiConfig) -> None:
        self.store = store
        self.config = config
        self.signer = TokenSigner()
        self._keys: dict[str, tuple[float, ApiKeyRecord | None]] = {}
        self._refresh: dict[str, tuple[str, str, float]] = {}  # token -> (user, role, expiry)
        self._tickets: dict[str, tuple[Principal, float]] = {}

    async def principal(self, credential: str) -> Principal | None:
        """The caller a bearer credential names, or None if it is not valid."""
        if credential.startswith("twa."):
            checked = self.signer.verify(credential)
            return None if checked is None else Principal("user", checked[0], checked[1])
        parts = parse_api_key(credential)
        if parts is None:
            return None
        record = await self._key(parts.key_id)
        if record is None or not record.usable(time.time_ns()):
            return None
        if not hmac.compare_digest(record.secret_hash, hash_secret(parts)):
            return None
        return Principal("key", record.key_id, record.role)

    async def _key(self, key_id: str) -> ApiKeyRecord | None:
        now = time.monotonic()
        cached = self._keys.get(key_id)
        if cached is not None and now - cached[0] < _KEY_CACHE_S:
            return cached[1]
        record = await asyncio.to_thread(self.store.api_key, key_id)
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[key_id] = (now, record)
        return record

    def forget_key(self, key_id: str) -> None:
        self._keys.pop(key_id, None)

    # --- browser sessions -------------------------------------------------------------------
    def access_token(self, user: str, role: str) -> tuple[str, int]:
        return self.signer.issue(user, role, self.config.access_token_ttl_s)

    def new_refresh(self, user: str, role: str) -> str:
        self._expire()
        token = secrets.token_urlsafe(32)
        self._refresh[token] = (user, role, time.time() + self.config.refresh_token_ttl_s)
        return token

    def use_refresh(self, token: str) -> tuple[str, str, str] | None:
        """(user, role, the rotated refresh token) for a valid refresh token; it is spent either way."""
        entry = self._refresh.pop(token, None)
        if entry is None or entry[2] <= time.time():
            return None
        user, role, _ = entry
        return user, role, self.new_refresh(user, role)

    def end_sessions(self, user: str) -> int:
        gone = [t for t, (u, _, _) in self._refresh.items() if u == user]
        for token in gone:
            del self._refresh[token]
        return len(gone)

    def revoke_refresh(self, token: str) -> None:
        self._refresh.pop(token, None)

    def ws_ticket(self, principal: Principal) -> str:
        self._expire()
        ticket = secrets.token_urlsafe(24)
        self._tickets[ticket] = (principal, time.time() + _TICKET_TTL_S)
        return ticket

    def use_ticket(self, ticket: str) -> Principal | None:
        entry = self._tickets.pop(ticket, None)
        if entry is None or entry[1] <= time.time():
            return None
        return entry[0]

    def _expire(self) -> None:
        now = time.time()
        for token in [t for t, v in self._refresh.items() if v[2] <= now]:
            del self._refresh[token]
        for ticket in [t for t, v in self._tickets.items() if v[1] <= now]:
            del self._tickets[ticket]


class Bucket:
    """A token bucket: `rate` per second, `burst` at most."""

    __slots__ = ("burst", "last", "rate", "tokens")

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.last = time.monotonic()

    def take(self) -> float:
        """Take a token; return 0 if one was there, else the seconds until one will be."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class RateLimits:
    """Per-caller buckets for reads and commands."""

    def __init__(self, config: ApiConfig) -> None:
        self.config = config
        self._buckets: dict[tuple[str, str], Bucket] = {}

    def take(self, who: str, kind: str) -> float:
        key = (who, kind)
        bucket = self._buckets.get(key)
        if bucket is None:
            rate = self.config.read_rate_per_s if kind == "read" else self.config.command_rate_per_s
            if len(self._buckets) > 10_000:
                self._buckets.clear()
            bucket = self._buckets[key] = Bucket(rate, max(1.0, rate * 2))
        return bucket.take()


class LoginLimiter:
    """Failed logins per address and per (address, user) within a sliding window."""

    def __init__(self, config: ApiConfig) -> None:
        self.max = config.login_max_failures
        self.window_s = float(config.login_window_s)
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, address: str, user: str) -> float:
        """Seconds until a login from `address` as `user` may be tried again (0: now)."""
        now = time.monotonic()
        wait = 0.0
        for key, limit in ((address, self.max * 4), (f"{address}|{user}", self.max)):
            times = self._failures.get(key)
            if times is None:
                continue
            while times and now - times[0] >= self.window_s:
                times.popleft()
            if len(times) >= limit:
                wait = max(wait, self.window_s - (now - times[0]))
        return wait

    def failed(self, address: str, user: str) -> None:
        now = time.monotonic()
        if len(self._failures) > 100_000:
            self._failures.clear()
        for key in (address, f"{address}|{user}"):
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, address: str, user: str) -> None:
        self._failures.pop(f"{address}|{user}", None)
