"""Allowances a plain wallet (signature type 0) needs before it can trade on Polymarket, as on-chain
transactions: the collateral's ERC-20 `approve` and the conditional tokens' `setApprovalForAll`, each
for the exchange, the neg-risk exchange and the neg-risk adapter of the order version in use.

`plan` builds the transactions (pure); `send` signs and sends them through a JSON-RPC endpoint,
one nonce after another, and waits for each receipt. `tradewright polymarket approve` prints the plan
and sends it only with `--execute`. Proxy, Safe and deposit wallets are approved through Polymarket's
relayer instead (nothing to send from here).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from eth_abi.abi import encode as abi_encode
from eth_account import Account

from tradewright.core.errors import ConfigError, VenueError
from tradewright.venues.polymarket.signing import contracts

__all__ = ["ApprovalTx", "plan", "send"]

MAX_UINT256 = 2**256 - 1
_APPROVE = bytes.fromhex("095ea7b3")  # approve(address,uint256)
_SET_APPROVAL_FOR_ALL = bytes.fromhex("a22cb465")  # setApprovalForAll(address,bool)


@dataclass(frozen=True, slots=True)
class ApprovalTx:
    """One transaction: where it goes, its call data, and what it does in words."""

    to: str
    data: str
    description: str

    def as_dict(self) -> dict[str, str]:
        return {"to": self.to, "data": self.data, "description": self.description}


def plan(chain_id: int, version: int = 2, *, neg_risk: bool = True) -> list[ApprovalTx]:
    """Every approval for `version`'s exchanges (and the neg-risk ones unless `neg_risk` is False)."""
    c = contracts(chain_id)
    collateral, name = (c.collateral, "pUSD") if version == 2 else (c.collateral_v1, "USDC.e")
    exchange = c.exchange_v2 if version == 2 else c.exchange_v1
    spenders = [("CTF Exchange", exchange)]
    if neg_risk:
        neg_exchange = c.neg_risk_exchange_v2 if version == 2 else c.neg_risk_exchange_v1
        spenders += [("NegRisk CTF Exchange", neg_exchange), ("NegRiskAdapter", c.neg_risk_adapter)]
    txs = []
    for label, spender in spenders:
        data = _APPROVE + abi_encode(["address", "uint256"], [spender, MAX_UINT256])
        txs.append(ApprovalTx(collateral, "0x" + data.hex(), f"{name}.approve({label} {spender}, max)"))
    for label, operator in spenders:
        data = _SET_APPROVAL_FOR_ALL + abi_encode(["address", "bool"], [operator, True])
        txs.append(
            ApprovalTx(
                c.conditional_tokens,
                "0x" + data.hex(),
                f"ConditionalTokens.setApprovalForAll({label} {operator}, true)",
            )
        )
    return txs


class _Rpc:
    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self._session = session
        self._url = url
        self._id = 0

    async def call(self, method: str, *params: Any) -> Any:
        self._id += 1
        payload = {"jsonrpc": "2.0", "id": self._id, "method": method, "params": list(params)}
        try:
            async with self._session.post(
                self._url, json=payload, timeout=aiohttp.ClientTimeout(total=30)
            ) as r:
                answer = json.loads(await r.text())
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise VenueError(f"RPC {method} at {self._url}: {exc}") from None
        if "error" in answer:
            raise VenueError(f"RPC {method} refused: {answer['error']}")
        return answer.get("result")


async def send(
    txs: list[ApprovalTx],
    private_key: str,
    rpc_url: str,
    chain_id: int,
    *,
    say: Callable[[str], None] = print,
    receipt_timeout_s: float = 120.0,
) -> list[str]:
    """Sign and send every transaction in order (EIP-1559), waiting for each receipt; the hashes."""
    account = Account.from_key(private_key if private_key.startswith("0x") else "0x" + private_key)
    hashes: list[str] = []
    async with aiohttp.ClientSession() as session:
        rpc = _Rpc(session, rpc_url)
        remote_chain = int(await rpc.call("eth_chainId"), 16)
        if remote_chain != chain_id:
            raise ConfigError(
                f"the RPC at {rpc_url} serves chain {remote_chain}, not {chain_id}: nothing sent"
            )
        nonce = int(await rpc.call("eth_getTransactionCount", account.address, "pending"), 16)
        price = int(await rpc.call("eth_gasPrice"), 16)
        tip = int(await rpc.call("eth_maxPriorityFeePerGas"), 16)
        for tx in txs:
            call = {"from": account.address, "to": tx.to, "data": tx.data}
            gas = int(await rpc.call("eth_estimateGas", call), 16)
            signed = Account.sign_transaction(
                {
                    "type": 2, "chainId": chain_id, "nonce": nonce, "to": tx.to, "value": 0, "data": tx.data,
                    "gas": gas * 6 // 5, "maxFeePerGas": price * 2 + tip, "maxPriorityFeePerGas": tip,
                },
                account.key,
            )  # fmt: skip
            tx_hash = str(
                await rpc.call("eth_sendRawTransaction", "0x" + bytes(signed.raw_transaction).hex())
            )
            say(f"sent {tx.description}: {tx_hash}")
            deadline = asyncio.get_running_loop().time() + receipt_timeout_s
            while True:
                receipt = await rpc.call("eth_getTransactionReceipt", tx_hash)
                if receipt is not None:
                    if int(receipt.get("status", "0x1"), 16) != 1:
                        raise VenueError(f"{tx.description} reverted ({tx_hash}): the rest was not sent")
                    break
                if asyncio.get_running_loop().time() > deadline:
                    raise VenueError(
                        f"no receipt for {tx_hash} after {receipt_timeout_s:g} s: the rest was not sent"
                    )
                await asyncio.sleep(1.0)
            hashes.append(tx_hash)
            nonce += 1
    return hashes
