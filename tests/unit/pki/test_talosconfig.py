"""The talosconfig model: lookup order, parsing, merge with renames, atomic 0600 save."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from talos.machinery.client.talosconfig import Context, Talosconfig, resolve_path
from talos.machinery.errors import InvalidConfig, NotFound

UPSTREAM = """context: my-cluster
contexts:
    my-cluster:
        endpoints:
            - 10.5.0.2
        nodes:
            - 10.5.0.2
            - 10.5.0.3
        ca: Y2E=
        crt: Y3J0
        key: a2V5
    old:
        target: 1.2.3.4
"""


def test_lookup_order_flag_then_env_then_home(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_path("x.yaml", {"TALOSCONFIG": "env.yaml"}) == Path("x.yaml")
    assert resolve_path(None, {"TALOSCONFIG": "env.yaml"}) == Path("env.yaml")
    assert resolve_path(None, {}) == tmp_path / ".talos" / "config"


def test_upstream_talosconfig_parses_and_upgrades_target() -> None:
    cfg = Talosconfig.from_yaml(UPSTREAM)
    ctx = cfg.get()
    assert ctx.endpoints == ("10.5.0.2",)
    assert ctx.nodes == ("10.5.0.2", "10.5.0.3")
    assert ctx.ca_pem == b"ca" and ctx.client.crt == b"crt" and ctx.client.key == b"key"
    assert cfg.get("old").endpoints == ("1.2.3.4",)


def test_dump_matches_talos_layout() -> None:
    cfg = Talosconfig.from_yaml(UPSTREAM).without_context("old")
    assert cfg.to_yaml() == UPSTREAM.split("    old:")[0]
    empty = Talosconfig(context="a", contexts={"a": Context()})
    assert empty.to_yaml() == "context: a\ncontexts:\n    a:\n        endpoints: []\n"


def test_merge_renames_clashing_contexts_like_talos() -> None:
    base = Talosconfig(context="a", contexts={"a": Context(), "a-1": Context()})
    other = Talosconfig(context="a", contexts={"a": Context(endpoints=("9.9.9.9",)),
                                               "b": Context()})
    merged, renames = base.merge(other)
    assert renames == [("a", "a-2")]
    assert merged.context == "a-2"
    assert set(merged.contexts) == {"a", "a-1", "a-2", "b"}
    assert merged.get("a-2").endpoints == ("9.9.9.9",)


def test_unknown_or_unset_context_is_a_clear_error() -> None:
    with pytest.raises(NotFound, match="no context is set"):
        Talosconfig().get()
    with pytest.raises(NotFound, match="context 'nope' is not defined"):
        Talosconfig.from_yaml(UPSTREAM).use("nope")


def test_bad_fields_are_reported_with_paths() -> None:
    with pytest.raises(InvalidConfig) as e:
        Talosconfig.from_yaml("context: a\ncontexts:\n  a:\n    endpoint: [x]\n    ca: '%%'\n",
                              source="tc")
    assert "contexts.a.endpoint: unknown field" in str(e.value)
    assert "contexts.a.ca: not valid base64" in str(e.value)


def test_save_is_0600_and_missing_file_loads_empty(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config"
    assert Talosconfig.load(path) == Talosconfig()
    with pytest.raises(NotFound):
        Talosconfig.load(path, missing_ok=False)
    cfg = Talosconfig.from_yaml(UPSTREAM)
    cfg.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Talosconfig.load(path) == cfg


def test_upstream_ed25519_talosconfig_loads_but_is_refused_for_grpc() -> None:
    from talos.machinery.errors import FailedPrecondition
    from talos.machinery.pki import CertificateAuthority, IssueOptions

    os_ca = CertificateAuthority.generate(organization="talos", algorithm="ed25519")
    client = os_ca.issue_key_pair(IssueOptions(organizations=("os:admin",)),
                                  algorithm="ed25519")
    upstream = Talosconfig(context="u", contexts={
        "u": Context.from_pems(ca=os_ca.to_pem().crt, client=client)})
    loaded = Talosconfig.from_yaml(upstream.to_yaml())
    with pytest.raises(FailedPrecondition,
                       match=r"context 'u': the OS CA uses Ed25519.*talosctl gen secrets"):
        loaded.get().require_grpc_capable("u")
    ecdsa_ca = CertificateAuthority.generate(organization="talos")
    mixed = Context.from_pems(ca=ecdsa_ca.to_pem().crt, client=client)
    with pytest.raises(FailedPrecondition, match="the client certificate uses Ed25519"):
        mixed.require_grpc_capable()
    good = Context.from_pems(ca=ecdsa_ca.to_pem().crt, client=ecdsa_ca.issue_key_pair(
        IssueOptions(organizations=("os:admin",))))
    good.require_grpc_capable()
