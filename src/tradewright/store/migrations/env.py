"""Alembic environment: runs the shipped revisions on the connection `tradewright.store.migrate` passes.

Run through `tradewright db ...`, which hands over a connection from the store's own engine (WAL and
pragmas on SQLite, synchronous_commit on PostgreSQL). Used from the plain `alembic` command instead,
it builds that engine from `sqlalchemy.url` in the ini file or $TRADEWRIGHT_STORE_URL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from tradewright.core.errors import StoreError
from tradewright.store.config import StoreConfig, default_url
from tradewright.store.engine import make_engine
from tradewright.store.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    if context.is_offline_mode():
        raise StoreError("offline (--sql) migrations are not supported; run them against the database")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(StoreConfig(url=context.config.get_main_option("sqlalchemy.url") or default_url()))
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


_main()
