"""Commands: each answers 202 with a command id and its result (also streamed on the `commands`
channel), is audited, and accepts an Idempotency-Key. Roles: viewer may halt; operator pauses,
cancels, reduces, flattens, signals and tightens limits; admin resumes, loosens limits, changes params.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from tradewright.api.auth import Principal
from tradewright.api.deps import PROBLEMS, ApiProblem, command, run_command, state_of
from tradewright.live.operator import OperatorError
from tradewright.live.operator_views import CommandResult, FlattenPreview

__all__ = ["router"]

_REFUSED: dict[int | str, dict[str, Any]] = {
    202: {"model": CommandResult, "description": "carried out (or started); the result is streamed too"},
    404: {"description": "no such strategy, order, scope or limit on this node"},
    409: {"description": "refused in the node's current state"},
}
router = APIRouter(responses={**PROBLEMS, **_REFUSED})

Reason = Field("", max_length=500)


class ReasonBody(BaseModel):
    reason: str = Reason


class StateBody(BaseModel):
    reason: str = Field(..., min_length=1, max_length=500)
    scope: Literal["node", "venue", "instrument"] = "node"
    target: str = Field("", max_length=200)


class ResumeBody(StateBody):
    engine_halts: bool = False


class CancelAllBody(BaseModel):
    venue: str | None = Field(None, max_length=100)
    instrument_id: str | None = Field(None, max_length=200)
    strategy_id: str | None = Field(None, max_length=100)
    reason: str = Reason


class ParamsBody(BaseModel):
    params: dict[str, Any]
    reason: str = Reason


class SignalBody(BaseModel):
    name: str = Field(..., min_length=1, max_length=64)
    value: Decimal | None = Field(None, allow_inf_nan=False)
    text: str = Field("", max_length=1000)


class LimitBody(BaseModel):
    value: Decimal | None = Field(..., allow_inf_nan=False, description="null unsets the limit")
    reason: str = Reason


class FlattenExecuteBody(BaseModel):
    confirm_token: str = Field(..., min_length=1, max_length=200)
    reason: str = Field(..., min_length=1, max_length=500)


@router.post("/strategies/{strategy_id}/{action}", status_code=202, tags=["strategies"])
async def strategy_action(
    request: Request,
    strategy_id: str,
    action: Literal["start", "stop", "pause", "resume"],
    body: ReasonBody | None = None,
    who: Principal = command("operator"),
) -> JSONResponse:
    """Start, stop, pause (stop quoting, keep managing its orders) or resume a strategy."""
    operator = state_of(request).operator
    return await run_command(
        request, who, f"strategy.{action}", body,
        lambda ctx: operator.strategy_command(ctx, strategy_id, action),
        reason="" if body is None else body.reason,
    )


@router.patch("/strategies/{strategy_id}/params", status_code=202, tags=["strategies"])
async def change_params(
    request: Request, strategy_id: str, body: ParamsBody, who: Principal = command("admin")
) -> JSONResponse:
    """Change parameters of a running strategy: validated by its config type, each numeric one by at
    most `api.max_param_change_pct` %; the diff is returned and audited."""
    state = state_of(request)
    return await run_command(
        request, who, "strategy.params", body,
        lambda ctx: state.operator.change_params(ctx, strategy_id, body.params, state.config.max_param_change_pct),
        reason=body.reason,
    )


@router.post("/strategies/{strategy_id}/signal", status_code=202, tags=["strategies"])
async def signal(
    request: Request, strategy_id: str, body: SignalBody, who: Principal = command("operator")
) -> JSONResponse:
    """Send a manual signal to a strategy that accepts one (its `on_signal` hook)."""
    operator = state_of(request).operator
    return await run_command(
        request, who, "strategy.signal", body,
        lambda ctx: operator.signal(ctx, strategy_id, body.name, body.value, body.text),
    )


@router.delete("/orders/{client_order_id}", status_code=202, tags=["orders"])
async def cancel_order(request: Request, client_order_id: str, who: Principal = command("operator")) -> JSONResponse:
    """Cancel one order (through risk and the journal, like every cancel)."""
    operator = state_of(request).operator
    return await run_command(
        request, who, "order.cancel", None, lambda ctx: operator.cancel_order(ctx, client_order_id)
    )


@router.post("/orders/cancel-all", status_code=202, tags=["orders"])
async def cancel_all(request: Request, body: CancelAllBody, who: Principal = command("operator")) -> JSONResponse:
    """Cancel every open order, or those of one venue, instrument or strategy."""
    operator = state_of(request).operator
    return await run_command(
        request, who, "order.cancel_all", body,
        lambda ctx: operator.cancel_all(
            ctx, venue=body.venue, instrument_id=body.instrument_id, strategy_id=body.strategy_id
        ),
        reason=body.reason,
    )


@router.post("/risk/halt", status_code=202, tags=["risk"])
async def halt(request: Request, body: StateBody, who: Principal = command("viewer", safety=True)) -> JSONResponse:
    """HALT a scope: no new orders, working orders cancelled. Anyone who can see may halt; never rate-limited."""
    operator = state_of(request).operator
    return await run_command(
        request, who, "risk.halt", body,
        lambda ctx: operator.set_trading_state(ctx, "HALTED", body.scope, body.target, body.reason),
        reason=body.reason,
    )


@router.post("/risk/reduce-only", status_code=202, tags=["risk"])
async def reduce_only(request: Request, body: StateBody, who: Principal = command("operator")) -> JSONResponse:
    """Put a scope in REDUCING: only exposure-reducing orders pass; increasing ones are cancelled."""
    operator = state_of(request).operator
    return await run_command(
        request, who, "risk.reduce_only", body,
        lambda ctx: operator.set_trading_state(ctx, "REDUCING", body.scope, body.target, body.reason),
        reason=body.reason,
    )


@router.post("/risk/resume", status_code=202, tags=["risk"])
async def resume(request: Request, body: ResumeBody, who: Principal = command("admin")) -> JSONResponse:
    """Lift every hold on a scope (operator, breakers, kill switch) — admin only."""
    operator = state_of(request).operator
    return await run_command(
        request, who, "risk.resume", body,
        lambda ctx: operator.resume(ctx, body.scope, body.target, body.reason, body.engine_halts),
        reason=body.reason,
    )


@router.put("/risk/limits/{name}", status_code=202, tags=["risk"])
async def change_limit(
    request: Request, name: str, body: LimitBody, who: Principal = command("operator")
) -> JSONResponse:
    """Change a risk limit: tightening needs operator, loosening (or unsetting) admin."""
    operator = state_of(request).operator
    try:
        loosening = operator.is_loosening(name, body.value)
    except OperatorError as exc:
        raise ApiProblem(404, "Not Found", str(exc)) from None
    if loosening and not who.can("admin"):
        raise ApiProblem(403, "Forbidden", f"loosening {name} needs the admin role; the caller is {who.role}")
    return await run_command(
        request, who, "risk.limit", body, lambda ctx: operator.change_limit(ctx, name, body.value), reason=body.reason
    )


@router.post("/risk/flatten/prepare", tags=["risk"])
async def flatten_prepare(request: Request, who: Principal = command("operator", safety=True)) -> FlattenPreview:
    """Step 1 of the kill switch: what it would cancel and close, and a single-use token to confirm it."""
    state = state_of(request)
    from tradewright.live.operator_views import CommandContext

    ctx = CommandContext(command_id="prep", actor=who.actor)
    preview = state.operator.flatten_prepare(ctx, float(state.config.flatten_token_ttl_s))
    await state.audit(who, "risk.flatten.prepare", "", {"orders": preview.orders_to_cancel,
                                                       "positions": len(preview.positions)})
    return preview


@router.post("/risk/flatten/execute", status_code=202, tags=["risk"])
async def flatten_execute(
    request: Request, body: FlattenExecuteBody, who: Principal = command("operator", safety=True)
) -> JSONResponse:
    """Step 2: fire the kill switch — cancel every order, close every position, HALT. Progress is streamed
    on the `risk` channel (`killswitch.progress`). An expired or reused token is refused (409)."""
    operator = state_of(request).operator
    return await run_command(
        request, who, "risk.flatten", body,
        lambda ctx: operator.flatten_execute(ctx, body.confirm_token, body.reason),
        reason=body.reason,
    )
