"""Node ids: several live nodes share one database, each reading and writing only its own rows.

Every table a node writes gets `node_id` (rows written before this revision belong to node 'default',
the id a node has unless its config names another). Positions and balances are keyed by node and
instrument / currency. Instruments, API keys and operator accounts stay shared.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

DEFAULT_NODE_ID = "default"  # as in tradewright.store.config (a revision never changes once shipped)

# Tables that gain a plain node_id column, and those of them that get an index on it.
NODE_TABLES = (
    "runs",
    "orders",
    "order_events",
    "fills",
    "strategy_state",
    "audit",
    "risk_events",
    "trade_journal",
    "saga_workflows",
    "saga_steps",
)
INDEXED = ("runs", "orders", "fills", "strategy_state", "saga_workflows")
# Tables whose primary key becomes (node_id, key).
KEYED = {"positions": "instrument_id", "balances": "currency"}


def _column() -> sa.Column[str]:
    return sa.Column("node_id", sa.Text(), nullable=False, server_default=DEFAULT_NODE_ID)


# Money: exact NUMERIC on PostgreSQL, plain-notation TEXT on SQLite (see tradewright.store.columns).
MONEY = sa.Text().with_variant(sa.Numeric(), "postgresql")


def _keyed_columns(table: str) -> list[sa.Column[Any] | sa.ForeignKeyConstraint]:
    """The columns of positions / balances as revision 0001 made them (SQLite copies them whole)."""
    if table == "positions":
        return [
            sa.Column("instrument_id", sa.Text(), nullable=False),
            sa.Column("quantity", MONEY, nullable=False),
            sa.Column("avg_px", MONEY, nullable=False),
            sa.Column("realized_pnl", MONEY, nullable=False),
            sa.Column("fees", MONEY, nullable=False),
            sa.Column("traded_volume", MONEY, nullable=False),
            sa.Column("lots", sa.Text(), nullable=False),
            sa.Column("ts_last", sa.BigInteger(), nullable=False),
            sa.ForeignKeyConstraint(
                ["instrument_id"],
                ["instruments.instrument_id"],
                name="fk_positions_instrument_id_instruments",
            ),
        ]
    return [
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("ts_last", sa.BigInteger(), nullable=False),
    ]


def _rebuild_sqlite(table: str, key: list[str], *, with_node: bool) -> None:
    """SQLite cannot change a primary key in place: build the table anew, copy the rows, swap it in."""
    columns = _keyed_columns(table)
    names = [c.name for c in columns if isinstance(c, sa.Column)]
    new = f"_new_{table}"
    op.create_table(
        new,
        *([_column()] if with_node else []),
        *columns,
        sa.PrimaryKeyConstraint(*key, name=f"pk_{table}"),
    )
    listed = ", ".join(names)
    if with_node:
        op.execute(f"INSERT INTO {new} (node_id, {listed}) SELECT '{DEFAULT_NODE_ID}', {listed} FROM {table}")
    else:
        op.execute(f"INSERT INTO {new} ({listed}) SELECT {listed} FROM {table}")
    op.drop_table(table)
    op.rename_table(new, table)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in NODE_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(_column())
        if table in INDEXED:
            op.create_index(f"ix_{table}_node_id", table, ["node_id"])
    for table, key in KEYED.items():
        if sqlite:
            # SQLite cannot change a primary key in place: batch mode copies the table with the new key.
            _rebuild_sqlite(table, ["node_id", key], with_node=True)
        else:
            op.drop_constraint(f"pk_{table}", table, type_="primary")
            op.add_column(table, _column())
            op.create_primary_key(f"pk_{table}", table, ["node_id", key])


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, key in KEYED.items():
        # Going back to one node per database: keep the 'default' node's rows only.
        op.execute(sa.text(f"DELETE FROM {table} WHERE node_id <> :node").bindparams(node=DEFAULT_NODE_ID))
        if sqlite:
            _rebuild_sqlite(table, [key], with_node=False)
        else:
            op.drop_constraint(f"pk_{table}", table, type_="primary")
            op.drop_column(table, "node_id")
            op.create_primary_key(f"pk_{table}", table, [key])
    for table in reversed(NODE_TABLES):
        if table in INDEXED:
            op.drop_index(f"ix_{table}_node_id", table_name=table)
        # In place on both backends (SQLite >= 3.35, which the store requires): batch mode would copy and
        # drop tables that others' foreign keys point at.
        op.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN node_id"))
