"""Secrets the API hands out and checks: API keys, operator passwords, short-lived signed tokens.

- API key: `twk_<key id>_<secret>` — 8 hex digits of id (shown in logs and audit) and 32 random bytes
  (base64url). The store keeps `sha256("<key id>:<secret>")` only; the key is shown once at creation.
- Password: scrypt (n=2^14, r=8, p=1, 16-byte salt), stored as `scrypt$n$r$p$salt$hash`. At least 12
  characters and not a well-known default — so a node reachable from the network never runs on one.
- Access token: `twa.<payload>.<signature>`, HMAC-SHA256 over the JSON payload (subject, role, expiry)
  with a key drawn at process start (a restarted node asks everyone to log in again).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from tradewright.core.errors import ConfigError

__all__ = [
    "ROLES",
    "KeyParts",
    "TokenSigner",
    "check_password_strength",
    "hash_password",
    "hash_secret",
    "new_api_key",
    "parse_api_key",
    "role_at_least",
    "verify_password",
]

# metrics: /metrics only; viewer: every read, and halt; operator: commands; admin: resume, loosen, keys.
ROLES = ("metrics", "viewer", "operator", "admin")
_RANK = {role: i for i, role in enumerate(ROLES)}
_WEAK = frozenset(
    {"admin", "password", "changeme", "tradewright", "123456789012", "administrator", "password1234"}
)
_SCRYPT = (1 << 14, 8, 1)


def role_at_least(role: str, needed: str) -> bool:
    return _RANK.get(role, -1) >= _RANK[needed]


@dataclass(frozen=True, slots=True)
class KeyParts:
    key_id: str
    secret: str


def new_api_key() -> tuple[str, KeyParts]:
    """A fresh key: (the full text to hand out once, its parts)."""
    key_id = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    return f"twk_{key_id}_{secret}", KeyParts(key_id, secret)


def parse_api_key(text: str) -> KeyParts | None:
    """The parts of `twk_<id>_<secret>`, or None if the text is not shaped like a key."""
    if not text.startswith("twk_") or len(text) > 200:
        return None
    key_id, sep, secret = text[4:].partition("_")
    if not sep or len(key_id) != 8 or not secret:
        return None
    return KeyParts(key_id, secret)


def hash_secret(parts: KeyParts) -> str:
    return hashlib.sha256(f"{parts.key_id}:{parts.secret}".encode()).hexdigest()


def check_password_strength(password: str) -> None:
    """Refuse short or well-known passwords (ConfigError naming the rule)."""
    if len(password) < 12:
        raise ConfigError("the password must have at least 12 characters")
    if password.lower() in _WEAK:
        raise ConfigError("that password is a well-known default; choose another")


def hash_password(password: str) -> str:
    n, r, p = _SCRYPT
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        computed = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, _unb64(digest))


class TokenSigner:
    """Signs and checks access tokens with a per-process random key."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def issue(self, subject: str, role: str, ttl_s: int) -> tuple[str, int]:
        """A token for `subject` with `role`, valid `ttl_s` seconds: (token, expiry in unix seconds)."""
        expires = int(time.time()) + ttl_s
        payload = _b64(json.dumps({"sub": subject, "role": role, "exp": expires}, separators=(",", ":")).encode())
        return f"twa.{payload}.{self._sign(payload)}", expires

    def verify(self, token: str) -> tuple[str, str] | None:
        """(subject, role) of a valid, unexpired token; None otherwise."""
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != "twa":
            return None
        _, payload, signature = parts
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            claims = json.loads(_unb64(payload))
            subject, role, expires = str(claims["sub"]), str(claims["role"]), int(claims["exp"])
        except (ValueError, KeyError, TypeError):
            return None
        if expires <= time.time() or role not in _RANK:
            return None
        return subject, role

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
