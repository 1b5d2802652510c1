"""Binance request signing, checked the way Binance checks it.

REST: HMAC-SHA256 (hex) of ``totalParams`` = the raw query string followed directly by the raw
form body, each without its ``signature`` parameter; the key goes in the ``X-MBX-APIKEY`` header.
WebSocket API: HMAC-SHA256 of the request's params (``apiKey`` included, ``signature`` left out),
sorted by name and joined as ``name=value`` with ``&``.

``timestamp`` (ms) must lie within ``recvWindow`` (default 5000, at most 60000) behind the server's
clock and at most 1000 ms ahead of it. The server's clock here is the host's wall clock: clients sign
with their own clock, not with the replayed recording's.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tradewright.emulator.errors import VenueErrors
from tradewright.emulator.grammar import parse_int

__all__ = ["Signer", "require", "rest_total_params", "sign", "ws_payload", "ws_value"]

_DEFAULT_RECV_WINDOW_MS = 5000
_MAX_RECV_WINDOW_MS = 60000
_MAX_AHEAD_MS = 1000
_MAX_KEY_LEN = 256  # Binance's keys are 64 characters


def _strip_signature(raw: str) -> tuple[str, str | None]:
    """Return (raw without its signature parameter, the signature or None)."""
    if not raw:
        return "", None
    kept: list[str] = []
    signature: str | None = None
    for part in raw.split("&"):
        if part.startswith("signature="):
            signature = part[len("signature=") :]
        else:
            kept.append(part)
    return "&".join(kept), signature


def rest_total_params(raw_query: str, raw_body: str) -> tuple[str, str | None]:
    """Return (the signed payload, the signature sent) of a REST request."""
    query, sig_q = _strip_signature(raw_query)
    body, sig_b = _strip_signature(raw_body)
    return query + body, sig_q if sig_q is not None else sig_b


def ws_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def ws_payload(params: Mapping[str, Any]) -> tuple[str, str | None]:
    """Return (the signed payload, the signature sent) of a WebSocket API request."""
    signature = params.get("signature")
    payload = "&".join(f"{k}={ws_value(v)}" for k, v in sorted(params.items()) if k != "signature")
    return payload, None if signature is None else str(signature)


@dataclass(frozen=True, slots=True)
class Signer:
    """Check API keys, signatures and timestamps against the accounts' secrets."""

    errors: VenueErrors
    secret_of: Callable[[str], str | None]
    wall_ms: Callable[[], int]

    def check_key(self, api_key: object) -> str:
        """Return the API key if it belongs to an account (a key that is not text is malformed)."""
        if not isinstance(api_key, str) or not api_key.strip() or len(api_key) > _MAX_KEY_LEN:
            raise self.errors.api_key_format()
        if self.secret_of(api_key) is None:
            raise self.errors.api_key_rejected()
        return api_key

    def check(self, api_key: object, payload: str, signature: str | None, params: Mapping[str, Any]) -> str:
        """Verify a signed request; return its API key or raise the `BinanceError` Binance would send."""
        key = self.check_key(api_key)
        self.check_timestamp(params)
        if signature is None or not signature:
            raise self.errors.mandatory("signature")
        secret = self.secret_of(key)
        assert secret is not None
        # A payload that is not valid text (lone surrogates) still gets an answer: it cannot match.
        expected = hmac.new(
            secret.encode(), payload.encode(errors="surrogatepass"), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.lower().encode(errors="surrogatepass")):
            raise self.errors.bad_signature()
        return key

    def check_timestamp(self, params: Mapping[str, Any]) -> None:
        raw_ts = params.get("timestamp")
        if raw_ts is None or raw_ts == "":
            raise self.errors.mandatory("timestamp")
        ts = parse_int(ws_value(raw_ts), "timestamp", self.errors)
        window = _DEFAULT_RECV_WINDOW_MS
        raw_window = params.get("recvWindow")
        if raw_window is not None and raw_window != "":
            window = parse_int(ws_value(raw_window), "recvWindow", self.errors)
            if window > _MAX_RECV_WINDOW_MS:
                raise self.errors.recv_window_too_large()
        now = self.wall_ms()
        if ts > now + _MAX_AHEAD_MS:
            raise self.errors.timestamp_ahead()
        if now - ts > window:
            raise self.errors.timestamp_outside_window()


def sign(secret: str, payload: str) -> str:
    """HMAC-SHA256 hex signature (what a client sends); used by the emulator's own tests and docs."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def require(params: Mapping[str, Any], name: str, errors: VenueErrors) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise errors.mandatory(name)
    return str(value)
