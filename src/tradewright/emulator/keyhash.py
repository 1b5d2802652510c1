"""Account secrets at rest: only a salted scrypt hash is stored; the secret itself lives in memory.

An HMAC-SHA256 signature can only be checked with the secret itself, so a hash alone could not serve
requests. The emulator therefore never reads a secret from its state file: every start takes each
account's secret from the environment (as configured), checks it against the stored hash (a state file
refuses a different secret for the same key), and keeps it in memory only. Stolen state files hold no
usable key.
"""

from __future__ import annotations

import hashlib
import hmac
import os

__all__ = ["hash_secret", "secret_matches"]

_N, _R, _P = 2**14, 8, 1  # scrypt's interactive-login cost: tens of milliseconds, once per start


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$<salt hex>$<hash hex>`` of the secret (a fresh random salt unless given)."""
    salt = os.urandom(16) if salt is None else salt
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def secret_matches(secret: str, stored: str) -> bool:
    """True when `secret` is the one `stored` was made from (constant-time comparison)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        found = hashlib.scrypt(
            secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(digest) // 2
        )
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(found.hex(), digest)
