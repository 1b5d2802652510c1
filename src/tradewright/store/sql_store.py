"""`SqlStateStore`: the state store on SQLite or PostgreSQL (SQLAlchemy Core).

Every public write is one transaction, committed before the method returns; inside `batch()` the writes
share one transaction that commits when the block exits. A failed commit raises `StoreError` and rolls
back everything the transaction held. Orders are kept current by applying each event to the stored order
with the model's state machine, so the store refuses an event the order cannot take (it raises
`InvalidStateTransition` and writes nothing), exactly as the in-memory order would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from decimal import Decimal
from types import TracebackType
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.schema import Table

from tradewright.core.errors import InvalidOrderError, InvalidStateTransition, StoreError
from tradewright.core.ids import StrategyId
from tradewright.model.commands import Command
from tradewright.model.events import OrderEvent, OrderFilled
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.model.position import Position
from tradewright.store import codec, credentials, loader
from tradewright.store.config import StoreConfig
from tradewright.store.credentials import ApiKeyRecord, UserRecord
from tradewright.store.engine import describe, make_engine
from tradewright.store.migrate import prepare_schema
from tradewright.store.records import (
    AuditRecord,
    JournalEntry,
    RiskEventRecord,
    RunRecord,
    StoreState,
    StrategySnapshot,
)
from tradewright.store.schema import (
    audit,
    balances,
    fills,
    instruments,
    order_events,
    orders,
    positions,
    risk_events,
    runs,
    strategy_state,
    trade_journal,
)
from tradewright.store.transactions import Transactions, Tx

__all__ = ["SqlStateStore", "open_store"]


class SqlStateStore:
    """The state store (see `tradewright.store.ports.StateStore` for the contract of each method).

    Thread-safe: one lock serialises transactions, and a `batch()` holds it until it commits. Opening a
    store on an empty database creates the schema; a database at an older revision is refused until
    `tradewright db upgrade` has run.
    """

    def __init__(self, config: StoreConfig | None = None) -> None:
        self.config = config or StoreConfig()
        self.engine: Engine = make_engine(self.config)
        self._txns = Transactions(self.engine, on_abort=self._forget)
        self._orders: dict[str, Order] = {}  # orders we touched that are not finished yet
        self._known_instruments: set[str] = set()
        self._run_id: str | None = None
        self._node = self.config.node_id
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        self._insert: Callable[[Table], Any] = dialect.insert
        try:
            prepare_schema(self.engine)
        except BaseException:
            self.engine.dispose()
            raise

    @property
    def backend(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @property
    def node_id(self) -> str:
        """The node whose rows this store reads and writes (`StoreConfig.node_id`)."""
        return self._node

    @property
    def transactions(self) -> Transactions:
        """This store's transactions (one lock, one open batch): other tables' writers on the same database
        (the saga store) share them, so their writes join a batch and serialise with this store's."""
        return self._txns

    @property
    def run_id(self) -> str | None:
        """The run given to `start_run`, which stamps audit records written without one."""
        return self._run_id

    def __repr__(self) -> str:
        return f"SqlStateStore({describe(self.engine)}, node {self._node})"

    def close(self) -> None:
        """Release every connection. Committed state is already durable; this loses nothing."""
        self._txns.close()

    def __enter__(self) -> SqlStateStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- transactions -----------------------------------------------------------------------
    def batch(self) -> AbstractContextManager[None]:
        """Group the writes made inside the block into one transaction, committed when it exits.

        Each write inside returns once staged; none is durable until the block has exited without an
        exception, so act on them (send the order) only after it. Nested batches join the outer one.
        The batch holds the store's lock: other threads' writes wait until it commits.
        """
        return self._txns.batch()

    def _forget(self, client_order_ids: Iterable[str]) -> None:
        """Drop cached orders whose in-memory state may be ahead of the database; they are rebuilt
        from the database (through the open transaction, if any) when next needed."""
        for cid in client_order_ids:
            self._orders.pop(cid, None)

    # --- orders -----------------------------------------------------------------------------
    def record_intent(self, order: Order) -> bool:
        """Store a new order before it is sent; False if this very intent is already stored."""
        if len(order.events) > 1:
            raise InvalidOrderError(
                f"record_intent takes an order before it is sent (at most its OrderSubmitted or OrderDenied); "
                f"order {order.client_order_id} already has {len(order.events)} events"
            )
        intent = codec.intent_of(order)
        try:
            stored = codec.rebuild_order(intent, order.events)  # our own copy; the caller keeps theirs
        except StoreError as exc:
            raise InvalidOrderError(f"record_intent: {exc}") from None
        row = {**codec.order_row(stored, intent), "node_id": self._node}
        cid = order.client_order_id
        with self._txns.write("record_intent") as tx:
            if tx.write(self._insert(orders).on_conflict_do_nothing(), row).rowcount == 0:
                self._check_same_intent(tx.conn, row, stored)
                return False
            for seq, event in enumerate(stored.events, 1):
                tx.write(insert(order_events), {**codec.event_row(event, seq), "node_id": self._node})
            tx.touch(cid)
            self._orders[cid] = stored
            tx.after_commit.append(lambda: self._forget_if_finished(cid))
        return True

    def _check_same_intent(self, conn: Connection, row: Mapping[str, Any], order: Order) -> None:
        cid = order.client_order_id
        existing, owner = conn.execute(
            select(orders.c.intent, orders.c.node_id).where(orders.c.client_order_id == cid)
        ).one()
        if owner != self._node:
            raise InvalidOrderError(
                f"client order id {cid} is already recorded by node {owner!r} of this database; nodes that "
                "share a database need distinct strategy ids (client order ids are unique per database)"
            )
        payloads = conn.execute(
            select(order_events.c.payload)
            .where(and_(order_events.c.client_order_id == cid, order_events.c.seq <= len(order.events)))
            .order_by(order_events.c.seq)
        ).scalars()
        same_events = [codec.decode_event(p) for p in payloads] == order.events
        if existing != row["intent"] or not same_events:
            raise InvalidOrderError(
                f"client order id {cid} is already recorded with different terms or events; "
                "client order ids must be unique, and later events go through record_order_event"
            )

    def record_order_event(self, event: OrderEvent) -> bool:
        """Append an order event and update the order, in one transaction; False for a repeat."""
        if isinstance(event, OrderFilled):
            raise TypeError("record fills with record_fill, which stores the position and balances with them")
        with self._txns.write("record_order_event") as tx:
            order = self._order_for(tx, event.client_order_id)
            if order.events and order.events[-1] == event:
                return False  # a retry of the last call, whose commit did happen
            self._apply(tx, order, event)
            self._append_event(tx, order, event)
        return True

    def record_fill(
        self, fill: OrderFilled, position_after: Position, balances_after: Mapping[str, Decimal]
    ) -> bool:
        """Store fill, order state, position and balances in one transaction; False for a duplicate."""
        if position_after.instrument.id != fill.instrument_id:
            raise ValueError(
                f"fill in {fill.instrument_id} came with the position in {position_after.instrument.id}"
            )
        key = {
            "venue": fill.instrument_id.venue,
            "instrument_id": str(fill.instrument_id),
            "trade_id": fill.trade_id,
            "client_order_id": fill.client_order_id,
        }
        with self._txns.write("record_fill") as tx:
            seen = tx.conn.execute(
                select(fills.c.id).where(and_(*(fills.c[k] == v for k, v in key.items())))
            ).first()
            if seen is not None:
                return False
            order = self._order_for(tx, fill.client_order_id)
            self._apply(tx, order, fill)
            inserted = tx.write(
                self._insert(fills).on_conflict_do_nothing().returning(fills.c.id),
                {**codec.fill_row(fill, order.strategy_id), "node_id": self._node},
            ).first()
            if inserted is None:  # another writer recorded it between our check and insert
                self._orders.pop(order.client_order_id, None)
                return False
            self._append_event(tx, order, fill)
            self._ensure_instrument(tx, position_after.instrument, fill.ts_init)
            self._upsert(tx, positions, [self._position_row(position_after, fill.ts_event)], "instrument_id")
            self._upsert_balances(tx, balances_after, fill.ts_event)
        return True

    def _order_for(self, tx: Tx, client_order_id: str) -> Order:
        order = self._orders.get(client_order_id)
        if order is None:
            order = loader.load_order(tx.conn, client_order_id, self._node)
            if order is None:
                raise InvalidStateTransition(
                    f"order {client_order_id} is not in the store; record_intent comes first"
                )
            self._orders[client_order_id] = order
        return order

    def _apply(self, tx: Tx, order: Order, event: OrderEvent) -> None:
        cid = order.client_order_id
        tx.touch(cid)
        try:
            order.apply(event)
        except BaseException:
            self._orders.pop(cid, None)
            raise
        tx.after_commit.append(lambda: self._forget_if_finished(cid))

    def _append_event(self, tx: Tx, order: Order, event: OrderEvent) -> None:
        seq = len(order.events)
        # The guarded UPDATE first: if another writer moved the order on, say so (rather than hit the
        # unique (order, seq) key with a less helpful message).
        updated = tx.write(
            update(orders).where(
                and_(
                    orders.c.client_order_id == order.client_order_id,
                    orders.c.node_id == self._node,
                    orders.c.event_count == seq - 1,
                )
            ),
            codec.order_state(order),
        )
        if updated.rowcount != 1:
            raise StoreError(
                f"{describe(self.engine)}: order {order.client_order_id} was changed by another writer "
                f"(expected {seq - 1} stored events); reload state before writing again"
            )
        tx.write(insert(order_events), {**codec.event_row(event, seq), "node_id": self._node})

    def _forget_if_finished(self, client_order_id: str) -> None:
        order = self._orders.get(client_order_id)
        if order is not None and order.status.is_terminal:
            del self._orders[client_order_id]

    # --- instruments, positions, balances ---------------------------------------------------
    def save_instrument(self, instrument: Instrument, *, ts_ns: int) -> None:
        """Insert or replace an instrument's definition."""
        with self._txns.write("save_instrument") as tx:
            self._upsert(tx, instruments, [codec.instrument_row(instrument, ts_ns)], "instrument_id")
            tx.after_commit.append(lambda: self._known_instruments.add(str(instrument.id)))

    def save_portfolio(
        self, positions_now: Iterable[Position], balances_now: Mapping[str, Decimal], *, ts_ns: int
    ) -> None:
        """Overwrite positions and balances outside a fill, in one transaction."""
        held = list(positions_now)
        rows = [self._position_row(p, ts_ns) for p in held]
        with self._txns.write("save_portfolio") as tx:
            for p in held:
                self._ensure_instrument(tx, p.instrument, ts_ns)
            if rows:
                self._upsert(tx, positions, rows, "instrument_id")
            self._upsert_balances(tx, balances_now, ts_ns)

    def _ensure_instrument(self, tx: Tx, instrument: Instrument, ts_ns: int) -> None:
        key = str(instrument.id)
        if key in self._known_instruments:
            return
        tx.write(self._insert(instruments).on_conflict_do_nothing(), codec.instrument_row(instrument, ts_ns))
        tx.after_commit.append(lambda: self._known_instruments.add(key))

    def _upsert_balances(self, tx: Tx, amounts: Mapping[str, Decimal], ts_ns: int) -> None:
        rows = [
            {"node_id": self._node, "currency": c, "total": v, "ts_last": ts_ns}
            for c, v in sorted(amounts.items())
        ]
        if rows:
            self._upsert(tx, balances, rows, "currency")

    def _position_row(self, position: Position, ts_ns: int) -> dict[str, Any]:
        return {**codec.position_row(position, ts_ns), "node_id": self._node}

    def _upsert(self, tx: Tx, table: Table, rows: list[dict[str, Any]], key: str) -> None:
        # Positions and balances are keyed by (node_id, key); instruments by their id alone (shared).
        keys = ["node_id", key] if "node_id" in table.c else [key]
        stmt = self._insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=keys, set_={c: stmt.excluded[c] for c in rows[0] if c not in keys}
        )
        tx.write(stmt, rows)

    # --- strategies, runs, logs -------------------------------------------------------------
    def save_strategy_snapshot(
        self, strategy_id: StrategyId, version: int, state: object, *, ts_ns: int
    ) -> StrategySnapshot:
        """Store a strategy's state as JSON, with the fill watermark for replay."""
        state_json = codec.encode(state)
        with self._txns.write("save_strategy_snapshot") as tx:
            last_fill_id = tx.conn.execute(
                select(func.coalesce(func.max(fills.c.id), 0)).where(fills.c.node_id == self._node)
            ).scalar_one()
            snapshot = StrategySnapshot(
                strategy_id=strategy_id,
                version=version,
                state=state_json,
                ts_ns=ts_ns,
                last_fill_id=last_fill_id,
            )
            tx.write(
                insert(strategy_state),
                {
                    "node_id": self._node,
                    "strategy_id": strategy_id,
                    "version": version,
                    "state": state_json,
                    "ts_ns": ts_ns,
                    "last_fill_id": last_fill_id,
                },
            )
        return snapshot

    def start_run(self, run: RunRecord) -> None:
        """Record a run's start; later log records without a run id are stamped with it."""
        with self._txns.write("start_run") as tx:
            tx.write(insert(runs), {**_fields(run), "node_id": self._node})
            tx.after_commit.append(lambda: self._set_run(run.run_id))

    def _set_run(self, run_id: str) -> None:
        self._run_id = run_id

    def end_run(self, run_id: str, *, ended_ns: int, exit_status: str) -> None:
        """Record a run's end."""
        with self._txns.write("end_run") as tx:
            done = tx.write(
                update(runs).where(and_(runs.c.run_id == run_id, runs.c.node_id == self._node)),
                {"ended_ns": ended_ns, "exit_status": exit_status},
            )
            if done.rowcount != 1:
                raise StoreError(f"{describe(self.engine)}: end_run: no run {run_id!r} was started")

    def record_command(self, command: Command, *, reason: str = "") -> None:
        """Audit a command: actor, type, reason, time and the command itself."""
        self.record_audit(
            AuditRecord(
                ts_ns=command.ts_init,
                actor=command.actor,
                action=type(command).__name__,
                reason=reason,
                detail=codec.encode(command),
            )
        )

    def record_audit(self, record: AuditRecord) -> None:
        """Append an audit record."""
        with self._txns.write("record_audit") as tx:
            tx.write(
                insert(audit),
                {**_fields(record), "run_id": record.run_id or self._run_id, "node_id": self._node},
            )

    def record_risk_event(self, record: RiskEventRecord) -> None:
        """Append a risk event."""
        row = _fields(record)
        row["instrument_id"] = None if record.instrument_id is None else str(record.instrument_id)
        with self._txns.write("record_risk_event") as tx:
            tx.write(
                insert(risk_events), {**row, "run_id": record.run_id or self._run_id, "node_id": self._node}
            )

    def record_journal(self, entry: JournalEntry) -> None:
        """Append a trade journal line."""
        row = _fields(entry)
        row["instrument_id"] = str(entry.instrument_id)
        with self._txns.write("record_journal") as tx:
            tx.write(
                insert(trade_journal), {**row, "run_id": entry.run_id or self._run_id, "node_id": self._node}
            )

    # --- reads ------------------------------------------------------------------------------
    def load_state(self, *, orders_since_ns: int | None = None) -> StoreState:
        """Read what a restart needs in one consistent snapshot."""
        with self._txns.read("load_state") as conn:
            return loader.load_state(conn, orders_since_ns, self._node)

    def read_audit(self, *, since_ns: int = 0, limit: int = 1000) -> list[AuditRecord]:
        """Return audit records from `since_ns` on, oldest first."""
        with self._txns.read("read_audit") as conn:
            return loader.read_audit(conn, since_ns, limit, self._node)

    def read_risk_events(self, *, since_ns: int = 0, limit: int = 1000) -> list[RiskEventRecord]:
        """Return risk events from `since_ns` on, oldest first."""
        with self._txns.read("read_risk_events") as conn:
            return loader.read_risk_events(conn, since_ns, limit, self._node)

    def read_journal(
        self, *, strategy_id: StrategyId | None = None, since_ns: int = 0, limit: int = 1000
    ) -> list[JournalEntry]:
        """Return journal lines from `since_ns` on (one strategy's, if given), oldest first."""
        with self._txns.read("read_journal") as conn:
            return loader.read_journal(conn, strategy_id, since_ns, limit, self._node)

    def read_fills(
        self, *, since_ns: int = 0, strategy_id: StrategyId | None = None, limit: int = 500
    ) -> list[OrderFilled]:
        """Return fills from `since_ns` on (one strategy's, if given), newest first."""
        with self._txns.read("read_fills") as conn:
            return credentials.read_fills(conn, since_ns, strategy_id, limit, self._node)

    # --- API credentials (hashes only; see tradewright.api.credentials) ---------------------
    def save_api_key(self, record: ApiKeyRecord) -> None:
        """Store a new API key (its hash); StoreError if the id is taken."""
        with self._txns.write("save_api_key") as tx:
            credentials.insert_key(tx, record)

    def revoke_api_key(self, key_id: str, *, ts_ns: int) -> bool:
        """Revoke a key; False if there is no such unrevoked key."""
        with self._txns.write("revoke_api_key") as tx:
            return credentials.revoke_key(tx, key_id, ts_ns)

    def api_key(self, key_id: str) -> ApiKeyRecord | None:
        with self._txns.read("api_key") as conn:
            return credentials.read_key(conn, key_id)

    def api_keys(self) -> list[ApiKeyRecord]:
        with self._txns.read("api_keys") as conn:
            return credentials.read_keys(conn)

    def save_user(self, record: UserRecord) -> None:
        """Create an operator account, or change its role and password."""
        with self._txns.write("save_user") as tx:
            credentials.upsert_user(tx, record)

    def remove_user(self, username: str) -> bool:
        with self._txns.write("remove_user") as tx:
            return credentials.delete_user(tx, username)

    def user(self, username: str) -> UserRecord | None:
        with self._txns.read("user") as conn:
            return credentials.read_user(conn, username)

    def users(self) -> list[UserRecord]:
        with self._txns.read("users") as conn:
            return credentials.read_users(conn)


def _fields(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__struct_fields__}


def open_store(url: str | None = None, **options: Any) -> SqlStateStore:
    """Open the store at `url` (default: the SQLite file `tradewright.sqlite`); `options` are StoreConfig fields."""
    config = StoreConfig(**options) if url is None else StoreConfig(url=url, **options)
    return SqlStateStore(config)
