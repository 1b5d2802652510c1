"""Initial schema: runs, instruments, orders, order events, fills, positions, balances, strategy
snapshots, audit and risk events.

Revision ID: 0001
Revises:
Create Date: 2026-05-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Money: exact NUMERIC on PostgreSQL, plain-notation TEXT on SQLite (see tradewright.store.columns).
MONEY = sa.Text().with_variant(sa.Numeric(), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("config_hash", sa.Text(), nullable=False),
        sa.Column("started_ns", sa.BigInteger(), nullable=False),
        sa.Column("ended_ns", sa.BigInteger(), nullable=True),
        sa.Column("exit_status", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name="pk_runs"),
    )
    op.create_table(
        "instruments",
        sa.Column("instrument_id", sa.Text(), nullable=False),
        sa.Column("venue", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("base", sa.Text(), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("settle", sa.Text(), nullable=False),
        sa.Column("tick_size", MONEY, nullable=False),
        sa.Column("lot_size", MONEY, nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("instrument_id", name="pk_instruments"),
    )
    op.create_table(
        "orders",
        sa.Column("client_order_id", sa.Text(), nullable=False),
        sa.Column("strategy_id", sa.Text(), nullable=False),
        sa.Column("instrument_id", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("order_type", sa.Text(), nullable=False),
        sa.Column("time_in_force", sa.Text(), nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.Column("price", MONEY, nullable=True),
        sa.Column("trigger_price", MONEY, nullable=True),
        sa.Column("expire_ns", sa.BigInteger(), nullable=True),
        sa.Column("post_only", sa.Boolean(), nullable=False),
        sa.Column("reduce_only", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("venue_order_id", sa.Text(), nullable=True),
        sa.Column("filled_qty", MONEY, nullable=False),
        sa.Column("avg_px", MONEY, nullable=True),
        sa.Column("fees", MONEY, nullable=False),
        sa.Column("ts_init", sa.BigInteger(), nullable=False),
        sa.Column("ts_last", sa.BigInteger(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("intent", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("client_order_id", name="pk_orders"),
    )
    op.create_index("ix_orders_strategy_id", "orders", ["strategy_id"])
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_index("ix_orders_venue_order_id", "orders", ["venue_order_id"])
    op.create_index("ix_orders_ts_last", "orders", ["ts_last"])
    op.create_table(
        "order_events",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("client_order_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("instrument_id", sa.Text(), nullable=False),
        sa.Column("venue_order_id", sa.Text(), nullable=True),
        sa.Column("ts_event", sa.BigInteger(), nullable=False),
        sa.Column("ts_init", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_order_id"], ["orders.client_order_id"], name="fk_order_events_client_order_id_orders"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_order_events"),
        sa.UniqueConstraint("client_order_id", "seq", name="uq_order_events_client_order_id_seq"),
    )
    op.create_index("ix_order_events_ts_init", "order_events", ["ts_init"])
    op.create_table(
        "fills",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("venue", sa.Text(), nullable=False),
        sa.Column("instrument_id", sa.Text(), nullable=False),
        sa.Column("trade_id", sa.Text(), nullable=False),
        sa.Column("client_order_id", sa.Text(), nullable=False),
        sa.Column("strategy_id", sa.Text(), nullable=False),
        sa.Column("venue_order_id", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("last_px", MONEY, nullable=False),
        sa.Column("last_qty", MONEY, nullable=False),
        sa.Column("liquidity", sa.Text(), nullable=False),
        sa.Column("fee", MONEY, nullable=False),
        sa.Column("fee_currency", sa.Text(), nullable=False),
        sa.Column("ts_event", sa.BigInteger(), nullable=False),
        sa.Column("ts_init", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_order_id"], ["orders.client_order_id"], name="fk_fills_client_order_id_orders"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_fills"),
        sa.UniqueConstraint(
            "venue",
            "instrument_id",
            "trade_id",
            "client_order_id",
            name="uq_fills_venue_instrument_id_trade_id_client_order_id",
        ),
    )
    op.create_index("ix_fills_ts_event", "fills", ["ts_event"])
    op.create_index("ix_fills_strategy_id_id", "fills", ["strategy_id", "id"])
    op.create_table(
        "positions",
        sa.Column("instrument_id", sa.Text(), nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.Column("avg_px", MONEY, nullable=False),
        sa.Column("realized_pnl", MONEY, nullable=False),
        sa.Column("fees", MONEY, nullable=False),
        sa.Column("traded_volume", MONEY, nullable=False),
        sa.Column("lots", sa.Text(), nullable=False),
        sa.Column("ts_last", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_id"], ["instruments.instrument_id"], name="fk_positions_instrument_id_instruments"
        ),
        sa.PrimaryKeyConstraint("instrument_id", name="pk_positions"),
    )
    op.create_table(
        "balances",
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("ts_last", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("currency", name="pk_balances"),
    )
    op.create_table(
        "strategy_state",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("strategy_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("last_fill_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_strategy_state"),
    )
    op.create_index("ix_strategy_state_strategy_id_id", "strategy_state", ["strategy_id", "id"])
    op.create_table(
        "audit",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_audit_run_id_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
    )
    op.create_index("ix_audit_ts_ns", "audit", ["ts_ns"])
    op.create_table(
        "risk_events",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("strategy_id", sa.Text(), nullable=True),
        sa.Column("instrument_id", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_risk_events_run_id_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_risk_events"),
    )
    op.create_index("ix_risk_events_ts_ns", "risk_events", ["ts_ns"])


def downgrade() -> None:
    op.drop_table("risk_events")
    op.drop_table("audit")
    op.drop_table("strategy_state")
    op.drop_table("balances")
    op.drop_table("positions")
    op.drop_table("fills")
    op.drop_table("order_events")
    op.drop_table("orders")
    op.drop_table("instruments")
    op.drop_table("runs")
