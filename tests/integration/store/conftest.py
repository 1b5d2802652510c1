"""Store fixtures: every store test runs on a SQLite file and on PostgreSQL at 127.0.0.1:5432.

Each PostgreSQL test gets its own freshly created schema (selected through the URL's search_path), named
uniquely for this session, and drops it afterwards. Without a reachable server those tests skip, saying so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tradewright.store import SqlStateStore, StoreConfig

PG_DSN = os.environ.get("TRADEWRIGHT_TEST_PG_DSN", "host=127.0.0.1 port=5432 dbname=test user=postgres")
PG_URL = os.environ.get("TRADEWRIGHT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_SESSION = uuid.uuid4().hex[:8]
_pg_error: str | None = None
_pg_checked = False


def pg_unavailable() -> str | None:
    """Return why PostgreSQL cannot be used, or None if it can (checked once per session)."""
    global _pg_checked, _pg_error
    if not _pg_checked:
        _pg_checked = True
        try:
            with psycopg.connect(PG_DSN, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            _pg_error = f"PostgreSQL ({PG_DSN}) is unreachable: {str(exc).strip()}"
    return _pg_error


def pg_admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(PG_DSN, autocommit=True)


class PgSchema:
    """A uniquely named schema; `url` points the store at it."""

    counter = 0

    def __init__(self) -> None:
        PgSchema.counter += 1
        self.name = f"tw_store_{_SESSION}_{PgSchema.counter}"
        self.app = f"tw-test-{self.name}"
        self.url = f"{PG_URL}?options=-csearch_path%3D{self.name}&application_name={self.app}"
        with pg_admin() as conn:
            conn.execute(f'CREATE SCHEMA "{self.name}"')

    def drop(self) -> None:
        with pg_admin() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                (self.app,),
            )
            conn.execute("SET lock_timeout = '10s'")
            conn.execute(f'DROP SCHEMA "{self.name}" CASCADE')


def _url_for(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.sqlite'}"
        return
    reason = pg_unavailable()
    if reason is not None:
        pytest.skip(reason)
    schema = PgSchema()
    try:
        yield schema.url
    finally:
        schema.drop()


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database on the backend under test."""
    yield from _url_for(backend, tmp_path)


@pytest.fixture
def make_store(url: str) -> Iterator[Callable[..., SqlStateStore]]:
    """Open stores on `url` (several = a restart, or several processes); all are closed afterwards."""
    opened: list[SqlStateStore] = []

    def _open(**options: object) -> SqlStateStore:
        store = SqlStateStore(StoreConfig(url=url, **options))  # type: ignore[arg-type]
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: Callable[..., SqlStateStore]) -> SqlStateStore:
    return make_store()
