"""Reads: rebuild the state a restart needs, and page through the logs. Each function takes an open
connection, so the caller decides the transaction (one snapshot for all of `load_state`)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.engine import Connection

from tradewright.core.errors import StoreError
from tradewright.core.ids import ClientOrderId, InstrumentId, StrategyId
from tradewright.model.enums import OrderSide, OrderStatus
from tradewright.model.events import OrderEvent, OrderFilled
from tradewright.model.instrument import Instrument
from tradewright.model.orders import Order
from tradewright.store import codec
from tradewright.store.records import (
    AuditRecord,
    JournalEntry,
    JournalKind,
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

__all__ = ["load_order", "load_state", "read_audit", "read_journal", "read_risk_events"]

# Not terminal: working at the venue, or an intent that may or may not have reached it.
UNFINISHED = tuple(s.value for s in OrderStatus if not s.is_terminal)


def load_state(conn: Connection, orders_since_ns: int | None, node_id: str) -> StoreState:
    """What node `node_id` needs to restart; other nodes' rows in the same database are not read."""
    instrument_map = _instruments(conn)
    order_filter: ColumnElement[bool] = orders.c.status.in_(UNFINISHED)
    if orders_since_ns is not None:
        order_filter = or_(order_filter, orders.c.ts_last >= orders_since_ns)
    loaded = _orders(conn, and_(orders.c.node_id == node_id, order_filter))
    snapshots = _latest_snapshots(conn, node_id)
    return StoreState(
        instruments=instrument_map,
        orders=loaded,
        open_orders={cid: o for cid, o in loaded.items() if not o.status.is_terminal},
        positions={
            p.instrument.id: p
            for p in (
                codec.position_from_row(r._mapping, instrument_map)
                for r in conn.execute(select(positions).where(positions.c.node_id == node_id))
            )
        },
        balances={
            r.currency: r.total
            for r in conn.execute(
                select(balances.c.currency, balances.c.total).where(balances.c.node_id == node_id)
            )
        },
        snapshots=snapshots,
        fills_since_snapshot={
            sid: _fills_after(conn, sid, snap.last_fill_id, node_id) for sid, snap in snapshots.items()
        },
        last_run=_last_run(conn, node_id),
    )


def load_order(conn: Connection, client_order_id: str, node_id: str) -> Order | None:
    """Rebuild one of node `node_id`'s orders from its intent and events, or return None if it is not stored."""
    where = and_(orders.c.client_order_id == client_order_id, orders.c.node_id == node_id)
    return _orders(conn, where).get(ClientOrderId(client_order_id))


def _instruments(conn: Connection) -> dict[InstrumentId, Instrument]:
    result: dict[InstrumentId, Instrument] = {}
    for (definition,) in conn.execute(select(instruments.c.definition)):
        inst = codec.decode_instrument(definition)
        result[inst.id] = inst
    return result


def _orders(conn: Connection, where: ColumnElement[bool]) -> dict[ClientOrderId, Order]:
    heads = conn.execute(
        select(
            orders.c.client_order_id,
            orders.c.intent,
            orders.c.status,
            orders.c.filled_qty,
            orders.c.event_count,
        ).where(where)
    ).all()
    if not heads:
        return {}
    events: dict[str, list[OrderEvent]] = defaultdict(list)
    joined = (
        select(order_events.c.client_order_id, order_events.c.payload)
        .join(orders, orders.c.client_order_id == order_events.c.client_order_id)
        .where(where)
        .order_by(order_events.c.client_order_id, order_events.c.seq)
    )
    for cid, payload in conn.execute(joined):
        events[cid].append(codec.decode_event(payload))
    result: dict[ClientOrderId, Order] = {}
    for head in heads:
        order = codec.rebuild_order(codec.decode_intent(head.intent), events.get(head.client_order_id, ()))
        if (order.status.value, order.filled_qty, len(order.events)) != (
            head.status,
            head.filled_qty,
            head.event_count,
        ):
            raise StoreError(
                f"order {head.client_order_id}: stored state ({head.status}, filled {head.filled_qty}, "
                f"{head.event_count} events) disagrees with its replayed events ({order.status}, filled "
                f"{order.filled_qty}, {len(order.events)} events)"
            )
        result[order.client_order_id] = order
    return result


