"""The durability settings each backend runs with, and the configuration that selects the backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from tradewright.core.errors import ConfigError
from tradewright.store import SqliteSync, SqlStateStore, StateStore, StoreConfig, open_store


def test_sqlite_runs_in_wal_mode_with_full_sync_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}", busy_timeout_ms=1234)

    with store.engine.connect() as conn:
        pragmas = {
            p: conn.exec_driver_sql(f"PRAGMA {p}").scalar_one()
            for p in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    store.close()

    assert pragmas == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 1234}
    assert (tmp_path / "s.sqlite-wal").exists() or (tmp_path / "s.sqlite").exists()


def test_sqlite_synchronous_normal_can_be_chosen(tmp_path: Path) -> None:
    store = SqlStateStore(
        StoreConfig(url=f"sqlite:///{tmp_path / 's.sqlite'}", sqlite_synchronous=SqliteSync.NORMAL)
    )

    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 1
    store.close()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgres_sessions_commit_synchronously(store: SqlStateStore) -> None:
    with store.engine.connect() as conn:
        assert conn.execute(text("SHOW synchronous_commit")).scalar_one() == "on"
        assert (
            conn.execute(text("SELECT current_setting('application_name')"))
            .scalar_one()
            .startswith("tw-test-")
        )


def test_the_store_names_its_backend(store: SqlStateStore, backend: str) -> None:
    assert store.backend == backend
    assert repr(store).startswith(f"SqlStateStore({backend} ")


def test_a_password_in_the_url_never_shows_in_the_config_repr() -> None:
    config = StoreConfig(url="postgresql+psycopg://trader:hunter2@db.internal:5432/tw")

    assert "hunter2" not in repr(config)
    assert "trader:***@db.internal" in str(config)
    assert config.backend == "postgresql"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@h/db", "backend 'mysql' is not supported"),
        ("postgresql+psycopg2://u@h/db", "must use the psycopg 3 driver"),
        ("not a url", "is not a database URL"),
    ],
)
def test_an_unsupported_url_is_a_config_error(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        StoreConfig(url=url)


def test_unknown_config_keys_are_errors() -> None:
    import msgspec

    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.convert({"url": "sqlite:///x.sqlite", "synchronous": "OFF"}, StoreConfig)


def test_the_sql_store_implements_the_port(store: SqlStateStore) -> None:
    port: StateStore = store  # checked by mypy --strict: every method of the Protocol, same signatures

    assert port.load_state().orders == {}
