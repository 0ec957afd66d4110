"""Label terms behave as cosi-project/runtime's (pkg/resource/labels.go at v1.14.1, the
version Talos v1.13.9 uses): IN, LT/LTE (string order), LT_NUMERIC/LTE_NUMERIC (numbers with
k/M/G… and Ki/Mi/Gi… units), invert, and comparisons that never match an absent label."""

from __future__ import annotations

import pytest

from talos.api.v1alpha1 import resource_pb2
from talos.cosi.server import query_from_proto
from talos.cosi.state.query import LabelOp, LabelTerm, label_number
from talos.machinery.errors import InvalidArgument

LABELS = {"zone": "b", "size": "4Gi", "count": "12", "name": "node-1"}


@pytest.mark.parametrize(("term", "expected"), [
    (LabelTerm("zone"), True),
    (LabelTerm("zone", invert=True), False),
    (LabelTerm("missing"), False),
    (LabelTerm("missing", invert=True), True),
    (LabelTerm("missing", LabelOp.NOT_EXISTS), True),
    (LabelTerm("zone", LabelOp.EQUAL, ("b",)), True),
    (LabelTerm("zone", LabelOp.EQUAL, ("b",), invert=True), False),
    (LabelTerm("zone", LabelOp.IN, ("a", "b")), True),
    (LabelTerm("zone", LabelOp.IN, ("a", "c")), False),
    (LabelTerm("zone", LabelOp.IN, ("a", "c"), invert=True), True),
    (LabelTerm("zone", LabelOp.LT, ("c",)), True),
    (LabelTerm("zone", LabelOp.LT, ("b",)), False),
    (LabelTerm("zone", LabelOp.LTE, ("b",)), True),
    # string order: "12" < "9"; numeric order: 12 > 9
    (LabelTerm("count", LabelOp.LT, ("9",)), True),
    (LabelTerm("count", LabelOp.LT_NUMERIC, ("9",)), False),
    (LabelTerm("count", LabelOp.LTE_NUMERIC, ("12",)), True),
    (LabelTerm("size", LabelOp.LT_NUMERIC, ("5G",)), True),       # 4 GiB < 5 GB
    (LabelTerm("size", LabelOp.LT_NUMERIC, ("4G",)), False),      # 4 GiB > 4 GB
    # a comparison with an absent or non-numeric label never matches, even inverted
    (LabelTerm("missing", LabelOp.LT, ("z",), invert=True), False),
    (LabelTerm("name", LabelOp.LT_NUMERIC, ("5",)), False),
    (LabelTerm("name", LabelOp.LT_NUMERIC, ("5",), invert=True), False),
])
def test_label_term_matches_as_cosi_runtime(term: LabelTerm, expected: bool) -> None:
    assert term.matches(LABELS) is expected


def test_label_numbers_read_units_as_cosi_runtime() -> None:
    assert label_number("12") == 12
    assert label_number(" 3k ") == 3000
    assert label_number("2Mi") == 2 << 20
    assert label_number("-1") == -1
    assert label_number("abc") is None
    assert label_number("5x") is None


def test_an_operator_that_needs_a_value_without_one_is_invalid() -> None:
    with pytest.raises(InvalidArgument, match="operator IN needs a value"):
        LabelTerm("zone", LabelOp.IN)


def test_wire_label_terms_carry_every_value_and_invert() -> None:
    q = resource_pb2.LabelQuery(terms=[resource_pb2.LabelTerm(
        key="zone", op=resource_pb2.LabelTerm.IN, value=["a", "b"], invert=True)])
    query = query_from_proto([q], resource_pb2.IDQuery())
    assert query.labels[0].terms == (LabelTerm("zone", LabelOp.IN, ("a", "b"), True),)
    assert not query.matches("x", LABELS)
    assert query.matches("x", {"zone": "c"})


def test_an_unknown_wire_operator_is_invalid() -> None:
    q = resource_pb2.LabelQuery(terms=[resource_pb2.LabelTerm(key="zone", op=99)])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="unknown operator 99"):
        query_from_proto([q], resource_pb2.IDQuery())
