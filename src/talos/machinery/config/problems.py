"""Turn pydantic validation errors into `Problem`s with Talos-style field paths.

`machine.network.interfaces[0].addresses[1]: invalid CIDR "10.5.0"`; unknown keys get a
"did you mean" from the YAML keys the model at that place accepts. A problem with a secret
field (`machine.token`, `cluster.ca.key`, ...) never shows its value: "******" stands in.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from talos.machinery.config.redact import REDACTED, is_secret_path
from talos.machinery.errors import Problem

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_$-]+$")


def format_path(loc: Sequence[str | int], prefix: str = "") -> str:
    """('machine', 'files', 0, 'op') -> 'machine.files[0].op'."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _PLAIN_KEY.match(part):
            out += f'["{part}"]'
        else:
            out += f".{part}" if out else str(part)
    return out


def _unwrap(annotation: Any) -> Any:
    """Strip Optional/Annotated down to the type that decides the next path step."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def field_aliases(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def model_at(root: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model class that validates the mapping at `loc` (None if not a model)."""
    current: Any = root
    for part in loc:
        current = _unwrap(current)
        origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel) and isinstance(part, str):
            for name, f in current.model_fields.items():
                if (f.alias or name) == part:
                    current = f.annotation
                    break
            else:
                return None
        elif origin is list and isinstance(part, int):
            current = typing.get_args(current)[0]
        elif origin is dict:
            current = typing.get_args(current)[1]
        else:
            return None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def did_you_mean(word: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in candidates}
        if word.lower() in lowered:
            close = [lowered[word.lower()]]
    return f' (did you mean "{close[0]}"?)' if close else ""


@dataclass(frozen=True)
class _Hidden:
    """A secret input: its YAML type may be told, never its value."""

    yaml_type: str


def _yaml_type(value: Any) -> str:
    if isinstance(value, _Hidden):
        return value.yaml_type
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return type(value).__name__


def _show(value: Any) -> str:
    if isinstance(value, _Hidden):
        return REDACTED
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict | list):
        return f"a {_yaml_type(value)}"
    return str(value).lower() if isinstance(value, bool) else repr(value)


def _message(err: Any, root: type[BaseModel]) -> str:
    kind = err["type"]
    value = err.get("input")
    loc = err["loc"]
    if kind == "extra_forbidden":
        model = model_at(root, loc[:-1])
        hint = did_you_mean(str(loc[-1]), field_aliases(model)) if model else ""
        return f'unknown field "{loc[-1]}"{hint}'
    if kind == "missing":
        return "required field is missing"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    got = f"got {_yaml_type(value)} {_show(value)}" if not isinstance(value, dict | list) \
        else f"got a {_yaml_type(value)}"
    expected = {
        "string_type": "a string", "int_type": "an integer", "int_parsing": "an integer",
        "int_from_float": "an integer", "bool_type": "a boolean (true/false)",
        "bool_parsing": "a boolean (true/false)", "list_type": "a list",
        "dict_type": "a mapping", "model_type": "a mapping", "model_attributes_type":
        "a mapping", "float_type": "a number", "float_parsing": "a number",
    }.get(kind)
    if expected:
        return f"expected {expected}, {got}"
    if kind == "literal_error":
        wanted = err.get("ctx", {}).get("expected", "")
        return f"invalid value {_show(value)}: expected {wanted}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"invalid value {_show(value)}: {err['msg'].lower()}"
    return f"{err['msg']} ({got})"


def _hide_secret(err: Any) -> Any:
    """The error with its input hidden (and the input's spelling taken out of a validator's
    message)."""
    value = err.get("input")
    if isinstance(value, dict | list) or value is None or value == "":
        return err
    msg = str(err.get("msg", "")).replace(f'"{value}"', REDACTED).replace(
        f"'{value}'", REDACTED)
    if len(str(value)) >= 4:
        msg = msg.replace(str(value), REDACTED)
    return dict(err, msg=msg, input=_Hidden(_yaml_type(value)))


def _kind(root: type[BaseModel]) -> str:
    """The document kind a root model validates ("v1alpha1" for the main document)."""
    return "v1alpha1" if root.__name__ == "V1Alpha1Config" else root.__name__


def problems_from(exc: ValidationError, root: type[BaseModel], prefix: str = ""
                  ) -> list[Problem]:
    """One Problem per pydantic error, in document order."""
    out: list[Problem] = []
    kind = _kind(root)
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if isinstance(p, str | int)]
        if is_secret_path(kind, loc):
            err = _hide_secret(err)
        out.append(Problem(format_path(loc, prefix), _message(err, root)))
    return out
