"""Label and ID queries on resource metadata (terms combine with AND)."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

from talos.machinery.errors import InvalidArgument


class LabelOp(enum.IntEnum):
    """cosi.resource.LabelTerm.Operation (cosi-project/specification)."""

    EXISTS = 0
    EQUAL = 1
    NOT_EXISTS = 2  # deprecated upstream: EXISTS with invert
    IN = 3
    LT = 4
    LTE = 5
    LT_NUMERIC = 6
    LTE_NUMERIC = 7


_COMPARISONS = frozenset({LabelOp.LT, LabelOp.LTE, LabelOp.LT_NUMERIC, LabelOp.LTE_NUMERIC})

#: unit suffixes of numeric label values, as cosi-project/runtime's compare package reads them
_BINARY_UNITS = {"ki": 1 << 10, "mi": 1 << 20, "gi": 1 << 30, "ti": 1 << 40, "pi": 1 << 50}
_DECIMAL_UNITS = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15}
_NUMBER = re.compile(r"([0-9-]*)(.*)", re.S)


def label_number(value: str) -> int | None:
    """`"12"`, `"4Gi"`, `"5k"` as an integer, or None when it is not a number."""
    m = _NUMBER.fullmatch(value.strip())
    assert m is not None
    digits, units = m.groups()
    try:
        number = int(digits, 10)
    except ValueError:
        return None
    units = units.strip().lower()
    if not units:
        return number
    factor = _BINARY_UNITS.get(units[:2]) or _DECIMAL_UNITS.get(units[:1])
    return None if factor is None else number * factor


@dataclass(frozen=True)
class LabelTerm:
    """One condition on a label; `invert` negates it, except that a comparison with a label
    that is absent or not a number never matches (cosi-project/runtime's semantics)."""

    key: str
    op: LabelOp = LabelOp.EXISTS
    values: tuple[str, ...] = ()
    invert: bool = False

    def __post_init__(self) -> None:
        if self.op not in (LabelOp.EXISTS, LabelOp.NOT_EXISTS) and not self.values:
            raise InvalidArgument(f"label term {self.key!r}: operator {self.op.name} needs a "
                                  "value")

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.op is LabelOp.NOT_EXISTS:
            return (self.key in labels) == self.invert
        result = self._matches(labels)
        if result is None:
            return False
        return result != self.invert

    def _matches(self, labels: Mapping[str, str]) -> bool | None:
        value = labels.get(self.key)
        if value is None:
            return None if self.op in _COMPARISONS else False
        match self.op:
            case LabelOp.EXISTS:
                return True
            case LabelOp.EQUAL:
                return value == self.values[0]
            case LabelOp.IN:
                return value in self.values
            case LabelOp.LT:
                return value < self.values[0]
            case LabelOp.LTE:
                return value <= self.values[0]
        left, right = label_number(value), label_number(self.values[0])
        if left is None or right is None:
            return None
        return left < right if self.op is LabelOp.LT_NUMERIC else left <= right


@dataclass(frozen=True)
class LabelQuery:
    terms: tuple[LabelTerm, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(t.matches(labels) for t in self.terms)


def equal(key: str, value: str) -> LabelTerm:
    return LabelTerm(key, LabelOp.EQUAL, (value,))


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
