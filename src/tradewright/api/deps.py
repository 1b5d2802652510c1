"""What every route needs: the app's shared state, the caller (with its role checked and its rate limit
taken), RFC 9457 problem responses, and the command runner (Idempotency-Key, command id, audit)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from fastapi import Depends, Request, Security
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from tradewright.api.auth import Authenticator, LoginLimiter, Principal, RateLimits
from tradewright.config.api import ApiConfig
from tradewright.core.errors import StoreError
from tradewright.live.operator import OperatorError, OperatorPort
from tradewright.live.operator_views import CommandContext, CommandResult
from tradewright.store import AuditRecord, CredentialStore

__all__ = [
    "PROBLEMS",
    "ApiProblem",
    "ApiState",
    "Problem",
    "command",
    "ok",
    "read",
    "run_command",
    "state_of",
]

log = logging.getLogger("tradewright.api")
bearer = HTTPBearer(auto_error=False, description="an API key (twk_...) or an access token (twa...)")
_IDEMPOTENCY_KEPT = 10_000
_IDEMPOTENCY_TTL_S = 24 * 3600
_STATUS = {"not_found": 404, "conflict": 409, "invalid": 422}


class Problem(BaseModel):
    """An error (RFC 9457 problem details)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    command_id: str | None = None


PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no valid credentials"},
    403: {"model": Problem, "description": "the caller's role may not do this"},
    429: {"model": Problem, "description": "rate limited (see Retry-After)"},
}


