"""RFC 6902 JSON patches (add, remove, replace, move, copy, test) on plain documents.

Written for config patches: an error names the operation, the JSON pointer and what is wrong
with it (a missing member, an index out of range, a scalar where a mapping or list was
expected), and never shows a value of the document or of the patch, which may be a secret
(a failing `test` says only that the value differs).

Why not the `jsonpatch` library (used before): its exceptions carry a `repr()` of the
document or of the value they were looking at, so a bad path printed the whole `machine:`
section, token and CA key included (issue 14). Wrapping it would have meant re-deriving
every error from outside; the RFC's six operations are small enough to own, and
`tests/unit/config` checks them against the RFC's own examples.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

OPS = ("add", "remove", "replace", "move", "copy", "test")


class JSONPatchError(Exception):
    """`where` is the operation ("[0] (add /machine/foo)"); the message what went wrong."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


def _what(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "null"
    return "a string"


def _pointer(text: str, field: str) -> list[str]:
    if text == "":
        return []
    if not text.startswith("/"):
        raise ValueError(f'{field} "{text}" is not a JSON pointer (it must start with "/")')
    tokens = text[1:].split("/")
    for token in tokens:
        rest = token.replace("~0", "").replace("~1", "")
        if "~" in rest:
            raise ValueError(f'{field} "{text}" has an invalid escape ("~" must be followed '
                             'by 0 or 1)')
    return [t.replace("~1", "/").replace("~0", "~") for t in tokens]


def _show(tokens: Sequence[str]) -> str:
    return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens) or "/"


def _index(container: list[Any], token: str, tokens: Sequence[str], *, append: bool) -> int:
    if append and token == "-":
        return len(container)
    if not token.isdigit() or (token.startswith("0") and token != "0"):
        raise ValueError(f'{_show(tokens)}: "{token}" is not a list index')
    index = int(token)
    limit = len(container) + (1 if append else 0)
    if index >= limit:
        raise ValueError(f"{_show(tokens)}: index {index} is out of range (the list has "
                         f"{len(container)} item{'s' if len(container) != 1 else ''})")
    return index


def _parent(doc: Any, tokens: Sequence[str]) -> Any:
    """The container holding the last token of `tokens` (every step before it must exist)."""
    node = doc
    for i, token in enumerate(tokens[:-1]):
        here = tokens[:i + 1]
        if isinstance(node, dict):
            if token not in node:
                raise ValueError(f"{_show(here)} does not exist")
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, here, append=False)]
        else:
            raise ValueError(f"{_show(tokens[:i])} is {_what(node)}, not a mapping or list")
    if not isinstance(node, dict | list):
        raise ValueError(f"{_show(tokens[:-1])} is {_what(node)}, not a mapping or list")
    return node


def _get(doc: Any, tokens: Sequence[str]) -> Any:
    if not tokens:
        return doc
    parent = _parent(doc, tokens)
    token = tokens[-1]
    if isinstance(parent, dict):
        if token not in parent:
            raise ValueError(f"{_show(tokens)} does not exist")
        return parent[token]
    return parent[_index(parent, token, tokens, append=False)]


def _add(doc: Any, tokens: Sequence[str], value: Any) -> Any:
    if not tokens:
        return value
    parent = _parent(doc, tokens)
    if isinstance(parent, dict):
        parent[tokens[-1]] = value
    else:
        parent.insert(_index(parent, tokens[-1], tokens, append=True), value)
    return doc


def _remove(doc: Any, tokens: Sequence[str]) -> Any:
    if not tokens:
        raise ValueError("the whole document can't be removed")
    parent = _parent(doc, tokens)
    if isinstance(parent, dict):
        if tokens[-1] not in parent:
            raise ValueError(f"{_show(tokens)} does not exist")
        del parent[tokens[-1]]
    else:
        del parent[_index(parent, tokens[-1], tokens, append=False)]
    return doc


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers, mappings ignore order, lists do not."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)


def _apply_op(doc: Any, op: dict[str, Any], name: str) -> Any:
    tokens = _pointer(op["path"], "path")
    if name in ("add", "replace", "test") and "value" not in op:
        raise ValueError(f'"{name}" needs a "value"')
    if name == "add":
        return _add(doc, tokens, copy.deepcopy(op["value"]))
    if name == "remove":
        return _remove(doc, tokens)
    if name == "replace":
        _get(doc, tokens)  # must exist
        if not tokens:
            return copy.deepcopy(op["value"])
        parent = _parent(doc, tokens)
        key = tokens[-1] if isinstance(parent, dict) else \
            _index(parent, tokens[-1], tokens, append=False)
        parent[key] = copy.deepcopy(op["value"])
        return doc
    if name == "test":
        if not _equal(_get(doc, tokens), op["value"]):
            raise ValueError(f"test failed: the value at {_show(tokens)} differs from the "
                             "tested value")
        return doc
    source = op.get("from")
    if not isinstance(source, str):
        raise ValueError(f'"{name}" needs a "from" JSON pointer')
    from_tokens = _pointer(source, "from")
    value = _get(doc, from_tokens)
    if name == "move":
        if tokens[:len(from_tokens)] == from_tokens and tokens != from_tokens:
            raise ValueError(f"{_show(from_tokens)} can't be moved into itself")
        doc = _remove(doc, from_tokens)
        return _add(doc, tokens, value)
    return _add(doc, tokens, copy.deepcopy(value))


def apply(doc: Any, ops: Any) -> Any:
    """`doc` (plain data, modified in place where possible) with `ops` applied; returns the
    new document. Raises JSONPatchError naming the first operation that fails."""
    if not isinstance(ops, list):
        raise JSONPatchError("", "a JSON patch must be a list of operations")
    for i, op in enumerate(ops):
        where = f"[{i}]"
        if not isinstance(op, dict):
            raise JSONPatchError(where, "a JSON patch operation must be a mapping with "
                                 '"op" and "path"')
        name, path = op.get("op"), op.get("path")
        if not isinstance(name, str) or name not in OPS:
            got = f'"{name}"' if isinstance(name, str) else _what(name) \
                if "op" in op else "nothing"
            raise JSONPatchError(where, f'"op" must be one of {", ".join(OPS)}, got {got}')
        if not isinstance(path, str):
            raise JSONPatchError(f"[{i}] ({name})", f'"path" must be a JSON pointer string, '
                                 f"got {_what(path) if 'path' in op else 'nothing'}")
        try:
            doc = _apply_op(doc, op, name)
        except ValueError as e:
            raise JSONPatchError(f"[{i}] ({name} {path})", str(e)) from None
    return doc
