"""The TWS API socket framing and field encoding, written from documentation.

Sources: Interactive Brokers' TWS API documentation (message framing, the handshake, the version
negotiation) and the protocol study in ``../shared/reference/brokers.md`` §2-§4, which lists each
message's fields at server version 178 as the ib-async client speaks it. No client code is reused.

After the client's ``API\\0`` prefix every message, both ways, is a 4-byte big-endian length and a body
of NUL-terminated text fields. Numbers are written in decimal; an unset number is an empty field.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Sequence
from decimal import Decimal

__all__ = [
    "MAX_MESSAGE_BYTES",
    "PREFIX",
    "SERVER_VERSION",
    "Fields",
    "ProtocolError",
    "encode",
    "field",
    "read_message",
]

PREFIX = b"API\0"
SERVER_VERSION = 178  # ib-async 2.1.0's highest client version (brokers.md §2)
MIN_CLIENT_VERSION = 157
MAX_MESSAGE_BYTES = 1 << 24
Fields = list[str]


class ProtocolError(Exception):
    """The peer broke the framing or sent a message this server cannot read."""


def field(value: object) -> str:
    """One field's text: None empty, bools 1/0, Decimals without exponent, the rest by `str`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def encode(values: Sequence[object]) -> bytes:
    """Frame one message: length prefix + NUL-terminated fields."""
    body = b"".join(field(v).encode() + b"\0" for v in values)
    return struct.pack(">I", len(body)) + body


async def read_message(reader: asyncio.StreamReader) -> Fields:
    """Read one framed message and split it into fields (the trailing empty element dropped)."""
    header = await reader.readexactly(4)
    (size,) = struct.unpack(">I", header)
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {size} bytes is larger than {MAX_MESSAGE_BYTES}")
    body = await reader.readexactly(size)
    parts = body.decode("utf-8", errors="replace").split("\0")
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def parse_client_versions(text: str) -> tuple[int, int]:
    """``v157..178 +PACEAPI`` -> (157, 178); a single ``v176`` is both ends."""
    versions = text.split(" ", 1)[0]
    if not versions.startswith("v"):
        raise ProtocolError(f"expected a version range like 'v157..178', got {text!r}")
    low, dots, high = versions[1:].partition("..")
    try:
        return (int(low), int(high)) if dots else (int(low), int(low))
    except ValueError:
        raise ProtocolError(f"expected a version range like 'v157..178', got {text!r}") from None