def _latest_snapshots(conn: Connection, node_id: str) -> dict[StrategyId, StrategySnapshot]:
    newest = (
        select(func.max(strategy_state.c.id))
        .where(strategy_state.c.node_id == node_id)
        .group_by(strategy_state.c.strategy_id)
        .scalar_subquery()
    )
    rows = conn.execute(select(strategy_state).where(strategy_state.c.id.in_(newest)))
    return {
        StrategyId(r.strategy_id): StrategySnapshot(
            strategy_id=StrategyId(r.strategy_id),
            version=r.version,
            state=r.state,
            ts_ns=r.ts_ns,
            last_fill_id=r.last_fill_id,
        )
        for r in rows
    }


def _fills_after(conn: Connection, strategy_id: str, fill_id: int, node_id: str) -> list[OrderFilled]:
    rows = conn.execute(
        select(fills.c.payload)
        .where(and_(fills.c.node_id == node_id, fills.c.strategy_id == strategy_id, fills.c.id > fill_id))
        .order_by(fills.c.id)
    )
    result: list[OrderFilled] = []
    for (payload,) in rows:
        event = codec.decode_event(payload)
        if not isinstance(event, OrderFilled):
            raise StoreError(f"fills row holds a {type(event).__name__}, not an OrderFilled")
        result.append(event)
    return result


def _last_run(conn: Connection, node_id: str) -> RunRecord | None:
    fields = [runs.c[name] for name in RunRecord.__struct_fields__]
    row = conn.execute(
        select(*fields)
        .where(runs.c.node_id == node_id)
        .order_by(runs.c.started_ns.desc(), runs.c.run_id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return RunRecord(**row._asdict())


def read_audit(conn: Connection, since_ns: int, limit: int, node_id: str) -> list[AuditRecord]:
    query = _page(
        select(audit).where(and_(audit.c.node_id == node_id, audit.c.ts_ns >= since_ns)),
        audit.c.ts_ns,
        audit.c.id,
        limit,
    )
    return [
        AuditRecord(
            ts_ns=r.ts_ns, actor=r.actor, action=r.action, reason=r.reason, detail=r.detail, run_id=r.run_id
        )
        for r in conn.execute(query)
    ]


def read_risk_events(conn: Connection, since_ns: int, limit: int, node_id: str) -> list[RiskEventRecord]:
    query = _page(
        select(risk_events).where(and_(risk_events.c.node_id == node_id, risk_events.c.ts_ns >= since_ns)),
        risk_events.c.ts_ns,
        risk_events.c.id,
        limit,
    )
    return [
        RiskEventRecord(
            ts_ns=r.ts_ns,
            kind=r.kind,
            message=r.message,
            strategy_id=None if r.strategy_id is None else StrategyId(r.strategy_id),
            instrument_id=None if r.instrument_id is None else InstrumentId.parse(r.instrument_id),
            detail=r.detail,
            run_id=r.run_id,
        )
        for r in conn.execute(query)
    ]


def read_journal(
    conn: Connection, strategy_id: str | None, since_ns: int, limit: int, node_id: str
) -> list[JournalEntry]:
    query = select(trade_journal).where(
        and_(trade_journal.c.node_id == node_id, trade_journal.c.ts_ns >= since_ns)
    )
    if strategy_id is not None:
        query = query.where(trade_journal.c.strategy_id == strategy_id)
    return [
        JournalEntry(
            ts_ns=r.ts_ns,
            strategy_id=StrategyId(r.strategy_id),
            instrument_id=InstrumentId.parse(r.instrument_id),
            kind=JournalKind(r.kind),
            side=OrderSide(r.side),
            price=_decimal(r.price),
            quantity=_decimal(r.quantity),
            reason=r.reason,
            r_multiple=r.r_multiple,
            regime=r.regime,
            client_order_id=None if r.client_order_id is None else ClientOrderId(r.client_order_id),
            run_id=r.run_id,
        )
        for r in conn.execute(_page(query, trade_journal.c.ts_ns, trade_journal.c.id, limit))
    ]


def _page(
    query: Select[tuple[object, ...]], ts: ColumnElement[int], key: ColumnElement[int], limit: int
) -> Select[tuple[object, ...]]:
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    return query.order_by(ts, key).limit(limit)


def _decimal(value: object) -> Decimal:
    if not isinstance(value, Decimal):
        raise StoreError(f"money column returned {type(value).__name__}, not Decimal")
    return value
