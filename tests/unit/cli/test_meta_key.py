"""`talosctl meta` keys parse as Go's strconv.ParseUint(s, 0, 8), with its errors."""

from __future__ import annotations

import click
import pytest

from talos.talosctl.meta import parse_key


@pytest.mark.parametrize(("text", "key"), [
    ("10", 10), ("0x0a", 10), ("0X0A", 10), ("012", 10), ("0o12", 10), ("0b1010", 10),
    ("0", 0), ("255", 255), ("0xff", 255), ("1_0", 10)])
def test_keys_parse_as_go_does(text: str, key: int) -> None:
    assert parse_key(text) == key


@pytest.mark.parametrize(("text", "error"), [
    ("256", "value out of range"), ("0x100", "value out of range"), ("08", "invalid syntax"),
    ("-1", "invalid syntax"), ("ten", "invalid syntax"), ("", "invalid syntax"),
    ("0x", "invalid syntax"), ("_1", "invalid syntax")])
def test_bad_keys_are_named(text: str, error: str) -> None:
    with pytest.raises(click.ClickException, match=error):
        parse_key(text)
