"""A multi-document machine config: the round-trip YAML documents beside their typed models.

The typed model is for validation and use; `dump()` always writes the parsed documents, so
comments, key order and quoting survive load -> patch -> dump.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from typing import Any

from talos.machinery.config import yamlio
from talos.machinery.config.parse import (
    V1ALPHA1,
    ConfigDocument,
    document_identity,
    load_documents,
    parse_documents,
    v1alpha1_of,
)
from talos.machinery.config.patch import patch_documents
from talos.machinery.config.redact import redact_document
from talos.machinery.config.v1alpha1 import V1Alpha1Config
from talos.machinery.config.validate import validate_documents

#: re-exported: callers name them from here
__all__ = ["V1ALPHA1", "Config", "ConfigDocument", "config_from_nodes", "document_identity",
           "load_config"]


class Config:
    """One machine config (v1alpha1 and/or other documents), as loaded from YAML."""

    def __init__(self, documents: list[ConfigDocument], *, style: yamlio.Style,
                 source: str = "<config>") -> None:
        self.documents = documents
        self.style = style
        self.source = source

    @property
    def v1alpha1(self) -> V1Alpha1Config | None:
        return v1alpha1_of(self.documents)

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
        return validate_documents(self.documents, mode, strict=strict, source=self.source)

    def patched(self, patches: Sequence[str | bytes], *,
                sources: Sequence[str] | None = None) -> Config:
        """A new Config with `patches` applied in order (see `apply_patches`); this one is
        left untouched."""
        documents = patch_documents(self.raw_documents(), patches, sources=sources,
                                    source=self.source)
        return Config(documents, style=self.style, source=self.source)

    def dump(self) -> str:
        return yamlio.dump_all([d.raw for d in self.documents], self.style)

    def redacted(self) -> Config:
        """A copy with every secret replaced by "******" (for readers)."""
        docs = [ConfigDocument(d.kind, d.name, redact_document(d.kind, copy.deepcopy(d.raw)),
                               d.model) for d in self.documents]
        return Config(load_documents(docs, redacted=True), style=self.style,
                      source=self.source)


def config_from_nodes(raws: list[Any], *, style: yamlio.Style, source: str) -> Config:
    """Build a Config from round-trip nodes, reporting every problem of every document."""
    return Config(parse_documents(raws, source=source), style=style, source=source)


def load_config(data: str | bytes, *, source: str = "<config>") -> Config:
    """Parse and structurally validate a (multi-document) machine config.

    Raises InvalidConfig naming every problem: YAML syntax (line, column), unknown fields
    (path + did you mean), wrong types, impossible values, unknown document kinds.
    """
    raws, style = yamlio.parse_all(data, source=source)
    return config_from_nodes(raws, style=style, source=source)
