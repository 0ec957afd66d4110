"""Specs to and from YAML (what `yaml_spec` carries and `talosctl get -o yaml` prints).

A spec is a frozen dataclass whose fields render in lowerCamelCase (override with
`field(metadata={"yaml": "name"})`), or a class with `to_yaml()`/`from_yaml()`. A spec whose
type is not declared in this process travels as `RawSpec` (its YAML text, unchanged).
"""

from __future__ import annotations

import dataclasses
import enum
import io
import typing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ruamel.yaml import YAML

from talos.machinery.errors import InvalidArgument


@dataclass(frozen=True)
class RawSpec:
    """A spec known only by its YAML text."""

    yaml: str = ""

    def to_yaml(self) -> str:
        return self.yaml

    @classmethod
    def from_yaml(cls, text: str) -> RawSpec:
        return cls(text)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _yaml_name(f: dataclasses.Field[Any]) -> str:
    return str(f.metadata.get("yaml", camel(f.name)))


def to_plain(value: Any) -> Any:
    """A spec (or part of one) as plain dicts/lists/scalars, keys in YAML naming."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if f.metadata.get("omitempty") and not v:
                continue
            out[_yaml_name(f)] = to_plain(v)
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _yaml() -> YAML:
    y = YAML(typ="safe", pure=True)
    y.default_flow_style = False
    y.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    y.indent(mapping=4, sequence=4, offset=2)
    return y


def dump_yaml(data: Any) -> str:
    buf = io.StringIO()
    _yaml().dump(data, buf)
    return buf.getvalue()


def load_yaml(text: str) -> Any:
    return _yaml().load(text) if text.strip() else None


def spec_to_yaml(spec: Any) -> str:
    to_yaml = getattr(spec, "to_yaml", None)
    if callable(to_yaml):
        return str(to_yaml())
    if spec is None:
        return ""
    return dump_yaml(to_plain(spec))


def _from_plain(tp: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise InvalidArgument(f"{path or 'spec'}: expected a mapping, got {value!r}")
        hints = typing.get_type_hints(tp)
        by_yaml = {_yaml_name(f): f for f in dataclasses.fields(tp)}
        kwargs: dict[str, Any] = {}
        for key, v in value.items():
            f = by_yaml.get(str(key))
            if f is None:
                known = ", ".join(sorted(by_yaml))
                raise InvalidArgument(
                    f"{path + '.' if path else 'spec.'}{key}: unknown field (expected one of "
                    f"{known})")
            kwargs[f.name] = _from_plain(hints[f.name], v, f"{path}.{key}" if path else key)
        return tp(**kwargs)
    if origin is tuple:
        args = typing.get_args(tp)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise InvalidArgument(f"{path}: expected a list, got {value!r}")
        inner = args[0] if args else Any
        return tuple(_from_plain(inner, v, f"{path}[{i}]") for i, v in enumerate(value))
    if origin in (dict, typing.Mapping) or tp is dict:
        return dict(value or {})
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        for arg in typing.get_args(tp):
            if arg is type(None) and value is None:
                return None
        non_none = [a for a in typing.get_args(tp) if a is not type(None)]
        return _from_plain(non_none[0], value, path) if non_none else value
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    if tp is bool and not isinstance(value, bool):
        raise InvalidArgument(f"{path}: expected true or false, got {value!r}")
    if tp in (int, float) and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise InvalidArgument(f"{path}: expected a number, got {value!r}")
    if tp is str and not isinstance(value, str):
        raise InvalidArgument(f"{path}: expected a string, got {value!r}")
    return tp(value) if tp in (int, float) else value


def spec_from_yaml(spec_type: type[Any], text: str) -> Any:
    """Parse YAML text into `spec_type` (InvalidArgument naming the field on mismatch)."""
    from_yaml = getattr(spec_type, "from_yaml", None)
    if callable(from_yaml):
        return from_yaml(text)
    try:
        data = load_yaml(text)
    except Exception as e:  # ruamel raises many error types; all mean "not YAML"
        raise InvalidArgument(f"spec: not valid YAML: {e}") from e
    return _from_plain(spec_type, data, "")
