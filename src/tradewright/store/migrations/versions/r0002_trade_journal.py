"""Trade journal: why each position was entered and exited, its R multiple and the market regime.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Money: exact NUMERIC on PostgreSQL, plain-notation TEXT on SQLite (see tradewright.store.columns).
MONEY = sa.Text().with_variant(sa.Numeric(), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "trade_journal",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=True),
        sa.Column("strategy_id", sa.Text(), nullable=False),
        sa.Column("instrument_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("r_multiple", MONEY, nullable=True),
        sa.Column("regime", sa.Text(), nullable=True),
        sa.Column("client_order_id", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_trade_journal_run_id_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_trade_journal"),
    )
    op.create_index("ix_trade_journal_strategy_id_ts_ns", "trade_journal", ["strategy_id", "ts_ns"])


def downgrade() -> None:
    op.drop_table("trade_journal")
