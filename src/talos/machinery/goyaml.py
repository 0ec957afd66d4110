"""YAML in the layout Talos's Go encoder writes (4-space indents, lists indented under keys).

Used for the files this project generates (secrets bundle, talosconfig, machine configs) so
they look like the ones `talosctl` writes, and for strict loading of those files.
"""

from __future__ import annotations

import io
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


def load(text: str | bytes, *, source: str) -> Any:
    """Parse one YAML document (safe types only); syntax errors name line and column."""
    y = YAML(typ="safe", pure=True)
    try:
        return y.load(text)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise InvalidConfig([Problem("", f"{where}{e.problem or e.context}")],
                            source=source) from None
    except YAMLError as e:
        raise InvalidConfig([Problem("", f"invalid YAML: {e}")], source=source) from None
