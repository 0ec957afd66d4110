"""Property tests: random and mutated YAML/configs/patches never escape as anything but
InvalidConfig (with a located problem), and valid configs round-trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from talos.machinery.config import apply_patches, load_config
from talos.machinery.config.yamlio import parse_all, to_plain
from talos.machinery.errors import InvalidConfig

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "configs").glob("*.yaml"))
TEXTS = [p.read_text() for p in FIXTURES]
KEYS = ["machine", "cluster", "network", "interfaces", "type", "install", "disk", "hostname",
        "addresses", "kind", "apiVersion", "name", "version", "$patch", "vlans", "vlanId",
        "interface", "podSubnets", "controlPlane", "endpoint", "op", "path", "value"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000),
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from(["worker", "controlplane", "10.5.0", "10.0.0.1/24",
                                     "delete", "v1alpha1", "https://1.2.3.4:6443", "", "x"]),
                    st.text(max_size=8))
trees = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4),
    st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), children,
                    max_size=4)), max_leaves=25)

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _check_error(e: InvalidConfig) -> None:
    assert e.problems, "an InvalidConfig names at least one problem"
    for p in e.problems:
        assert p.message


def _load(text: str) -> None:
    try:
        cfg = load_config(text, source="fuzz")
    except InvalidConfig as e:
        _check_error(e)
        return
    try:
        cfg.validate("metal")
    except InvalidConfig as e:
        _check_error(e)
    dumped = cfg.dump()
    again = load_config(dumped)
    assert [to_plain(d.raw) for d in again.documents] == [to_plain(d.raw)
                                                          for d in cfg.documents]
    cfg.redacted()


@SETTINGS
@given(st.text(max_size=200))
def test_random_text(text: str) -> None:
    _load(text)


@SETTINGS
@given(trees)
def test_random_structures(tree: Any) -> None:
    _load(json.dumps(tree))


def _mutate(text: str, data: st.DataObject) -> str:
    lines = text.splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["drop", "dup", "indent", "chars", "value"]))
        if action == "drop":
            del lines[i]
        elif action == "dup":
            lines.insert(i, lines[i])
        elif action == "indent":
            lines[i] = " " * data.draw(st.integers(0, 3)) + lines[i]
        elif action == "chars":
            pos = data.draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:pos] + data.draw(st.text(max_size=3)) + lines[i][pos:]
        else:
            key = lines[i].split(":", 1)[0]
            lines[i] = f"{key}: {json.dumps(data.draw(scalars))}"
        if not lines:
            lines = [""]
    return "\n".join(lines) + "\n"


@SETTINGS
@given(st.sampled_from(TEXTS), st.data())
def test_mutated_doc_configs(text: str, data: st.DataObject) -> None:
    _load(_mutate(text, data))


@SETTINGS
@given(st.sampled_from(TEXTS), trees)
def test_random_patches(text: str, patch: Any) -> None:
    for source in (json.dumps(patch), json.dumps([patch]), json.dumps(
            [{"op": "add", "path": "/machine/x", "value": patch}])):
        try:
            result = apply_patches(text, [source], sources=["p"])
        except InvalidConfig as e:
            _check_error(e)
            continue
        docs, _ = parse_all(result, source="r")
        assert load_config(result).dump() == result
        del docs


@SETTINGS
@given(st.sampled_from(TEXTS), st.sampled_from(TEXTS), st.data())
def test_configs_as_patches(text: str, patch: str, data: st.DataObject) -> None:
    try:
        apply_patches(text, [_mutate(patch, data)], sources=["p"])
    except InvalidConfig as e:
        _check_error(e)
