"""Mutations of real venue messages: what a broken venue, a broken network or a broken disk produce.

`mutate(seed, rnd)` turns one real message (decoded JSON) into a broken one, by one to three operations
chosen by `rnd`:

* numbers at the edges (0, -0, negative, 1e30, NaN, Infinity, 2^63, 2^64, 1e-30, too many digits, ``1_000``,
  ``+1``, Arabic-Indic digits, the empty string) — as strings and as JSON numbers;
* a field missing, a field added, a value of the wrong type (a list, an object, null, a bool, a float);
* unicode (lone surrogates, NUL, right-to-left marks, zero-width spaces, emoji, full-width digits);
* nesting (a value wrapped 2 to 100,000 levels deep), reordered keys, a key twice;
* and on the text: truncation, a flipped byte, inserted bytes, the whole message twice.

`mutate_text` returns the broken message as text (what a socket or a file would carry); `mutate_value`
returns it as a Python value when it still is one (what a JSON parser like CCXT's would hand on).
`messages(seeds)` is the same as a Hypothesis strategy, so a property test can search and shrink.
Everything is driven by `rnd`: the bulk runs replay a case from its integer seed.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

__all__ = ["EDGE_NUMBERS", "Mutated", "messages", "mutate", "mutate_text", "mutate_value"]

EDGE_NUMBERS: list[Any] = [
    "0", "-0", "0.0", "-1", "-5", "-0.001", "1e30", "1E+30", "1e-30", "NaN", "nan", "-NaN", "sNaN", "Infinity",
    "-Infinity", "inf", "0.0000000000000000000001", "1" + "0" * 30, "99999999999999999999999999999.99",
    "9223372036854775807", "9223372036854775808", "18446744073709551616", "-9223372036854775809", "",
    " ", " 1", "1 ", "1_000", "+1", "0x10", "1.2.3", "١٢٣", "１２３", "61800.123456789", "61800.25",
    "61800.2", "0.0005", "1e3", "12e-1", "--1", ".5", "5.",
    0, -0.0, -1, -5, 1, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30, 10**400, 1.5, 1e308, 5e-324,
    True, False, None,
]  # fmt: skip
UNICODE = [
    "\x00", "\ud800", "\udfff", "é", "\u202e", "\u200b", "\ufeff", "😀", "ﬁ", "\uffff", "\n", '"', "\\", "𝟙",
    "İ", "ß", "\u0301", "\x7f", "\u2028",
]  # fmt: skip
WRONG_TYPES: list[Any] = [[], {}, [1, "2"], {"a": None}, None, True, 1.25, -7, "", "x" * 5000]
_DEPTHS = [2, 3, 20, 500, 5_000, 100_000]


class Mutated:
    """A broken message: its text, its value (None when the text is no longer JSON) and what was done."""

    __slots__ = ("ops", "text", "value")

    def __init__(self, text: str, value: Any, ops: list[str]) -> None:
        self.text = text
        self.value = value
        self.ops = ops

    def __repr__(self) -> str:
        return f"Mutated({'+'.join(self.ops)}: {self.text[:200]!r})"


def _paths(
    value: Any, prefix: tuple[Any, ...] = (), out: list[tuple[Any, ...]] | None = None
) -> list[tuple[Any, ...]]:
    """Every path to a node (depth-first), the root included."""
    out = [] if out is None else out
    out.append(prefix)
    if isinstance(value, dict):
        for key, child in value.items():
            _paths(child, (*prefix, key), out)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            _paths(child, (*prefix, i), out)
    return out


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def _set(root: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    parent = _get(root, path[:-1])
    parent[path[-1]] = new
    return root


def _nest(value: Any, depth: int, rnd: random.Random) -> Any:
    for _ in range(depth):
        value = [value] if rnd.random() < 0.5 else {"n": value}
    return value


def _tree_op(root: Any, rnd: random.Random, ops: list[str]) -> Any:
    paths = _paths(root)
    path = rnd.choice(paths)
    node = _get(root, path)
    kind = rnd.randrange(8)
    if kind == 0:  # a number at the edge, where a number (or a string holding one) was
        ops.append("edge_number")
        return _set(root, path, rnd.choice(EDGE_NUMBERS))
    if kind == 1 and path:  # a field missing
        ops.append("drop")
        parent = _get(root, path[:-1])
        del parent[path[-1]]
        return root
    if kind == 2:  # a field too many
        ops.append("extra")
        target = node if isinstance(node, dict) else root if isinstance(root, dict) else None
        if target is not None:
            target[rnd.choice(["x", "e", "E", "s", "p", "q", "L", "l", "price", "", "\ud800"])] = rnd.choice(
                EDGE_NUMBERS + WRONG_TYPES
            )
        return root
    if kind == 3:  # the wrong type
        ops.append("wrong_type")
        return _set(root, path, copy.deepcopy(rnd.choice(WRONG_TYPES)))
    if kind == 4 and isinstance(node, str):  # unicode in a string
        ops.append("unicode")
        at = rnd.randrange(len(node) + 1)
        return _set(root, path, node[:at] + rnd.choice(UNICODE) + node[at:])
    if kind == 5:  # nesting (deep nesting is done on the text: Python's json cannot write it)
        ops.append("nest")
        return _set(root, path, _nest(node, rnd.choice(_DEPTHS[:3]), rnd))
    if kind == 6 and isinstance(node, dict):  # keys in another order
        ops.append("reorder")
        items = list(node.items())
        rnd.shuffle(items)
        return _set(root, path, dict(items))
    ops.append("unicode_value")
    return _set(root, path, rnd.choice(UNICODE) * rnd.randint(1, 3))


def _text_op(text: str, rnd: random.Random, ops: list[str]) -> str:
    kind = rnd.randrange(7)
    if kind == 0 and text:
        ops.append("truncate")
        return text[: rnd.randrange(len(text))]
    if kind == 1 and text:
        ops.append("flip")
        at = rnd.randrange(len(text))
        return text[:at] + chr((ord(text[at]) ^ (1 << rnd.randrange(7))) or 1) + text[at + 1 :]
    if kind == 2:
        ops.append("insert")
        at = rnd.randrange(len(text) + 1)
        return (
            text[:at] + rnd.choice(['"', "{", "]", ",", ":", "\\", "\x00", "NaN", "1e999", " "]) + text[at:]
        )
    if kind == 3:
        ops.append("deep_nest")
        depth = rnd.choice(_DEPTHS[3:])
        if text.startswith("{") and rnd.random() < 0.7:  # inside the object, where a decoder skips fields
            return '{"zz":' + "[" * depth + "]" * depth + "," + text[1:]
        return "[" * depth + text + "]" * depth
    if kind == 4 and text.startswith("{") and '":' in text:
        ops.append("duplicate_key")
        key_end = text.index('":') + 2
        first_value = text[key_end:].split(",", 1)[0]
        return text[:1] + text[1:key_end] + first_value + "," + text[1:]
    if kind == 5:
        ops.append("twice")
        return text + text
    ops.append("whitespace")
    return text.replace(",", rnd.choice([", ", ",\n", ",\t"]))


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=True)
    except (ValueError, RecursionError):
        return repr(value)


_SEED_TEXT: dict[int, tuple[Any, str]] = {}


def _fresh(seed: Any) -> Any:
    """A deep copy of a seed, through its JSON text (the C parser is far faster than `copy.deepcopy`)."""
    cached = _SEED_TEXT.get(id(seed))
    if cached is None or cached[0] is not seed:
        cached = _SEED_TEXT[id(seed)] = (seed, json.dumps(seed))
    return json.loads(cached[1])


def mutate(seed: Any, rnd: random.Random) -> Mutated:
    """One broken message made from `seed` (which is not changed)."""
    value = _fresh(seed)
    ops: list[str] = []
    for _ in range(rnd.choice((1, 1, 2, 3))):
        try:
            value = _tree_op(value, rnd, ops)
        except (KeyError, IndexError, TypeError):
            ops.append("noop")
    text = _dumps(value)
    if rnd.random() < 0.3:
        text = _text_op(text, rnd, ops)
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            value = None
    return Mutated(text, value, ops)


def mutate_text(seed: Any, rnd: random.Random) -> str:
    return mutate(seed, rnd).text


def mutate_value(seed: Any, rnd: random.Random) -> Any:
    return mutate(seed, rnd).value


def messages(seeds: Sequence[Any]) -> st.SearchStrategy[Mutated]:
    """Hypothesis: a broken message made from one of `seeds` (real venue messages)."""
    return st.builds(mutate, st.sampled_from(list(seeds)), st.randoms(use_true_random=False))
