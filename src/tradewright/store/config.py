"""The store's configuration: one URL chooses the backend."""

from __future__ import annotations

import enum
import os
import re

import msgspec
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from tradewright.core.errors import ConfigError

__all__ = [
    "DEFAULT_NODE_ID",
    "DEFAULT_URL",
    "URL_ENV_VAR",
    "SqliteSync",
    "StoreConfig",
    "default_url",
    "redact_url",
]

DEFAULT_URL = "sqlite:///tradewright.sqlite"
DEFAULT_NODE_ID = "default"
_NODE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
URL_ENV_VAR = "TRADEWRIGHT_STORE_URL"


class SqliteSync(enum.StrEnum):
    """SQLite `PRAGMA synchronous` in WAL mode (see docs/persistence.md, "Durability").

    FULL fsyncs the write-ahead log at every commit: a commit survives power loss. NORMAL fsyncs only
    at checkpoints: a commit survives a crash or kill -9 of the process, but the last commits before a
    power loss or kernel panic can be lost.
    """

    FULL = "FULL"
    NORMAL = "NORMAL"


class StoreConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where and how to store state.

    `url` is ``sqlite:///path/to/file.sqlite`` (the default, a file next to the run) or
    ``postgresql+psycopg://user@host:5432/dbname``; a password belongs in the environment
    (`TRADEWRIGHT_STORE_URL`), never in a config file, and is never shown in reprs or errors.

    `node_id` names the node whose rows this store reads and writes: several nodes (one per venue or
    strategy group) can share one PostgreSQL database, each with its own id, and none sees another's
    orders, fills, positions, balances, snapshots, runs or logs (docs/deployment.md, "Many nodes").
    """

    url: str = DEFAULT_URL
    node_id: str = DEFAULT_NODE_ID
    sqlite_synchronous: SqliteSync = SqliteSync.FULL
    busy_timeout_ms: int = 5_000
    pool_size: int = 5

    def __post_init__(self) -> None:
        try:
            url = make_url(self.url)
        except ArgumentError as exc:
            raise ConfigError(f"store.url {redact_url(self.url)!r} is not a database URL: {exc}") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ConfigError(
                f"store.url: backend {url.get_backend_name()!r} is not supported; use sqlite:/// or postgresql+psycopg://"
            )
        if url.get_backend_name() == "postgresql" and url.get_driver_name() != "psycopg":
            raise ConfigError(
                "store.url: PostgreSQL URLs must use the psycopg 3 driver (postgresql+psycopg://), "
                f"not {url.get_driver_name()}"
            )
        if not _NODE_ID.match(self.node_id):
            raise ConfigError(
                "store.node_id must be 1-40 letters, digits, '_', '.' or '-' (starting with a letter or digit), "
                f"got {self.node_id!r}"
            )
        if self.busy_timeout_ms < 0:
            raise ConfigError(f"store.busy_timeout_ms must be >= 0, got {self.busy_timeout_ms}")
        if self.pool_size < 1:
            raise ConfigError(f"store.pool_size must be >= 1, got {self.pool_size}")

    @property
    def backend(self) -> str:
        """'sqlite' or 'postgresql'."""
        return make_url(self.url).get_backend_name()

    def __repr__(self) -> str:
        return (
            f"StoreConfig(url={redact_url(self.url)!r}, node_id={self.node_id!r}, sqlite_synchronous={self.sqlite_synchronous.value!r}, "
            f"busy_timeout_ms={self.busy_timeout_ms}, pool_size={self.pool_size})"
        )

    __str__ = __repr__


def redact_url(url: str) -> str:
    """Return the URL with any password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def default_url() -> str:
    """Return $TRADEWRIGHT_STORE_URL if set, else the default SQLite file."""
    return os.environ.get(URL_ENV_VAR) or DEFAULT_URL
