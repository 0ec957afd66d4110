"""Our RFC 6902 implementation against the RFC's own examples (Appendix A), plus the
pointer escapes of RFC 6901."""

from __future__ import annotations

from typing import Any

import pytest

from talos.machinery.config.json_patch import JSONPatchError, apply

# (document, patch, result) from RFC 6902 Appendix A; None as result: the patch fails
RFC_EXAMPLES: dict[str, tuple[Any, list[dict[str, Any]], Any]] = {
    "A.1 add an object member": (
        {"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}],
        {"baz": "qux", "foo": "bar"}),
    "A.2 add an array element": (
        {"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}],
        {"foo": ["bar", "qux", "baz"]}),
    "A.3 remove an object member": (
        {"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
    "A.4 remove an array element": (
        {"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}],
        {"foo": ["bar", "baz"]}),
    "A.5 replace a value": (
        {"baz": "qux", "foo": "bar"}, [{"op": "replace", "path": "/baz", "value": "boo"}],
        {"baz": "boo", "foo": "bar"}),
    "A.6 move a value": (
        {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
        [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
        {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
    "A.7 move an array element": (
        {"foo": ["all", "grass", "cows", "eat"]},
        [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
        {"foo": ["all", "cows", "eat", "grass"]}),
    "A.8 test a value: success": (
        {"baz": "qux", "foo": ["a", 2, "c"]},
        [{"op": "test", "path": "/baz", "value": "qux"},
         {"op": "test", "path": "/foo/1", "value": 2}],
        {"baz": "qux", "foo": ["a", 2, "c"]}),
    "A.9 test a value: error": (
        {"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}], None),
    "A.10 add a nested member object": (
        {"foo": "bar"}, [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
        {"foo": "bar", "child": {"grandchild": {}}}),
    "A.11 ignore unrecognized elements": (
        {"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}],
        {"foo": "bar", "baz": "qux"}),
    "A.12 add to a nonexistent target": (
        {"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}], None),
    "A.14 ~ escape ordering": (
        {"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}],
        {"/": 9, "~1": 10}),
    "A.15 comparing strings and numbers": (
        {"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": "10"}], None),
    "A.16 add an array value": (
        {"foo": ["bar"]}, [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
        {"foo": ["bar", ["abc", "def"]]}),
}


@pytest.mark.parametrize("name", sorted(RFC_EXAMPLES))
def test_rfc6902_appendix_examples(name: str) -> None:
    doc, patch, result = RFC_EXAMPLES[name]
    if result is None:
        with pytest.raises(JSONPatchError):
            apply(doc, patch)
    else:
        assert apply(doc, patch) == result


def test_copy_and_whole_document_replace() -> None:
    assert apply({"a": {"b": 1}}, [{"op": "copy", "from": "/a", "path": "/c"}]) == {
        "a": {"b": 1}, "c": {"b": 1}}
    assert apply({"a": 1}, [{"op": "replace", "path": "", "value": {"z": 2}}]) == {"z": 2}

