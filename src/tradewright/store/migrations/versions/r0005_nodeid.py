"""Node ids: several live nodes share one database, each reading and writing only its own rows.

Every table a node writes gets `node_id` (rows written before this revision belong to node 'default',
the id a node has unless its config names another). Positions and balances are keyed by node and
instrument / currency. Instruments, API keys and operator accounts stay shared.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

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
            with op.batch_alter_table(table, recreate="always") as batch:
                batch.add_column(_column())
                batch.create_primary_key(f"pk_{table}", ["node_id", key])
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
            with op.batch_alter_table(table, recreate="always") as batch:
                batch.drop_column("node_id")
                batch.create_primary_key(f"pk_{table}", [key])
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
