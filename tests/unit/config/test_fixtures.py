"""Configs taken from the public Talos docs: each fixture names its source page and what the
docs say about it (`# expect: load | load-error <problem> | valid <mode> | invalid <problem> |
warning <warning>`).
Every fixture must load, round-trip (same lines, in order), and validate as expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from talos.machinery.config import load_config
from talos.machinery.errors import InvalidConfig

FIXTURES = Path(__file__).parent / "fixtures" / "configs"
CASES = sorted(FIXTURES.glob("*.yaml"))


def _header(text: str, key: str) -> str:
    for line in text.splitlines():
        if line.startswith(f"# {key}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"fixture has no '# {key}:' line")


def _lines(text: str) -> list[str]:
    """Content lines without indentation or list dashes (a comment after `- ` may move)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        while line.startswith("- ") or line == "-":
            line = line[2:].strip()
        if line:
            out.append(line)
    return out


def test_enough_fixtures() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_fixture(path: Path) -> None:
    text = path.read_text()
    assert "talos.dev" in _header(text, "source")
    expect = _header(text, "expect")
    verb, _, arg = expect.partition(" ")
    if verb == "load-error":
        with pytest.raises(InvalidConfig) as e:
            load_config(text, source=path.name)
        assert arg in [str(p) for p in e.value.problems]
        return
    cfg = load_config(text, source=path.name)
    dumped = cfg.dump()
    # comments, key order, quoting and values survive; only indentation may be normalized
    # (the docs nest lists inconsistently, ruamel writes one indentation per file)
    assert _lines(dumped) == _lines(text)
    assert load_config(dumped).dump() == dumped
    if verb == "load":
        return
    if verb == "valid":
        assert cfg.validate(arg) == []
    elif verb == "warning":
        assert cfg.validate("container") == [arg]
        with pytest.raises(InvalidConfig) as strict:
            cfg.validate("container", strict=True)
        assert [str(p) for p in strict.value.problems] == [
            arg.replace(": ", ": warning: ", 1)]
    elif verb == "invalid":
        with pytest.raises(InvalidConfig) as e:
            cfg.validate("container")
        assert arg in [str(p) for p in e.value.problems]
    else:
        raise AssertionError(f"unknown expectation {expect!r}")
