"""YAML in the layout Talos's Go encoder writes (4-space indents, lists indented under keys).

Used for the files this project generates (secrets bundle, talosconfig, machine configs) so
they look like the ones `talosctl` writes, and for strict loading of those files.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from talos.machinery.errors import InvalidConfig, Problem


def _dumper() -> YAML:
    y = YAML(typ="rt")
    y.indent(mapping=4, sequence=6, offset=4)
    y.width = 1 << 16  # never fold long base64 strings
    y.default_flow_style = False
    return y


def dump(data: Any) -> str:
    """Block-style YAML, keys in insertion order, empty maps/lists as `{}`/`[]`."""
    buf = io.StringIO()
    _dumper().dump(data, buf)
    return buf.getvalue()


def dump_all(documents: list[Any]) -> str:
    buf = io.StringIO()
    _dumper().dump_all(documents, buf)
    return buf.getvalue()


#: a duplicate key's message quotes both values (a token, a key): only the key is named
_DUPLICATE_VALUES = re.compile(r'(found duplicate key "[^"]*") with value .*$', re.S)


def describe_error(e: MarkedYAMLError, *, context: bool = False) -> str:
    """`line L, column C: what` for a YAML error, quoting no value of the document."""
    mark = e.problem_mark or e.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    parts = (e.context, e.problem) if context else (e.problem or e.context,)
    what = " ".join(str(p) for p in parts if p) or "invalid YAML"
    return where + _DUPLICATE_VALUES.sub(r"\1", what)


def load(text: str | bytes, *, source: str) -> Any:
    """Parse one YAML document (safe types only); syntax errors name line and column."""
    y = YAML(typ="safe", pure=True)
    try:
        return y.load(text)
    except MarkedYAMLError as e:
        raise InvalidConfig([Problem("", describe_error(e))], source=source) from None
    except YAMLError as e:
        raise InvalidConfig([Problem("", f"invalid YAML: {e}")], source=source) from None
