"""Patch cases from the Talos patching guide: base + patches (in order) -> expected, or the
documented error. Each fixture names its source page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from talos.machinery.config import apply_patches
from talos.machinery.config.yamlio import parse_all, to_plain
from talos.machinery.errors import InvalidConfig

FIXTURES = Path(__file__).parent / "fixtures" / "patches"
CASES = sorted(FIXTURES.glob("*.yaml"))


def _plain_docs(text: str) -> list[Any]:
    docs, _ = parse_all(text, source="t")
    return [to_plain(d) for d in docs if d is not None]


def test_enough_cases() -> None:
    assert len(CASES) >= 10


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_patch_case(path: Path) -> None:
    text = path.read_text()
    assert text.startswith("# source: https://www.talos.dev/")
    case = YAML(typ="safe", pure=True).load(text)
    names = [f"patch{i}" for i in range(len(case["patches"]))]
    if "error" in case:
        with pytest.raises(InvalidConfig) as e:
            apply_patches(case["base"], case["patches"], sources=names)
        assert case["error"] in str(e.value)
        assert e.value.source in names  # the error names the patch that failed
        return
    result = apply_patches(case["base"], case["patches"], sources=names)
    assert _plain_docs(result) == _plain_docs(case["expected"])
    # the result is itself a loadable, stable config
    assert apply_patches(result, []) == result
