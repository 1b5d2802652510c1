"""Check URLs in configs without ever repeating them: a URL can carry a secret by mistake.

A venue URL is a scheme and a host (and a path); a key or password in its user-info
(``https://key:secret@host``) or query (``?apiKey=...``) belongs in the environment instead, and the
error says so without showing the URL — not in the message, not in a log.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from tradewright.core.errors import ConfigError

__all__ = ["SECRET_WORDS", "check_url", "secret_query_names"]

#: Query parameter names that look like they carry a credential.
SECRET_WORDS = ("key", "secret", "token", "password", "passwd", "pwd", "signature", "auth", "credential")


def secret_query_names(query: str) -> list[str]:
    """The names of query parameters that look like credentials (their values are never returned)."""
    names = [name for name, _ in parse_qsl(query, keep_blank_values=True)]
    return [n for n in names if any(word in n.lower() for word in SECRET_WORDS)]


def check_url(key: str, url: str, schemes: tuple[str, ...], *, allow_query: bool = False) -> None:
    """Raise `ConfigError` naming `key` (never the URL) unless `url` is a plain URL of one of `schemes`."""
    try:
        parts = urlsplit(url)
        userinfo = parts.username is not None or parts.password is not None
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:  # e.g. a port that is not a number
        raise ConfigError(f"`{key}` is not a valid URL (not shown: it may hold a secret)") from None
    if userinfo:
        raise ConfigError(
            f"`{key}` must not carry a user name or password (user:password@host); credentials are read "
            "from the environment only. The URL is not shown because of that."
        )
    hidden = secret_query_names(parts.query)
    if hidden:
        raise ConfigError(
            f"`{key}` carries what looks like a credential in its query ({', '.join(sorted(hidden))}); "
            "credentials are read from the environment only. The URL is not shown because of that."
        )
    if parts.scheme not in schemes or not parts.hostname or not port_ok:
        raise ConfigError(
            f"`{key}` must be a {' or '.join(schemes)} URL with a host (e.g. {schemes[-1]}://host)"
        )
    if (parts.query and not allow_query) or parts.fragment:
        raise ConfigError(f"`{key}` must not carry a query or fragment (the URL is not shown)")
