"""`talosctl get -o jsonpath='{.spec.hostname}'`: kubectl-style JSONPath templates.

A template is literal text with `{expression}` parts; each expression is a JSONPath over the
JSON document `-o json` prints for a resource (`node`, `metadata`, `spec`), evaluated with
jsonpath-ng (`.spec.x` is taken as `$.spec.x`). Several matches print separated by spaces
(as kubectl does); objects and lists print as JSON; scalars print as they are. kubectl's
`range`/`end` blocks are not supported and are refused with a clear error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import click

PREFIX = "jsonpath="
_PART = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class JsonPathTemplate:
    text: str
    parts: tuple[tuple[str, Any], ...]  # ("text", str) or ("expr", compiled jsonpath)

    @classmethod
    def parse(cls, template: str) -> JsonPathTemplate:
        from jsonpath_ng.ext.parser import parse

        if not template.strip():
            raise click.BadParameter("jsonpath template is empty: expected e.g. "
                                     "jsonpath='{.spec}'", param_hint="'-o' / '--output'")
        parts: list[tuple[str, Any]] = []
        pos = 0
        for m in _PART.finditer(template):
            if m.start() > pos:
                parts.append(("text", template[pos:m.start()]))
            expr = m.group(1).strip()
            if expr.split(" ", 1)[0] in ("range", "end"):
                raise click.BadParameter(f"jsonpath {{{expr}}}: range/end blocks are not "
                                         "supported", param_hint="'-o' / '--output'")
            path = "$" + expr if expr.startswith((".", "[")) else expr
            try:
                parts.append(("expr", parse(path)))
            except Exception as e:  # jsonpath-ng raises several unrelated types
                raise click.BadParameter(f"invalid jsonpath {{{expr}}}: {e}",
                                         param_hint="'-o' / '--output'") from None
            pos = m.end()
        if pos < len(template):
            parts.append(("text", template[pos:]))
        if not any(kind == "expr" for kind, _ in parts):
            raise click.BadParameter(f"jsonpath template {template!r} has no {{expression}}: "
                                     "expected e.g. jsonpath='{.spec}'",
                                     param_hint="'-o' / '--output'")
        return cls(template, tuple(parts))

    def render(self, doc: dict[str, Any]) -> str:
        out: list[str] = []
        for kind, part in self.parts:
            if kind == "text":
                out.append(part.encode().decode("unicode_escape") if "\\" in part else part)
                continue
            out.append(" ".join(_scalar(m.value) for m in part.find(doc)))
        return "".join(out)


def _scalar(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


class OutputFormat(click.ParamType):  # type: ignore[type-arg]  # generic only since click 8.2
    """`table`, `json`, `yaml` or `jsonpath=<template>` (upstream's set for `get`)."""

    name = "output"
    CHOICES = ("table", "json", "yaml")

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, JsonPathTemplate):
            return value
        text = str(value)
        if text in self.CHOICES:
            return text
        if text.startswith(PREFIX):
            return JsonPathTemplate.parse(text[len(PREFIX):])
        if text == "jsonpath":
            self.fail("jsonpath needs a template: -o jsonpath='{.spec}'", param, ctx)
        self.fail(f"{text!r} is not one of 'table', 'json', 'yaml', 'jsonpath=<template>'",
                  param, ctx)
