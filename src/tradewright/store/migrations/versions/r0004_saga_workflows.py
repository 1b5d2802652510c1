"""Saga tables for multi-leg workflows: each workflow's current state and its steps, recorded before the
executor acts on them (see docs/architecture.md, "Multi-leg workflows").

Revision ID: 0004
Revises: 0003
Create Date: 2026-05-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "saga_workflows",
        sa.Column("workflow_id", sa.Text(), nullable=False),
        sa.Column("strategy_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("step_count", sa.Integer(), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("workflow_id", name="pk_saga_workflows"),
    )
    op.create_index("ix_saga_workflows_strategy_id", "saga_workflows", ["strategy_id"])
    op.create_index("ix_saga_workflows_status", "saga_workflows", ["status"])
    op.create_index("ix_saga_workflows_updated_ns", "saga_workflows", ["updated_ns"])
    op.create_table(
        "saga_steps",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("workflow_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("step_type", sa.Text(), nullable=False),
        sa.Column("leg", sa.Integer(), nullable=True),
        sa.Column("sent_client_order_id", sa.Text(), nullable=True),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"], ["saga_workflows.workflow_id"], name="fk_saga_steps_workflow_id_saga_workflows"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_saga_steps"),
        sa.UniqueConstraint("workflow_id", "seq", name="uq_saga_steps_workflow_id_seq"),
        sa.UniqueConstraint("sent_client_order_id", name="uq_saga_steps_sent_client_order_id"),
    )


def downgrade() -> None:
    op.drop_table("saga_steps")
    op.drop_table("saga_workflows")
