"""Property tests: random and mutated input to the bundle and talosconfig loaders fails only
with a clear, located config error (InvalidConfig / InvalidArgument), never anything else."""

from __future__ import annotations

import copy
import io
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from talos.machinery.client.talosconfig import Context, Talosconfig
from talos.machinery.errors import InvalidArgument
from talos.machinery.secrets import SecretsBundle

from .test_secrets_bundle import upstream_bundle_yaml

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=20))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)

BUNDLE = YAML(typ="safe").load(upstream_bundle_yaml())
TALOSCONFIG = Talosconfig(context="a", contexts={
    "a": Context(endpoints=("1.2.3.4",), nodes=("1.2.3.5",), ca="Y2E=", crt="Y3J0",
                 key="a2V5")}).to_dict()


def dump(data: Any) -> str:
    buf = io.StringIO()
    YAML(typ="safe").dump(data, buf)
    return buf.getvalue()


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out += paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += paths(v, (*prefix, i))
    return out


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        candidates = [p for p in paths(doc) if p]
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(values)
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200), values.map(dump), mutated(BUNDLE).map(dump)))
def test_bundle_loader_fails_only_with_config_errors(text: str) -> None:
    try:
        SecretsBundle.from_yaml(text, source="fuzz.yaml")
    except InvalidArgument as e:  # InvalidConfig is an InvalidArgument
        assert str(e)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=200), values.map(dump), mutated(TALOSCONFIG).map(dump)))
def test_talosconfig_loader_fails_only_with_config_errors(text: str) -> None:
    try:
        cfg = Talosconfig.from_yaml(text, source="fuzz")
    except InvalidArgument as e:
        assert str(e)
        return
    # whatever loads, dumps and loads back to the same thing
    assert Talosconfig.from_yaml(cfg.to_yaml()) == cfg
