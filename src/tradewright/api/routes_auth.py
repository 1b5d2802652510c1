"""`/api/v1/auth`: operator login (access token + HttpOnly refresh cookie), WebSocket tickets, API keys."""

from __future__ import annotations

import time
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from tradewright.api.auth import Principal
from tradewright.api.credentials import hash_secret, new_api_key, verify_password
from tradewright.api.deps import PROBLEMS, ApiProblem, command, read, state_of
from tradewright.store import ApiKeyRecord

__all__ = ["REFRESH_COOKIE", "router"]

REFRESH_COOKIE = "tw_refresh"
_COOKIE_PATH = "/api/v1/auth"
# Checked against the hash of a password nobody has, so an unknown user costs as long as a known one.
_DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

router = APIRouter(prefix="/auth", tags=["auth"], responses=PROBLEMS)


class LoginBody(BaseModel):
    username: str = Field(..., min_length=1, max_length=100)
    password: str = Field(..., min_length=1, max_length=1000)


class TokenAnswer(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: int  # unix seconds
    username: str
    role: str


class MeAnswer(BaseModel):
    kind: str
    ident: str
    role: str


class TicketAnswer(BaseModel):
    ticket: str
    expires_in_s: int = 30


class KeyBody(BaseModel):
    name: str = Field(..., min_length=1, max_length=100)
    role: Literal["metrics", "viewer", "operator", "admin"]
    expires_days: int | None = Field(None, ge=1, le=3650)


class KeyInfo(BaseModel):
    key_id: str
    name: str
    role: str
    created_ns: int
    expires_ns: int | None
    revoked_ns: int | None


class NewKey(KeyInfo):
    api_key: str  # shown once


def _address(request: Request) -> str:
    return "?" if request.client is None else request.client.host


def _session(request: Request, user: str, role: str, refresh: str) -> JSONResponse:
    state = state_of(request)
    token, expires = state.auth.access_token(user, role)
    answer = TokenAnswer(access_token=token, expires_at=expires, username=user, role=role)
    response = JSONResponse(answer.model_dump(), headers={"Cache-Control": "no-store"})
    response.set_cookie(
        REFRESH_COOKIE,
        refresh,
        max_age=state.config.refresh_token_ttl_s,
        path=_COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=state.config.tls,
    )
    return response


@router.post("/login", response_model=TokenAnswer, summary="Operator login (public; rate-limited)")
async def login(request: Request, body: LoginBody) -> JSONResponse:
    state = state_of(request)
    address = _address(request)
    wait = state.logins.retry_after(address, body.username)
    if wait > 0:
        raise ApiProblem(429, "Too Many Requests", "too many failed logins; try again later",
                         headers={"Retry-After": str(int(wait) + 1)})
    record = await state.store_call("user", lambda: state.store.user(body.username))
    valid = verify_password(body.password, _DUMMY_HASH if record is None else record.password_hash)
    who = Principal("user", body.username, "viewer" if record is None else record.role)
    if record is None or not valid:
        state.logins.failed(address, body.username)
        await state.audit(who, "auth.login_failed", "", {"client": address})
        raise ApiProblem(401, "Unauthorized", "unknown user or wrong password")
    state.logins.succeeded(address, body.username)
    await state.audit(who, "auth.login", "", {"client": address})
    return _session(request, record.username, record.role, state.auth.new_refresh(record.username, record.role))


@router.post(
    "/refresh",
    response_model=TokenAnswer,
    summary="A new access token for the refresh cookie (204 when the browser has no session cookie)",
    responses={204: {"description": "no session cookie: nothing to refresh (log in)"}},
)
async def refresh(request: Request) -> Response:
    state = state_of(request)
    cookie = request.cookies.get(REFRESH_COOKIE)
    if cookie is None:
        return Response(status_code=204)
    used = state.auth.use_refresh(cookie)
    if used is None:
        raise ApiProblem(401, "Unauthorized", "no valid session: log in", headers={"WWW-Authenticate": "Bearer"})
    user, _role, rotated = used
    current = await state.store_call("user", lambda: state.store.user(user))
    if current is None:
        state.auth.revoke_refresh(rotated)
        raise ApiProblem(401, "Unauthorized", "the account no longer exists")
    return _session(request, user, current.role, rotated)


@router.post("/logout", status_code=204, summary="End this browser session")
async def logout(request: Request) -> Response:
    state = state_of(request)
    cookie = request.cookies.get(REFRESH_COOKIE)
    if cookie is not None:
        state.auth.revoke_refresh(cookie)
    response = Response(status_code=204)
    response.delete_cookie(REFRESH_COOKIE, path=_COOKIE_PATH)
    return response


@router.get("/me", response_model=MeAnswer)
async def me(who: Principal = read("metrics")) -> MeAnswer:
    return MeAnswer(kind=who.kind, ident=who.ident, role=who.role)


@router.post("/ws-ticket", response_model=TicketAnswer, summary="A one-time WebSocket ticket (30 s)")
async def ws_ticket(request: Request, who: Principal = read()) -> TicketAnswer:
    return TicketAnswer(ticket=state_of(request).auth.ws_ticket(who))


@router.get("/api-keys", response_model=list[KeyInfo])
async def list_keys(request: Request, who: Principal = read("admin")) -> list[KeyInfo]:
    state = state_of(request)
    records = await state.store_call("api_keys", state.store.api_keys)
    return [_info(r) for r in records]


@router.post("/api-keys", response_model=NewKey, status_code=201)
async def create_key(request: Request, body: KeyBody, who: Principal = command("admin")) -> NewKey:
    """Create a scoped API key; the key itself is in this answer only (the store keeps its hash)."""
    state = state_of(request)
    text, parts = new_api_key()
    now = time.time_ns()
    record = ApiKeyRecord(
        key_id=parts.key_id,
        name=body.name,
        role=body.role,
        secret_hash=hash_secret(parts),
        created_ns=now,
        expires_ns=None if body.expires_days is None else now + body.expires_days * 86_400 * 10**9,
    )
    await state.store_call("save_api_key", lambda: state.store.save_api_key(record))
    await state.audit(who, "auth.api_key_created", "", {"key_id": parts.key_id, "name": body.name, "role": body.role})
    return NewKey(api_key=text, **_info(record).model_dump())


@router.delete("/api-keys/{key_id}", status_code=204)
async def revoke_key(request: Request, key_id: str, who: Principal = command("admin")) -> Response:
    state = state_of(request)
    done = await state.store_call("revoke_api_key", lambda: state.store.revoke_api_key(key_id, ts_ns=time.time_ns()))
    if not done:
        raise ApiProblem(404, "Not Found", f"no active API key {key_id!r}")
    state.auth.forget_key(key_id)
    await state.audit(who, "auth.api_key_revoked", "", {"key_id": key_id})
    return Response(status_code=204)


def _info(r: ApiKeyRecord) -> KeyInfo:
    return KeyInfo(
        key_id=r.key_id, name=r.name, role=r.role, created_ns=r.created_ns, expires_ns=r.expires_ns,
        revoked_ns=r.revoked_ns,
    )
