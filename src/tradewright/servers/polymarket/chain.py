"""A minimal Polygon JSON-RPC endpoint beside the local Polymarket (``POST /rpc``), enough for
`tradewright polymarket approve --execute` to be rehearsed end to end on loopback: it answers the
chain id, nonces, gas prices and estimates, accepts signed EIP-1559 transactions, applies the two
calls approvals make (ERC-20 `approve` on the collateral, `setApprovalForAll` on the conditional
tokens) to the sender's wallet, and returns receipts. Written from the Ethereum JSON-RPC
specification; it is not a chain: any other call data is refused."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from eth_abi.abi import decode as abi_decode
from eth_account import Account
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes

from tradewright.servers.polymarket.clob import ClobError
from tradewright.venues.polymarket.signing import CONTRACTS

if TYPE_CHECKING:
    from tradewright.servers.polymarket.protocol import PolymarketProtocol

__all__ = ["rpc"]


def rpc(proto: PolymarketProtocol, request: dict[str, Any]) -> dict[str, Any]:
    """Answer one JSON-RPC request (errors as JSON-RPC errors, never exceptions)."""
    rid = request.get("id")
    try:
        result = _call(proto, str(request.get("method")), list(request.get("params") or []))
    except ClobError as exc:
        return {"jsonrpc": "2.0", "id": rid, "error": {"code": -32000, "message": exc.message}}
    return {"jsonrpc": "2.0", "id": rid, "result": result}


def _call(proto: PolymarketProtocol, method: str, params: list[Any]) -> Any:
    chain = proto.chain_state
    if method == "eth_chainId":
        return hex(proto.chain_id)
    if method == "eth_getTransactionCount":
        return hex(chain["nonces"].get(str(params[0]).lower(), 0))
    if method == "eth_gasPrice":
        return hex(30_000_000_000)
    if method == "eth_maxPriorityFeePerGas":
        return hex(30_000_000_000)
    if method == "eth_estimateGas":
        return hex(60_000)
    if method == "eth_getTransactionReceipt":
        return chain["receipts"].get(str(params[0]))
    if method == "eth_sendRawTransaction":
        return _send(proto, bytes.fromhex(str(params[0]).removeprefix("0x")))
    raise ClobError(f"method {method} is not served by this local endpoint")


def _send(proto: PolymarketProtocol, raw: bytes) -> str:
    chain = proto.chain_state
    try:
        sender = to_checksum_address(Account.recover_transaction(raw))
        typed = TypedTransaction.from_bytes(HexBytes(raw))
        tx = typed.as_dict()
    except Exception as exc:  # malformed bytes of any kind: refused like a node refuses them
        raise ClobError(f"invalid raw transaction: {exc}") from None
    if int(tx["chainId"]) != proto.chain_id:
        raise ClobError(f"wrong chain id {tx['chainId']}")
    expected = chain["nonces"].get(sender.lower(), 0)
    if int(tx["nonce"]) != expected:
        raise ClobError(f"nonce too low or too high: {tx['nonce']}, expected {expected}")
    to = (
        to_checksum_address("0x" + bytes(tx["to"]).hex())
        if isinstance(tx["to"], bytes)
        else to_checksum_address(tx["to"])
    )
    data = bytes(tx["data"])
    c = CONTRACTS[proto.chain_id]
    wallets = [w for w in proto.clob.wallets.values() if w.address.lower() == sender.lower()]
    if data[:4] == bytes.fromhex("095ea7b3") and to.lower() in (
        c.collateral.lower(),
        c.collateral_v1.lower(),
    ):
        spender, amount = abi_decode(["address", "uint256"], data[4:])
        for w in wallets:
            w.allowances[str(spender).lower()] = Decimal(amount)
    elif data[:4] == bytes.fromhex("a22cb465") and to.lower() == c.conditional_tokens.lower():
        operator, approved = abi_decode(["address", "bool"], data[4:])
        if approved:
            chain["operators"].setdefault(sender.lower(), set()).add(str(operator).lower())
    else:
        raise ClobError("this local endpoint applies only approvals")
    chain["nonces"][sender.lower()] = expected + 1
    tx_hash = "0x" + bytes(typed.hash()).hex()
    chain["receipts"][tx_hash] = {"transactionHash": tx_hash, "status": "0x1", "from": sender, "to": to}
    return tx_hash
