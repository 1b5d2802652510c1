"""SQLAlchemy engines set up for durability, and the translation of driver errors into `StoreError`.

SQLite: WAL journal (readers never block the writer), `synchronous` FULL by default, foreign keys on,
a busy timeout, and write transactions opened with ``BEGIN IMMEDIATE`` so a writer takes the write lock
up front instead of failing half-way when another process holds it. PostgreSQL: every session runs with
``synchronous_commit = on`` whatever the server default, so COMMIT returns only once the WAL is flushed.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry

from tradewright.core.errors import StoreError
from tradewright.store.config import StoreConfig

__all__ = ["STORE_FAILURES", "describe", "make_engine", "store_error"]

_MIN_SQLITE = (3, 35, 0)  # ON CONFLICT ... DO UPDATE and RETURNING


def make_engine(config: StoreConfig) -> Engine:
    """Create the engine for `config.url` with the session settings the store relies on."""
    url = make_url(config.url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, config)
    return _postgres_engine(url, config)


def describe(engine: Engine) -> str:
    """Name the backend and where it is, without the password: 'sqlite /data/x.sqlite'."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return f"sqlite {url.database or ':memory:'}"
    return f"postgresql {url.render_as_string(hide_password=True)}"


def store_error(engine: Engine, operation: str, exc: BaseException) -> StoreError:
    """Build the StoreError for a failed operation: backend, operation, and the driver's own words."""
    cause: BaseException = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    detail = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return StoreError(f"{describe(engine)}: {operation} failed, nothing of it was committed: {detail}")


# Errors that mean the database could not do the work (as opposed to a caller's bug).
STORE_FAILURES: tuple[type[Exception], ...] = (SQLAlchemyError, sqlite3.Error, OSError)


def _sqlite_engine(url: URL, config: StoreConfig) -> Engine:
    if sqlite3.sqlite_version_info < _MIN_SQLITE:
        raise StoreError(
            f"SQLite {sqlite3.sqlite_version} is too old for the store; it needs "
            f"{'.'.join(map(str, _MIN_SQLITE))} or newer"
        )
    memory = url.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {}
    if not memory:
        kwargs["pool_size"] = config.pool_size
    engine = create_engine(url, **kwargs)
    synchronous = config.sqlite_synchronous.value
    busy_ms = config.busy_timeout_ms

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin (see _on_begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
            if not memory:
                mode = cur.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreError(f"sqlite {url.database}: cannot switch to WAL journal mode (got {mode})")
            cur.execute(f"PRAGMA synchronous = {synchronous}")
            cur.execute("PRAGMA foreign_keys = ON")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front; readers (execution option sqlite_begin="DEFERRED") do not,
        # and in WAL mode read a consistent snapshot without ever waiting for a writer.
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {'DEFERRED' if mode == 'DEFERRED' else 'IMMEDIATE'}")

    return engine


def _postgres_engine(url: URL, config: StoreConfig) -> Engine:
    connect_args: dict[str, Any] = {}
    if "application_name" not in url.query:
        connect_args["application_name"] = "tradewright"
    engine = create_engine(url, pool_size=config.pool_size, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute("SET synchronous_commit TO on")
        dbapi_conn.commit()

    return engine
