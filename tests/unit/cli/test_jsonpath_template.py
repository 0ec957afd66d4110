"""kubectl-style JSONPath templates for `talosctl get -o jsonpath=...`."""

import click
import pytest

from talos.talosctl.jsonpath_template import JsonPathTemplate, OutputFormat

DOC = {"node": "10.5.0.2", "metadata": {"id": "hostname", "version": 3},
       "spec": {"hostname": "cp-1", "addresses": ["10.5.0.2/24", "fd00::2/64"],
                "nested": {"a": True}}}


@pytest.mark.parametrize(("template", "expected"), [
    ("{.spec.hostname}", "cp-1"),
    ("{.node}: {.metadata.version}", "10.5.0.2: 3"),
    ("{.spec.addresses[*]}", "10.5.0.2/24 fd00::2/64"),
    ("{.spec.addresses[1]}", "fd00::2/64"),
    ("{.spec.nested}", '{"a": true}'),
    ("{.spec.nested.a}", "true"),
    ("{.spec.missing}", ""),
    ("{.spec.hostname}\\n", "cp-1\n"),
])
def test_render(template: str, expected: str) -> None:
    assert JsonPathTemplate.parse(template).render(DOC) == expected


@pytest.mark.parametrize(("value", "message"), [
    ("jsonpath", "jsonpath needs a template"),
    ("jsonpath=", "jsonpath template is empty"),
    ("jsonpath=plain", "has no {expression}"),
    ("jsonpath={range .items[*]}", "range/end blocks are not supported"),
    ("jsonpath={.spec[}", "invalid jsonpath"),
    ("xml", "'xml' is not one of 'table', 'json', 'yaml', 'jsonpath=<template>'"),
])
def test_bad_values_name_the_problem(value: str, message: str) -> None:
    with pytest.raises(click.BadParameter) as e:
        OutputFormat().convert(value, None, None)
    assert message in e.value.format_message()


def test_plain_formats_pass_through() -> None:
    assert [OutputFormat().convert(v, None, None) for v in ("table", "json", "yaml")] == [
        "table", "json", "yaml"]
