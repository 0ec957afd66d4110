"""`-o/--output table|json|yaml` for the inspect commands, in one place.

`table` (the default) is each command's own Talos-style table. `json` prints one indented
JSON object per node reply: `"node"` first, then the reply message in protobuf's canonical
JSON mapping (protojson: lowerCamelCase names, enums by name, 64-bit integers as strings,
unset fields left out), without the per-reply `metadata` (its hostname is `node`; its error
goes to stderr like in table mode). `yaml` prints the same objects as YAML documents
separated by `---`. An unknown value is a usage error listing the valid ones (exit 2).

Upstream talosctl has `-o` only on `get` (json, table, yaml, jsonpath) and `config info`;
this extends the same flag to the list-like inspect commands so that scripts need not parse
tables. Commands whose table has a different meaning keep their own flags (`netstat -o` is
`--timers` upstream).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

TABLE = "table"
FORMATS = (TABLE, "json", "yaml")


def output_option(fn: F) -> F:
    """The `-o/--output` option; the command receives it as `output`."""
    return click.option("-o", "--output", "output", type=click.Choice(FORMATS),
                        default=TABLE, show_default=True,
                        help="output mode (table, json, yaml)")(fn)


def message_doc(node: str, msg: Any) -> dict[str, Any]:
    """One reply message as a JSON-ready dict with its node first (metadata dropped)."""
    from google.protobuf import json_format
    body = json_format.MessageToDict(msg)
    body.pop("metadata", None)
    return {"node": node, **body}


def render(docs: Iterable[dict[str, Any]], output: str) -> str:
    """The documents in `output` format ("json" or "yaml")."""
    docs = list(docs)
    if output == "json":
        return "".join(json.dumps(d, indent=4) + "\n" for d in docs)
    if output == "yaml":
        from ruamel.yaml import YAML
        yaml = YAML(typ="safe", pure=True)
        yaml.default_flow_style = False
        yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
        out = io.StringIO()
        yaml.dump_all(docs, out)
        return out.getvalue()
    raise click.UsageError(f"unknown output format {output!r}: expected one of "
                           + ", ".join(FORMATS))


def emit(pairs: Iterable[tuple[str, Any]], output: str) -> bool:
    """Print `(node, message)` pairs in `output` format; False (nothing printed) for table,
    so a command does `if not emit(...): <print its table>`."""
    if output == TABLE:
        return False
    click.echo(render((message_doc(node, msg) for node, msg in pairs), output), nl=False)
    return True
