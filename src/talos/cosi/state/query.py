"""Label and ID queries on resource metadata (terms combine with AND)."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

from talos.machinery.errors import InvalidArgument


class LabelOp(enum.IntEnum):
    EXISTS = 0
    EQUAL = 1
    NOT_EXISTS = 2


@dataclass(frozen=True)
class LabelTerm:
    key: str
    op: LabelOp = LabelOp.EXISTS
    value: str = ""

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.op is LabelOp.EXISTS:
            return self.key in labels
        if self.op is LabelOp.NOT_EXISTS:
            return self.key not in labels
        return labels.get(self.key) == self.value


@dataclass(frozen=True)
class LabelQuery:
    terms: tuple[LabelTerm, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(t.matches(labels) for t in self.terms)


def equal(key: str, value: str) -> LabelTerm:
    return LabelTerm(key, LabelOp.EQUAL, value)


@dataclass(frozen=True)
class Query:
    """Every filter a List or Watch can carry: label queries (ANY of them) and an ID regexp."""

    labels: tuple[LabelQuery, ...] = ()
    id_regexp: str = ""

    def __post_init__(self) -> None:
        if self.id_regexp:
            try:
                re.compile(self.id_regexp)
            except re.error as e:
                raise InvalidArgument(f"id_query.regexp: not a valid regexp: {e}") from None

    def matches(self, id: str, labels: Mapping[str, str]) -> bool:
        if self.id_regexp and not re.search(self.id_regexp, id):
            return False
        return not self.labels or any(q.matches(labels) for q in self.labels)

    @property
    def empty(self) -> bool:
        return not self.labels and not self.id_regexp


EVERYTHING = Query()
