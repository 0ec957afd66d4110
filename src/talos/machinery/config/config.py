"""A multi-document machine config: the round-trip YAML documents beside their typed models.

The typed model is for validation and use; `dump()` always writes the parsed documents, so
comments, key order and quoting survive load -> patch -> dump.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from talos.machinery.config import yamlio
from talos.machinery.config.documents import ALL_KINDS, TYPED_KINDS, UNSUPPORTED_KINDS
from talos.machinery.config.problems import did_you_mean, problems_from
from talos.machinery.config.v1alpha1 import V1Alpha1Config
from talos.machinery.errors import InvalidConfig, Problem

V1ALPHA1 = "v1alpha1"
_V1ALPHA1_KEYS = frozenset({"version", "debug", "persist", "machine", "cluster"})


@dataclass(frozen=True)
class ConfigDocument:
    """One document: `kind` is "v1alpha1" for the main document."""

    kind: str
    name: str | None
    raw: Any = field(repr=False, compare=False)
    model: BaseModel | None = field(repr=False)

    @property
    def label(self) -> str:
        """How paths inside this document are prefixed ("" for v1alpha1)."""
        if self.kind == V1ALPHA1:
            return ""
        return f"{self.kind}/{self.name}" if self.name else self.kind

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.kind, self.name)


def document_identity(raw: Any) -> tuple[str, str | None] | None:
    """(kind, name) of a parsed document; None if it is not a mapping."""
    if not isinstance(raw, dict):
        return None
    if "kind" in raw:
        name = raw.get("name")
        return (str(raw["kind"]), str(name) if name is not None else None)
    return (V1ALPHA1, None)


def _parse_document(raw: Any, index: int) -> tuple[ConfigDocument | None, list[Problem]]:
    where = f"document[{index}]"
    if not isinstance(raw, dict):
        # the type only: a stray scalar may be a secret pasted in the wrong place
        what = "a list" if isinstance(raw, list) else "a string" if isinstance(raw, str) \
            else "a boolean" if isinstance(raw, bool) else "a number" \
            if isinstance(raw, int | float) else "a scalar"
        return None, [Problem(where, f"expected a mapping, got {what}")]
    try:
        plain = yamlio.to_plain(raw)
    except InvalidConfig as e:
        return None, [Problem(where, p.message) for p in e.problems]
    if "kind" not in plain:
        if "apiVersion" in plain and not (_V1ALPHA1_KEYS & set(plain)):
            return None, [Problem(where, 'missing field "kind"')]
        try:
            model: BaseModel = V1Alpha1Config.model_validate(plain)
        except ValidationError as e:
            return None, problems_from(e, V1Alpha1Config)
        return ConfigDocument(V1ALPHA1, None, raw, model), []
    kind = plain["kind"]
    if isinstance(kind, str) and kind in UNSUPPORTED_KINDS:
        supported = ", ".join(["v1alpha1", *sorted(TYPED_KINDS)])
        return None, [Problem(f"{where}.kind", f'document kind "{kind}" is not supported '
                              f"(supported kinds: {supported})")]
    if not isinstance(kind, str) or kind not in ALL_KINDS:
        hint = did_you_mean(str(kind), sorted(ALL_KINDS))
        return None, [Problem(f"{where}.kind", f'unknown kind "{kind}"{hint}')]
    name = plain.get("name")
    label = f"{kind}/{name}" if isinstance(name, str) and name else kind
    if plain.get("apiVersion") != V1ALPHA1:
        return None, [Problem(f"{label}.apiVersion",
                              f'expected "v1alpha1", got "{plain.get("apiVersion")}"')]
    cls = TYPED_KINDS[kind]
    try:
        model = cls.model_validate(plain)
    except ValidationError as e:
        return None, problems_from(e, cls, prefix=label)
    return ConfigDocument(kind, name if isinstance(name, str) else None, raw, model), []


class Config:
    """One machine config (v1alpha1 and/or other documents), as loaded from YAML."""

    def __init__(self, documents: list[ConfigDocument], *, style: yamlio.Style,
                 source: str = "<config>") -> None:
        self.documents = documents
        self.style = style
        self.source = source

    @property
    def v1alpha1(self) -> V1Alpha1Config | None:
        for doc in self.documents:
            if doc.kind == V1ALPHA1 and isinstance(doc.model, V1Alpha1Config):
                return doc.model
        return None

    def document(self, kind: str, name: str | None = None) -> ConfigDocument | None:
        for doc in self.documents:
            if doc.kind == kind and (name is None or doc.name == name):
                return doc
        return None

    def __iter__(self) -> Iterator[ConfigDocument]:
        return iter(self.documents)

    def raw_documents(self) -> list[Any]:
        """Deep copies of the round-trip documents (safe to modify)."""
        return [copy.deepcopy(d.raw) for d in self.documents]

    def validate(self, mode: str = "metal", *, strict: bool = False) -> list[str]:
        """Check the config for `mode` (container, metal, cloud). Returns warnings; raises
        InvalidConfig listing every problem (warnings count as problems when strict)."""
        from talos.machinery.config.validate import validate_config

        return validate_config(self, mode, strict=strict)

    def patched(self, patches: Sequence[str | bytes], *,
                sources: Sequence[str] | None = None) -> Config:
        """A new Config with `patches` applied in order (see `apply_patches`); this one is
        left untouched."""
        from talos.machinery.config.patch import patch_documents

        return patch_documents(self.raw_documents(), self.style, patches, sources=sources,
                               source=self.source)

    def dump(self) -> str:
        return yamlio.dump_all([d.raw for d in self.documents], self.style)

    def redacted(self) -> Config:
        """A copy with every secret replaced by "******" (for readers)."""
        from talos.machinery.config.redact import redact_document

        docs = [ConfigDocument(d.kind, d.name, redact_document(d.kind, copy.deepcopy(d.raw)),
                               d.model) for d in self.documents]
        return Config(load_documents(docs), style=self.style, source=self.source)


def load_documents(docs: list[ConfigDocument]) -> list[ConfigDocument]:
    """Re-validate documents whose raw node changed (models follow the raw YAML)."""
    out: list[ConfigDocument] = []
    for i, d in enumerate(docs):
        parsed, problems = _parse_document(d.raw, i)
        if problems or parsed is None:
            raise InvalidConfig(problems)
        out.append(parsed)
    return out


def config_from_nodes(raws: list[Any], *, style: yamlio.Style, source: str) -> Config:
    """Build a Config from round-trip nodes, reporting every problem of every document."""
    documents: list[ConfigDocument] = []
    problems: list[Problem] = []
    seen: set[tuple[str, str | None]] = set()
    for index, raw in enumerate(r for r in raws if r is not None):
        doc, errs = _parse_document(raw, index)
        problems += errs
        if doc is None:
            continue
        if doc.key in seen:
            what = "v1alpha1 document" if doc.kind == V1ALPHA1 else f"document {doc.label}"
            problems.append(Problem(doc.label or "document", f"duplicate {what}"))
            continue
        seen.add(doc.key)
        documents.append(doc)
    if not documents and not problems:
        problems.append(Problem("", "config is empty"))
    if problems:
        raise InvalidConfig(problems, source=source)
    return Config(documents, style=style, source=source)


def load_config(data: str | bytes, *, source: str = "<config>") -> Config:
    """Parse and structurally validate a (multi-document) machine config.

    Raises InvalidConfig naming every problem: YAML syntax (line, column), unknown fields
    (path + did you mean), wrong types, impossible values, unknown document kinds.
    """
    raws, style = yamlio.parse_all(data, source=source)
    return config_from_nodes(raws, style=style, source=source)
