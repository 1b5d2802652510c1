"""The store's tables (SQLAlchemy Core). The migrations in `migrations/versions` build exactly this.

Conventions: timestamps are UTC integer nanoseconds (BIGINT); money is `ExactDecimal`; enums are their
string values; every message (event, command, instrument, order intent) is also kept whole as msgspec
JSON text, so nothing the model holds is lost even where no column exists for it. Constraint and index
names follow `NAMING_CONVENTION` so that migrations and autogenerate agree on both backends.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)

from tradewright.store.columns import ID_TYPE, ExactDecimal
from tradewright.store.config import DEFAULT_NODE_ID

__all__ = [
    "NAMING_CONVENTION",
    "api_keys",
    "api_users",
    "audit",
    "balances",
    "fills",
    "instruments",
    "metadata",
    "order_events",
    "orders",
    "positions",
    "risk_events",
    "runs",
    "saga_steps",
    "saga_workflows",
    "strategy_state",
    "trade_journal",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _node_id(*, index: bool = False) -> Column[str]:
    """The node that wrote the row (revision 0005): several nodes share one database, each sees only its
    own rows. Instruments, API keys and operator accounts are shared and carry none."""
    return Column("node_id", Text, nullable=False, server_default=DEFAULT_NODE_ID, index=index)


runs = Table(
    "runs",
    metadata,
    Column("run_id", Text, primary_key=True),
    _node_id(index=True),
    Column("mode", Text, nullable=False),
    Column("config_hash", Text, nullable=False),
    Column("started_ns", BigInteger, nullable=False),
    Column("ended_ns", BigInteger, nullable=True),
    Column("exit_status", Text, nullable=True),
)

instruments = Table(
    "instruments",
    metadata,
    Column("instrument_id", Text, primary_key=True),
    Column("venue", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("base", Text, nullable=False),
    Column("quote", Text, nullable=False),
    Column("settle", Text, nullable=False),
    Column("tick_size", ExactDecimal, nullable=False),
    Column("lot_size", ExactDecimal, nullable=False),
    Column("definition", Text, nullable=False),  # the whole Instrument, msgspec JSON
    Column("updated_ns", BigInteger, nullable=False),
)

# Current state of every order we ever meant to send. The truth is `intent` + the order's events;
# these columns are that replay's result, kept for queries and checked on load.
orders = Table(
    "orders",
    metadata,
    Column("client_order_id", Text, primary_key=True),
    _node_id(index=True),
    Column("strategy_id", Text, nullable=False, index=True),
    Column("instrument_id", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("order_type", Text, nullable=False),
    Column("time_in_force", Text, nullable=False),
    Column("quantity", ExactDecimal, nullable=False),
    Column("price", ExactDecimal, nullable=True),
    Column("trigger_price", ExactDecimal, nullable=True),
    Column("expire_ns", BigInteger, nullable=True),
    Column("post_only", Boolean, nullable=False),
    Column("reduce_only", Boolean, nullable=False),
    Column("status", Text, nullable=False, index=True),
    Column("venue_order_id", Text, nullable=True, index=True),
    Column("filled_qty", ExactDecimal, nullable=False),
    Column("avg_px", ExactDecimal, nullable=True),
    Column("fees", ExactDecimal, nullable=False),
    Column("ts_init", BigInteger, nullable=False),
    Column("ts_last", BigInteger, nullable=False, index=True),
    Column("event_count", Integer, nullable=False),  # optimistic concurrency: events applied so far
    Column("intent", Text, nullable=False),  # the original SubmitOrder, msgspec JSON
)

# Append-only: every OrderEvent, in the order it was applied (`seq` counts from 1 per order).
order_events = Table(
    "order_events",
    metadata,
    Column("id", ID_TYPE, primary_key=True, autoincrement=True),
    _node_id(),
    Column("client_order_id", Text, ForeignKey("orders.client_order_id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("instrument_id", Text, nullable=False),
    Column("venue_order_id", Text, nullable=True),
    Column("ts_event", BigInteger, nullable=False),
    Column("ts_init", BigInteger, nullable=False, index=True),
    Column("payload", Text, nullable=False),  # the event, msgspec JSON with its "type" tag
    UniqueConstraint("client_order_id", "seq"),
)

# One row per (order, venue trade). The key is wider than (venue, trade id) on purpose: some venues
# number trades per symbol (Binance), and a self-trade gives one trade id to two of our orders.
fills = Table(
    "fills",
    metadata,
    Column("id", ID_TYPE, primary_key=True, autoincrement=True),
    _node_id(index=True),
    Column("venue", Text, nullable=False),
    Column("instrument_id", Text, nullable=False),
    Column("trade_id", Text, nullable=False),
    Column("client_order_id", Text, ForeignKey("orders.client_order_id"), nullable=False),
    Column("strategy_id", Text, nullable=False),
    Column("venue_order_id", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("last_px", ExactDecimal, nullable=False),
    Column("last_qty", ExactDecimal, nullable=False),
    Column("liquidity", Text, nullable=False),
    Column("fee", ExactDecimal, nullable=False),
    Column("fee_currency", Text, nullable=False),
    Column("ts_event", BigInteger, nullable=False, index=True),
    Column("ts_init", BigInteger, nullable=False),
    Column("payload", Text, nullable=False),  # the OrderFilled event, msgspec JSON
    UniqueConstraint("venue", "instrument_id", "trade_id", "client_order_id"),
    Index("ix_fills_strategy_id_id", "strategy_id", "id"),
)

positions = Table(
    "positions",
    metadata,
    Column("node_id", Text, primary_key=True, server_default=DEFAULT_NODE_ID),
    Column("instrument_id", Text, ForeignKey("instruments.instrument_id"), primary_key=True),
    Column("quantity", ExactDecimal, nullable=False),
    Column("avg_px", ExactDecimal, nullable=False),
    Column("realized_pnl", ExactDecimal, nullable=False),
    Column("fees", ExactDecimal, nullable=False),
    Column("traded_volume", ExactDecimal, nullable=False),
    Column("lots", Text, nullable=False),  # open FIFO lots, oldest first: JSON [["price", "size"], ...]
    Column("ts_last", BigInteger, nullable=False),
)

balances = Table(
    "balances",
    metadata,
    Column("node_id", Text, primary_key=True, server_default=DEFAULT_NODE_ID),
    Column("currency", Text, primary_key=True),
    Column("total", ExactDecimal, nullable=False),
    Column("ts_last", BigInteger, nullable=False),
)

# Snapshots, newest last. `last_fill_id` is the highest fills.id committed when the snapshot was taken:
# the fills a restarted strategy must replay on top of it are that strategy's fills with a higher id.
strategy_state = Table(
    "strategy_state",
    metadata,
    Column("id", ID_TYPE, primary_key=True, autoincrement=True),
    _node_id(index=True),
    Column("strategy_id", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("state", Text, nullable=False),
    Column("ts_ns", BigInteger, nullable=False),
    Column("last_fill_id", BigInteger, nullable=False),
    Index("ix_strategy_state_strategy_id_id", "strategy_id", "id"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", ID_TYPE, primary_key=True, autoincrement=True),
    _node_id(),
    Column("ts_ns", BigInteger, nullable=False, index=True),
    Column("run_id", Text, ForeignKey("runs.run_id"), nullable=True),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("detail", Text, nullable=True),
)

risk_events = Table(
    "risk_events",
    metadata,
    Column("id", ID_TYPE, primary_key=True, autoincrement=True),
    _node_id(),
    Column("ts_ns", BigInteger, nullable=False, index=True),
    Column("run_id", Text, ForeignKey("runs.run_id"), nullable=True),
    Column("kind", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("strategy_id", Text, nullable=True),
    Column("instrument_id", Text, nullable=True),
    Column("detail", Text, nullable=True),
)

# Added by revision 0002.
trade_journal = Table(
    "trade_journal",
    metadata,
    Column("id", ID_TYPE, primary_key=True, autoincrement=True),
    _node_id(),
    Column("ts_ns", BigInteger, nullable=False),
    Column("run_id", Text, ForeignKey("runs.run_id"), nullable=True),
    Column("strategy_id", Text, nullable=False),
    Column("instrument_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("price", ExactDecimal, nullable=False),
    Column("quantity", ExactDecimal, nullable=False),
    Column("reason", Text, nullable=False),
    Column("r_multiple", ExactDecimal, nullable=True),
    Column("regime", Text, nullable=True),
    Column("client_order_id", Text, nullable=True),
    Index("ix_trade_journal_strategy_id_ts_ns", "strategy_id", "ts_ns"),
)

# Added by revision 0003: API keys and operator accounts, hashed (tradewright.api.credentials makes them).
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("secret_hash", Text, nullable=False),
    Column("created_ns", BigInteger, nullable=False),
    Column("expires_ns", BigInteger, nullable=True),
    Column("revoked_ns", BigInteger, nullable=True),
)

api_users = Table(
    "api_users",
    metadata,
    Column("username", Text, primary_key=True),
    Column("role", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_ns", BigInteger, nullable=False),
    Column("updated_ns", BigInteger, nullable=False),
)

# Added by revision 0004: multi-leg workflows (tradewright.engine.executor), written step by step before the
# executor acts, like the order journal. The truth is the steps; `state` is their replay, checked on load.
saga_workflows = Table(
    "saga_workflows",
    metadata,
    Column("workflow_id", Text, primary_key=True),
    _node_id(index=True),
    Column("strategy_id", Text, nullable=False, index=True),
    Column("status", Text, nullable=False, index=True),
    Column("step_count", Integer, nullable=False),  # optimistic concurrency: steps applied so far
    Column("created_ns", BigInteger, nullable=False),
    Column("updated_ns", BigInteger, nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("plan", Text, nullable=False),  # the Plan, msgspec JSON
    Column("state", Text, nullable=False),  # the WorkflowState the steps replay to, msgspec JSON
)

# Append-only: every step (`seq` counts from 1 per workflow). `sent_client_order_id` is set on the steps
# that send an order, and unique: the database itself refuses to record one client order id as sent twice.
saga_steps = Table(
    "saga_steps",
    metadata,
    Column("id", ID_TYPE, primary_key=True, autoincrement=True),
    _node_id(),
    Column("workflow_id", Text, ForeignKey("saga_workflows.workflow_id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("step_type", Text, nullable=False),
    Column("leg", Integer, nullable=True),
    Column("sent_client_order_id", Text, nullable=True, unique=True),
    Column("ts_ns", BigInteger, nullable=False),
    Column("payload", Text, nullable=False),  # the step (a WorkflowEvent), msgspec JSON with its "type" tag
    UniqueConstraint("workflow_id", "seq"),
)
