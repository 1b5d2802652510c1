"""Claiming winnings on Turbine: find what resolved markets owe the wallet, sign a CTF redemption
permit for each (EIP-712 `RedeemPositions`), have the relayer redeem it (gasless), retry what fails,
and keep an audit record of every attempt.

Follows the newer turbine-py-client's `claim_winnings` (the PyPI release has none): claim data from
`GET /api/v1/users/{owner}/claim-data`, index set ``[1]`` when YES won and ``[2]`` when NO won, CTF
nonces counted locally per CTF contract within a run, one claim every `spacing_s` (the venue
rate-limits claims). Without `execute` nothing is sent: each claim is signed, printed and audited as a
dry run.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradewright.core.errors import TradewrightError
from tradewright.venues.turbine.client import TurbineApiError, TurbineHttp
from tradewright.venues.turbine.parsing import decode, from_micro
from tradewright.venues.turbine.schemas import ClaimDataAnswer
from tradewright.venues.turbine.signing import ChainConfig, redeem_typed_data, sign_redeem, wallet_address

__all__ = ["ClaimAudit", "ClaimRecord", "claim_winnings", "claimable_markets"]

ZERO_BYTES32 = "0x" + "00" * 32


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    """One claim attempt, as the audit keeps it."""

    ts_ns: int
    market: str
    condition_id: str
    winning_outcome: str
    amount: str  # collateral the winning tokens redeem for
    attempt: int
    status: str  # dry_run | submitted | failed | skipped
    tx_hash: str = ""
    error: str = ""
    request: dict[str, Any] = field(default_factory=dict)


class ClaimAudit:
    """An append-only JSON-lines file: one line per attempt, flushed to disk before the next."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def append(self, record: ClaimRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(asdict(record), separators=(",", ":"), sort_keys=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())

    def records(self) -> list[ClaimRecord]:
        if not self.path.exists():
            return []
        return [
            ClaimRecord(**json.loads(line)) for line in self.path.read_text().splitlines() if line.strip()
        ]


async def claimable_markets(http: TurbineHttp, owner: str, chain_id: int) -> list[str]:
    """Contract addresses of resolved markets in which the wallet holds winning tokens."""
    raw = await http.request(
        "GET", f"/api/v1/users/{owner}/claimable", params={"chain_id": str(chain_id)}, auth=True
    )
    rows = raw.get("claimable", []) if isinstance(raw, dict) else []
    return [
        str(r.get("contract_address") or r.get("market_id"))
        for r in rows
        if r.get("contract_address") or r.get("market_id")
    ]


async def claim_winnings(
    http: TurbineHttp,
    private_key: str,
    chain: ChainConfig,
    markets: list[str],
    *,
    audit: ClaimAudit,
    now_s: Callable[[], int],
    now_ns: Callable[[], int],
    execute: bool = False,
    retries: int = 5,
    spacing_s: float = 15.0,
    say: Callable[[str], None] = lambda text: None,
) -> list[ClaimRecord]:
    """Claim every market of `markets` (contract addresses) that owes the wallet; audit each attempt."""
    owner = wallet_address(private_key)
    if not markets:
        return []
    raw = await http.request(
        "GET", f"/api/v1/users/{owner}/claim-data",
        params={"chain_id": str(chain.chain_id), "markets": ",".join(markets)}, auth=True,
    )  # fmt: skip
    data = decode(ClaimDataAnswer, raw, "claim data").markets
    nonces: dict[str, int] = {}
    done: list[ClaimRecord] = []
    for k, m in enumerate(data):
        outcome = "YES" if m.winning_outcome == 0 else "NO"
        amount = from_micro(m.winning_balance)
        base = {
            "market": m.market_address,
            "condition_id": m.condition_id,
            "winning_outcome": outcome,
            "amount": str(amount),
        }
        if not m.resolved or amount == 0:
            record = ClaimRecord(
                now_ns(),
                attempt=0,
                status="skipped",
                error="not resolved" if not m.resolved else "nothing to redeem",
                **base,
            )
            audit.append(record)
            done.append(record)
            continue
        ctf = m.ctf_address
        nonce = nonces.setdefault(ctf.lower(), int(m.ctf_nonce))
        nonces[ctf.lower()] = nonce + 1
        record = await _claim_one(
            http, private_key, chain, m.market_address, m.collateral_token, m.condition_id, m.winning_outcome, ctf,
            nonce, amount, base, audit=audit, now_s=now_s, now_ns=now_ns, execute=execute, retries=retries,
            spacing_s=spacing_s, say=say,
        )  # fmt: skip
        done.append(record)
        if execute and k + 1 < len(data):
            await asyncio.sleep(spacing_s)
    return done


async def _claim_one(
    http: TurbineHttp, private_key: str, chain: ChainConfig, market: str, collateral: str, condition_id: str,
    winning: int, ctf: str, nonce: int, amount: Decimal, base: dict[str, str], *, audit: ClaimAudit,
    now_s: Callable[[], int], now_ns: Callable[[], int], execute: bool, retries: int, spacing_s: float,
    say: Callable[[str], None],
) -> ClaimRecord:  # fmt: skip
    owner = wallet_address(private_key)
    index_sets = [1 if winning == 0 else 2]
    attempt = 0
    while True:
        attempt += 1
        deadline = now_s() + 3600
        typed = redeem_typed_data(
            chain, owner, collateral, condition_id, index_sets, nonce, deadline, ctf=ctf
        )
        v, r, s = sign_redeem(private_key, typed)
        request = {
            "chainId": chain.chain_id, "owner": owner, "collateralToken": collateral, "parentCollectionId": ZERO_BYTES32,
            "conditionId": condition_id, "indexSets": [str(i) for i in index_sets], "deadline": str(deadline),
            "v": v, "r": r, "s": s, "marketAddress": market,
        }  # fmt: skip
        if not execute:
            say(
                f"would claim {amount} USDC from {market} ({base['winning_outcome']} won): POST /api/v1/relayer/ctf-redemption"
            )
            record = ClaimRecord(now_ns(), attempt=attempt, status="dry_run", request=request, **base)
            audit.append(record)
            return record
        try:
            answer = await http.request("POST", "/api/v1/relayer/ctf-redemption", body=request, auth=True)
        except (TurbineApiError, TradewrightError) as exc:
            failed = ClaimRecord(
                now_ns(), attempt=attempt, status="failed", error=str(exc)[:300], request=request, **base
            )
            audit.append(failed)
            say(f"claim of {market} failed (attempt {attempt}): {exc}")
            if attempt > retries:
                return failed
            await asyncio.sleep(spacing_s * attempt)
            continue
        tx = str((answer or {}).get("tx_hash") or (answer or {}).get("txHash") or "")
        record = ClaimRecord(
            now_ns(), attempt=attempt, status="submitted", tx_hash=tx, request=request, **base
        )
        audit.append(record)
        say(f"claimed {amount} USDC from {market}: tx {tx}")
        return record
