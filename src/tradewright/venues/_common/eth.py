"""Import the Ethereum signing libraries without letting them raise Python's recursion limit.

`py_ecc` (pulled in by `eth_account`) sets ``sys.setrecursionlimit(100000)`` when it is imported. With
that limit a deeply nested JSON message (one a venue, or an attacker on the path, could send) recurses
past the C stack inside the decoder and kills the process with a segmentation fault instead of raising
`RecursionError`, which the decoders refuse cleanly. Every package that signs with these libraries
imports this module first, so the process keeps its limit.
"""

from __future__ import annotations

import sys

__all__: list[str] = []

_limit = sys.getrecursionlimit()
try:
    import eth_account  # noqa: F401  (imports py_ecc, which raises the limit)
finally:
    sys.setrecursionlimit(_limit)
