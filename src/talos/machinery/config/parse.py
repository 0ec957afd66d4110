"""Round-trip YAML nodes -> typed config documents, every problem of every document reported.

The lowest layer of a multi-document config: `Config` (config.py) holds what this module
parses; validation (validate.py) and patching (patch.py) work on its documents and need
nothing above it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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


def parse_document(raw: Any, index: int, *, redacted: bool = False
                   ) -> tuple[ConfigDocument | None, list[Problem]]:
    """One typed document; `redacted`: a copy whose secrets were replaced by the redaction
    marker, which base64 fields then accept (see types.Base64)."""
    where = f"document[{index}]"
    context = {"redacted": True} if redacted else None
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
            model: BaseModel = V1Alpha1Config.model_validate(plain, context=context)
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
        model = cls.model_validate(plain, context=context)
    except ValidationError as e:
        return None, problems_from(e, cls, prefix=label)
    return ConfigDocument(kind, name if isinstance(name, str) else None, raw, model), []


def load_documents(docs: list[ConfigDocument], *, redacted: bool = False
                   ) -> list[ConfigDocument]:
    """Re-validate documents whose raw node changed (models follow the raw YAML)."""
    out: list[ConfigDocument] = []
    for i, d in enumerate(docs):
        parsed, problems = parse_document(d.raw, i, redacted=redacted)
        if problems or parsed is None:
            raise InvalidConfig(problems)
        out.append(parsed)
    return out


def parse_documents(raws: Iterable[Any], *, source: str) -> list[ConfigDocument]:
    """Typed documents from round-trip nodes (None nodes skipped), reporting every problem of
    every document (and duplicates, and an empty config) in one InvalidConfig."""
    documents: list[ConfigDocument] = []
    problems: list[Problem] = []
    seen: set[tuple[str, str | None]] = set()
    for index, raw in enumerate(r for r in raws if r is not None):
        doc, errs = parse_document(raw, index)
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
    return documents


def v1alpha1_of(documents: Sequence[ConfigDocument]) -> V1Alpha1Config | None:
    """The v1alpha1 document's model, if the config has one."""
    for doc in documents:
        if doc.kind == V1ALPHA1 and isinstance(doc.model, V1Alpha1Config):
            return doc.model
    return None