class ApiProblem(Exception):
    def __init__(
        self, status: int, title: str, detail: str, *, headers: dict[str, str] | None = None,
        command_id: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.command_id = command_id

    def response(self) -> JSONResponse:
        body = Problem(title=self.title, status=self.status, detail=self.detail, command_id=self.command_id)
        return JSONResponse(
            body.model_dump(exclude_none=True),
            status_code=self.status,
            headers=self.headers,
            media_type="application/problem+json",
        )


@dataclass
class ApiState:
    """Everything the routes share (one per app)."""

    operator: OperatorPort
    store: CredentialStore
    config: ApiConfig
    auth: Authenticator
    limits: RateLimits
    logins: LoginLimiter
    idempotency: OrderedDict[tuple[str, str], tuple[str, float, int, bytes]] = field(default_factory=OrderedDict)
    store_seconds: dict[str, list[float]] = field(default_factory=dict)

    async def store_call(self, name: str, work: Callable[[], Any]) -> Any:
        """Run a blocking store call off the event loop, timing it (the load test reports these)."""
        started = time.perf_counter()
        try:
            return await asyncio.to_thread(work)
        except StoreError as exc:
            raise ApiProblem(503, "Store unavailable", str(exc)) from None
        finally:
            times = self.store_seconds.setdefault(name, [])
            if len(times) >= 100_000:
                del times[: len(times) // 2]
            times.append(time.perf_counter() - started)

    async def audit(self, principal: Principal, action: str, reason: str, detail: dict[str, Any]) -> None:
        record = AuditRecord(
            ts_ns=time.time_ns(),
            actor=principal.actor,
            action=action,
            reason=reason[:500],
            detail=json.dumps(detail, default=str, sort_keys=True),
        )
        try:
            await self.store_call("record_audit", lambda: self.store.record_audit(record))
        except ApiProblem as exc:  # the command was carried out: say so loudly, do not fail it
            log.error("audit of %s by %s could not be written: %s", action, principal.actor, exc.detail)


_encoder = msgspec.json.Encoder(decimal_format="string")


def ok(content: Any) -> Response:
    """A 200 JSON answer encoded by msgspec straight from the views (Decimals as exact strings). The
    route still declares its response model, so the OpenAPI document describes the same shape."""
    return Response(_encoder.encode(content), media_type="application/json")


def state_of(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


def _caller(role: str, kind: str) -> Callable[..., Awaitable[Principal]]:
    async def dependency(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Security(bearer)
    ) -> Principal:
        state = state_of(request)
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ApiProblem(401, "Unauthorized", "send Authorization: Bearer <API key or access token>",
                             headers={"WWW-Authenticate": "Bearer"})
        principal = await state.auth.principal(credentials.credentials)
        if principal is None:
            raise ApiProblem(401, "Unauthorized", "the credentials are not valid (unknown, revoked or expired)",
                             headers={"WWW-Authenticate": "Bearer"})
        request.state.principal = principal
        if not principal.can(role):
            raise ApiProblem(403, "Forbidden", f"this needs the {role} role; the caller is {principal.role}")
        if kind != "safety":
            wait = state.limits.take(principal.actor, kind)
            if wait > 0:
                raise ApiProblem(429, "Too Many Requests", f"over the {kind} rate limit of this caller",
                                 headers={"Retry-After": str(max(1, int(wait + 0.999)))})
        return principal

    return dependency


def read(role: str = "viewer") -> Any:
    """A read: the caller needs `role` (viewer by default) and a read token."""
    return Depends(_caller(role, "read"))


def command(role: str, *, safety: bool = False) -> Any:
    """A command: the caller needs `role`; `safety` commands (halt, flatten) are never rate-limited."""
    return Depends(_caller(role, "safety" if safety else "command"))


async def run_command(
    request: Request,
    principal: Principal,
    action: str,
    body: BaseModel | None,
    work: Callable[[CommandContext], CommandResult | Any],
    *,
    reason: str = "",
) -> JSONResponse:
    """Carry out a command once per Idempotency-Key: announce it, run it, audit it, answer 202.

    A repeated key with the same request returns the first answer unchanged (nothing runs twice); the
    same key with a different request is refused (422).
    """
    state = state_of(request)
    payload = {} if body is None else body.model_dump(mode="json")
    fingerprint = hashlib.sha256(
        json.dumps([request.method, request.url.path, payload], sort_keys=True, default=str).encode()
    ).hexdigest()
    idem = request.headers.get("idempotency-key")
    cache_key = (principal.actor, idem or "")
    if idem is not None:
        if not 1 <= len(idem) <= 200:
            raise ApiProblem(422, "Invalid Idempotency-Key", "an Idempotency-Key has 1 to 200 characters")
        _expire(state)
        seen = state.idempotency.get(cache_key)
        if seen is not None:
            first_fingerprint, _, status, content = seen
            if first_fingerprint != fingerprint:
                raise ApiProblem(422, "Idempotency-Key reused",
                                 "this Idempotency-Key was used for a different request")
            return JSONResponse(json.loads(content), status_code=status, headers={"Idempotent-Replayed": "true"})
    ctx = CommandContext(command_id="cmd_" + secrets.token_hex(8), actor=principal.actor)
    state.operator.command_event(ctx, "command.accepted", {"action": action, "request": payload})
    detail: dict[str, Any] = {"command_id": ctx.command_id, "path": request.url.path, "request": payload,
                              "idempotency_key": idem, "client": _client(request)}
    try:
        result = work(ctx)
    except OperatorError as exc:
        status = _STATUS.get(exc.kind, 409)
        await state.audit(principal, action, reason, {**detail, "outcome": "refused", "message": str(exc)})
        problem = ApiProblem(status, "Refused", str(exc), command_id=ctx.command_id)
        _remember(state, cache_key, idem, fingerprint, status, problem)
        raise problem from None
    content = msgspec.json.encode(result)
    await state.audit(principal, action, reason, {**detail, "outcome": getattr(result, "status", "done")})
    if idem is not None:
        state.idempotency[cache_key] = (fingerprint, time.monotonic(), 202, content)
        while len(state.idempotency) > _IDEMPOTENCY_KEPT:
            state.idempotency.popitem(last=False)
    return JSONResponse(json.loads(content), status_code=202)


def _remember(
    state: ApiState, key: tuple[str, str], idem: str | None, fingerprint: str, status: int, problem: ApiProblem
) -> None:
    if idem is None:
        return
    body = Problem(title=problem.title, status=status, detail=problem.detail, command_id=problem.command_id)
    state.idempotency[key] = (fingerprint, time.monotonic(), status, body.model_dump_json(exclude_none=True).encode())


def _expire(state: ApiState) -> None:
    now = time.monotonic()
    while state.idempotency:
        key, entry = next(iter(state.idempotency.items()))
        if now - entry[1] < _IDEMPOTENCY_TTL_S:
            break
        del state.idempotency[key]


def _client(request: Request) -> str:
    return "" if request.client is None else request.client.host
