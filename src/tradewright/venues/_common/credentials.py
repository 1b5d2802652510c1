"""API credentials: named secret parts read from the environment only, never shown."""

from __future__ import annotations

import os
from collections.abc import Mapping

from tradewright.core.errors import ConfigError

__all__ = ["Credentials"]


class Credentials:
    """Named secret parts (e.g. ``api_key``, ``secret``, ``passphrase``, ``private_key``).

    Values never appear in a repr, a log line or an error message; only the environment variable names
    do. `api_key` is the part that identifies an account (shown abbreviated in a repr); every other part
    is a secret.
    """

    __slots__ = ("_parts", "venue")

    def __init__(self, venue: str, parts: Mapping[str, str]) -> None:
        self.venue = venue
        self._parts = dict(parts)

    @classmethod
    def from_env(
        cls,
        venue: str,
        env_names: Mapping[str, str],
        environ: Mapping[str, str] | None = None,
        *,
        optional: frozenset[str] = frozenset(),
    ) -> Credentials:
        """Read each part from the variable `env_names[part]`; refuse, naming the venue and the missing
        variables, when a required one is unset or empty."""
        env = os.environ if environ is None else environ
        parts = {part: env.get(name, "") for part, name in env_names.items()}
        missing = [env_names[p] for p, value in parts.items() if not value and p not in optional]
        if missing:
            raise ConfigError(
                f"missing {venue} credentials: set {' and '.join(missing)} in the environment "
                "(credentials are read from the environment only, never from the config file)"
            )
        return cls(venue, {p: v for p, v in parts.items() if v})

    def get(self, part: str) -> str:
        """The value of one part; a ConfigError naming the part when it was not given."""
        value = self._parts.get(part)
        if value is None:
            raise ConfigError(f"{self.venue} credentials: `{part}` was not set")
        return value

    def has(self, part: str) -> bool:
        return part in self._parts

    def secrets(self) -> tuple[str, ...]:
        """Every value, for log filters that must redact them."""
        return tuple(v for v in self._parts.values() if v)

    @property
    def api_key(self) -> str:
        return self.get("api_key")

    def __repr__(self) -> str:
        key = self._parts.get("api_key", "")
        shown = key[:4] + "…" if len(key) > 8 else "…"
        hidden = ", ".join(f"{p}=***" for p in sorted(self._parts) if p != "api_key")
        return f"Credentials({self.venue}, api_key={shown!r}{', ' + hidden if hidden else ''})"

    __str__ = __repr__
