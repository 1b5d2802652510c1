"""Reads: `GET /api/v1/...` — the node's state as JSON (money as exact decimal strings)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from tradewright import __version__
from tradewright.api.auth import Principal
from tradewright.api.deps import PROBLEMS, ApiProblem, ok, read, state_of
from tradewright.live.operator import OperatorError
from tradewright.live.operator_views import (
    BalanceView,
    BookView,
    DailyPnl,
    EquityPoint,
    FillView,
    HealthInfo,
    InstrumentInfo,
    LatencyStats,
    LimitView,
    LogLine,
    OrderView,
    PnlSummary,
    PositionView,
    RiskEventView,
    RiskState,
    StatusReport,
    StrategyInfo,
    SystemInfo,
    VenueInfo,
    WorkflowView,
)

__all__ = ["router"]

router = APIRouter(responses=PROBLEMS)
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "not on this node"}}
Limit = Query(200, ge=1, le=5000)
Since = Query(0, ge=0, le=(1 << 63) - 1, description="UTC ns")


def _translate(exc: OperatorError) -> ApiProblem:
    status = {"not_found": 404, "conflict": 409, "invalid": 422}.get(exc.kind, 409)
    return ApiProblem(status, "Not Found" if status == 404 else "Refused", str(exc))


@router.get("/health", tags=["system"], summary="Liveness (public: no credentials)")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", tags=["system"], summary="Readiness: store, venues", response_model=HealthInfo)
async def ready(request: Request, who: Principal = read()) -> Response:
    return ok(state_of(request).operator.health())


@router.get("/version", tags=["system"])
async def version(request: Request, who: Principal = read()) -> dict[str, str]:
    return {"version": __version__, "api": "v1"}


@router.get("/system", tags=["system"], response_model=SystemInfo)
async def system(request: Request, who: Principal = read()) -> Response:
    return ok(state_of(request).operator.system())


@router.get("/system/status", tags=["system"], summary="Per-market quoting state and top offenders", response_model=StatusReport)
async def status(request: Request, who: Principal = read()) -> Response:
    return ok(state_of(request).operator.status())


@router.get("/venues", tags=["venues"], response_model=list[VenueInfo])
async def venues(request: Request, who: Principal = read()) -> Response:
    return ok(state_of(request).operator.venues())


@router.get("/instruments", tags=["market"], response_model=list[InstrumentInfo])
async def instruments(request: Request, who: Principal = read()) -> Response:
    return ok(state_of(request).operator.instruments())


@router.get("/books/{instrument_id}", tags=["market"], responses=_NOT_FOUND, response_model=BookView)
async def book(
    request: Request, instrument_id: str, depth: int = Query(10, ge=1, le=200), who: Principal = read()
) -> Response:
    try:
        return ok(state_of(request).operator.book(instrument_id, depth))
    except OperatorError as exc:
        raise _translate(exc) from None


@router.get("/strategies", tags=["strategies"], response_model=list[StrategyInfo])
async def strategies(request: Request, who: Principal = read()) -> Response:
    return ok(state_of(request).operator.strategies())


@router.get("/strategies/{strategy_id}", tags=["strategies"], responses=_NOT_FOUND, response_model=StrategyInfo)
async def strategy(request: Request, strategy_id: str, who: Principal = read()) -> Response:
    for info in state_of(request).operator.strategies():
        if info.strategy_id == strategy_id:
            return ok(info)
    raise ApiProblem(404, "Not Found", f"no strategy {strategy_id!r} on this node")


@router.get("/orders", tags=["orders"], response_model=list[OrderView])
async def orders(
    request: Request,
    status: str = Query("open", pattern="^(open|all)$"),
    strategy_id: str | None = None,
    instrument_id: str | None = None,
    limit: int = Limit,
    who: Principal = read(),
) -> Response:
    return ok(state_of(request).operator.orders(
        open_only=status == "open", strategy_id=strategy_id, instrument_id=instrument_id, limit=limit
    ))


@router.get("/orders/{client_order_id}", tags=["orders"], responses=_NOT_FOUND, response_model=OrderView)
async def order(request: Request, client_order_id: str, who: Principal = read()) -> Response:
    try:
        return ok(state_of(request).operator.order(client_order_id))
    except OperatorError as exc:
        raise _translate(exc) from None


@router.get("/fills", tags=["orders"], response_model=list[FillView])
async def fills(
    request: Request, since_ns: int = Since, strategy_id: str | None = None, limit: int = Limit,
    who: Principal = read(),
) -> Response:
    state = state_of(request)
    operator = state.operator
    started = time.perf_counter()
    try:
        return ok(operator.fills(since_ns=since_ns, strategy_id=strategy_id, limit=limit))
    except OperatorError as exc:
        raise ApiProblem(503, "Store unavailable", str(exc)) from None
    finally:
        state.store_seconds.setdefault("read_fills", []).append(time.perf_counter() - started)


@router.get("/positions", tags=["portfolio"], response_model=list[PositionView])
async def positions(request: Request, who: Principal = read()) -> Response:
    return ok(state_of(request).operator.positions())


@router.get("/balances", tags=["portfolio"], response_model=list[BalanceView])
async def balances(request: Request, who: Principal = read()) -> Response:
    return ok(state_of(request).operator.balances())


@router.get("/pnl/summary", tags=["portfolio"], response_model=PnlSummary)
async def pnl(request: Request, who: Principal = read()) -> Response:
    return ok(state_of(request).operator.pnl())


@router.get("/pnl/equity", tags=["portfolio"], response_model=list[EquityPoint])
async def equity(
    request: Request, since_ns: int = Since, step_s: int = Query(1, ge=1, le=86_400), who: Principal = read()
) -> Response:
    return ok(state_of(request).operator.equity(since_ns=since_ns, step_s=step_s))


@router.get("/pnl/daily", tags=["portfolio"], response_model=list[DailyPnl])
async def daily(request: Request, who: Principal = read()) -> Response:
    return ok(state_of(request).operator.daily_pnl())


@router.get("/risk/state", tags=["risk"], response_model=RiskState)
async def risk_state(request: Request, who: Principal = read()) -> Response:
    return ok(state_of(request).operator.risk_state())


@router.get("/risk/limits", tags=["risk"], response_model=list[LimitView])
async def limits(request: Request, who: Principal = read()) -> Response:
    return ok(state_of(request).operator.limits())


@router.get("/risk/events", tags=["risk"], response_model=list[RiskEventView])
async def risk_events(
    request: Request, since_ns: int = Since, limit: int = Limit, who: Principal = read()
) -> Response:
    return ok(state_of(request).operator.risk_events(since_ns=since_ns, limit=limit))


@router.get("/workflows", tags=["orders"], summary="Multi-leg workflows: legs, states, compensations", response_model=list[WorkflowView])
async def workflows(
    request: Request,
    status: str = Query("open", pattern="^(open|all)$"),
    limit: int = Limit,
    who: Principal = read(),
) -> Response:
    return ok(state_of(request).operator.workflows(open_only=status == "open", limit=limit))


@router.get("/workflows/{workflow_id}", tags=["orders"], responses=_NOT_FOUND, response_model=WorkflowView)
async def workflow(request: Request, workflow_id: str, who: Principal = read()) -> Response:
    try:
        return ok(state_of(request).operator.workflow(workflow_id))
    except OperatorError as exc:
        raise _translate(exc) from None


@router.get("/latency", tags=["system"], response_model=list[LatencyStats])
async def latency(request: Request, who: Principal = read()) -> Response:
    return ok(state_of(request).operator.latency())


@router.get("/logs", tags=["logs"], response_model=list[LogLine])
async def logs(
    request: Request,
    level: str = Query("INFO", pattern="^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$"),
    since_ns: int = Since,
    limit: int = Limit,
    who: Principal = read(),
) -> Response:
    return ok(state_of(request).operator.logs(level=level, since_ns=since_ns, limit=limit))


@router.get("/audit", tags=["logs"], summary="Who asked for what: every API command and auth event", response_model=list[dict[str, Any]])
async def audit(
    request: Request, since_ns: int = Since, limit: int = Limit, who: Principal = read()
) -> Response:
    state = state_of(request)
    records = await state.store_call("read_audit", lambda: state.store.read_audit(since_ns=since_ns, limit=limit))
    return ok([
        {"ts_ns": r.ts_ns, "actor": r.actor, "action": r.action, "reason": r.reason, "detail": r.detail}
        for r in records
    ])
