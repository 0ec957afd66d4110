"""Values of command-line flags that may be given several times (`extraArgs`), as upstream's
`ArgValues` (`{values: [...]}` in YAML, `ArgValues` in the etcd and k8s protos)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ArgValues:
    """Values of one command-line flag (a flag may be given several times)."""

    values: tuple[str, ...] = ()


def arg_values(args: Mapping[str, Any]) -> dict[str, ArgValues]:
    """Normalise extraArgs: a string, a list of strings, an ArgValues or its YAML mapping
    (`{values: [...]}`) per flag."""
    out: dict[str, ArgValues] = {}
    for k, v in args.items():
        if isinstance(v, ArgValues):
            out[str(k)] = v
        elif isinstance(v, Mapping):
            out[str(k)] = ArgValues(tuple(str(x) for x in v.get("values") or ()))
        elif isinstance(v, (list, tuple)):
            out[str(k)] = ArgValues(tuple(str(x) for x in v))
        else:
            out[str(k)] = ArgValues((str(v),))
    return out


def flag_pairs(args: Mapping[str, ArgValues]) -> tuple[tuple[str, str], ...]:
    """(flag, value) pairs sorted by flag, a repeated flag's values kept in order."""
    return tuple((k, v) for k in sorted(args) for v in args[k].values)
