"""The node's containerd hosts.toml directories from machine.registries, against the expected
outputs of upstream v1.13.9's internal/pkg/containers/cri/containerd/hosts_test.go (the cases
that the v1alpha1 config can express), plus this project's deliberate differences: an empty
`[host]` table in a file with only a `server` (containerd 1.6 refuses the file otherwise) and
a plain-HTTP registry that is its own mirror as the `server`."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from talos.machined.server import registry_hosts as rh
from talos.machined.server.registry_hosts import TLS, HostsFile, Mirror
from talos.machinery.config.config import load_config
from talos.machinery.errors import FailedPrecondition, InvalidConfig

BASE = "/etc/cri/conf.d/hosts"
#: what this project adds to upstream's text of a hosts.toml without host entries
EMPTY_HOST = "[host]\n"


def _m(*endpoints: str, override_path: bool = False, skip_fallback: bool = False) -> Mirror:
    return Mirror(endpoints, override_path, skip_fallback)


def _toml(text: str) -> HostsFile:
    return HostsFile("hosts.toml", text.encode())


def test_mirrors_and_tls_of_endpoints_and_of_unmirrored_hosts() -> None:
    # upstream TestGenerateHostsWithTLS
    out = rh.generate(
        {"docker.io": _m("https://registry-1.docker.io", "https://registry-2.docker.io")},
        {"some.host:123": TLS(b"cacert", b"clientcert", b"clientkey", True),
         "registry-2.docker.io": TLS(insecure_skip_verify=True)}, BASE)
    assert out == {
        "docker.io": (_toml(
            "[host]\n  [host.'https://registry-1.docker.io']\n"
            "    capabilities = ['pull', 'resolve']\n"
            "  [host.'https://registry-2.docker.io']\n"
            "    capabilities = ['pull', 'resolve']\n    skip_verify = true\n"),),
        "some.host_123_": (
            HostsFile("some.host:123-ca.crt", b"cacert"),
            HostsFile("some.host:123-client.crt", b"clientcert"),
            HostsFile("some.host:123-client.key", b"clientkey"),
            _toml("server = 'https://some.host:123'\n"
                  "ca = '/etc/cri/conf.d/hosts/some.host_123_/some.host:123-ca.crt'\n"
                  "client = [['/etc/cri/conf.d/hosts/some.host_123_/some.host:123-client.crt',"
                  " '/etc/cri/conf.d/hosts/some.host_123_/some.host:123-client.key']]\n"
                  "skip_verify = true\n" + EMPTY_HOST)),
        "registry-2.docker.io": (_toml(
            "server = 'https://registry-2.docker.io'\nskip_verify = true\n" + EMPTY_HOST),),
    }
    assert all(f.mode == 0o600 for files in out.values() for f in files)


def test_mirrors_without_tls_and_the_wildcard_mirror() -> None:
    # upstream TestGenerateHostsWithoutTLS
    out = rh.generate(
        {"docker.io": _m("https://registry-1.docker.io", "https://registry-2.docker.io"),
         "*": _m("https://my-registry")}, {}, BASE)
    assert out == {
        "docker.io": (_toml(
            "[host]\n  [host.'https://registry-1.docker.io']\n"
            "    capabilities = ['pull', 'resolve']\n"
            "  [host.'https://registry-2.docker.io']\n"
            "    capabilities = ['pull', 'resolve']\n"),),
        "_default": (_toml(
            "[host]\n  [host.'https://my-registry']\n"
            "    capabilities = ['pull', 'resolve']\n"),),
    }


def test_wildcard_tls_without_a_mirror_is_refused() -> None:
    # upstream TestGenerateHostsTLSWildcardWrong
    with pytest.raises(FailedPrecondition,
                       match="wildcard host TLS configuration is not supported"):
        rh.generate({}, {"*": TLS(ca=b"allcert")}, BASE)


def test_tls_of_a_wildcard_mirror_endpoint() -> None:
    # upstream TestGenerateHostsTLSWildcard
    out = rh.generate({"*": _m("https://my-registry1", "https://my-registry2")},
                      {"my-registry1": TLS(ca=b"allcert")}, BASE)
    assert out == {
        "_default": (
            HostsFile("my-registry1-ca.crt", b"allcert"),
            _toml("[host]\n  [host.'https://my-registry1']\n"
                  "    capabilities = ['pull', 'resolve']\n"
                  "    ca = '/etc/cri/conf.d/hosts/_default/my-registry1-ca.crt'\n"
                  "  [host.'https://my-registry2']\n"
                  "    capabilities = ['pull', 'resolve']\n")),
        "my-registry1": (
            HostsFile("my-registry1-ca.crt", b"allcert"),
            _toml("server = 'https://my-registry1'\n"
                  "ca = '/etc/cri/conf.d/hosts/my-registry1/my-registry1-ca.crt'\n"
                  + EMPTY_HOST)),
    }


def test_override_path_endpoints_behind_one_proxy() -> None:
    # upstream TestGenerateHostsWithHarbor
    out = rh.generate(
        {"docker.io": _m("https://harbor/v2/mirrors/proxy.docker.io", override_path=True),
         "ghcr.io": _m("https://harbor/v2/mirrors/proxy.ghcr.io", override_path=True)},
        {"harbor": TLS(insecure_skip_verify=True)}, BASE)
    assert out == {
        "docker.io": (_toml(
            "[host]\n  [host.'https://harbor/v2/mirrors/proxy.docker.io']\n"
            "    capabilities = ['pull', 'resolve']\n    override_path = true\n"
            "    skip_verify = true\n"),),
        "ghcr.io": (_toml(
            "[host]\n  [host.'https://harbor/v2/mirrors/proxy.ghcr.io']\n"
            "    capabilities = ['pull', 'resolve']\n    override_path = true\n"
            "    skip_verify = true\n"),),
        "harbor": (_toml("server = 'https://harbor'\nskip_verify = true\n" + EMPTY_HOST),),
    }


def test_skip_fallback_makes_the_last_endpoint_the_server() -> None:
    # upstream TestGenerateHostsSkipFallback
    out = rh.generate(
        {"docker.io": _m("https://harbor/v2/mirrors/proxy.docker.io",
                         "http://127.0.0.1:5001/v2/", override_path=True, skip_fallback=True),
         "ghcr.io": _m("http://127.0.0.1:5002", skip_fallback=True)}, {}, BASE)
    assert out == {
        "docker.io": (_toml(
            "server = 'http://127.0.0.1:5001/v2/'\ncapabilities = ['pull', 'resolve']\n"
            "override_path = true\n"
            "[host]\n  [host.'https://harbor/v2/mirrors/proxy.docker.io']\n"
            "    capabilities = ['pull', 'resolve']\n    override_path = true\n"),),
        "ghcr.io": (_toml(
            "server = 'http://127.0.0.1:5002'\ncapabilities = ['pull', 'resolve']\n"
            + EMPTY_HOST),),
    }


def test_a_plain_http_registry_that_is_its_own_mirror_is_the_server() -> None:
    # this project's addition: no fallback to https://10.5.0.1:5000, whose TLS error would
    # hide the registry's own answer; a bare trailing slash is dropped (containerd 1.6
    # would ask //v2/)
    out = rh.generate({"10.5.0.1:5000": _m("http://10.5.0.1:5000/")}, {}, BASE)
    assert out == {"10.5.0.1_5000_": (_toml(
        "server = 'http://10.5.0.1:5000'\n"
        "[host]\n  [host.'http://10.5.0.1:5000']\n    capabilities = ['pull', 'resolve']\n"),)}


def test_host_directories_are_named_as_containerd_looks_them_up() -> None:
    assert rh.host_directory("some.host:123") == "some.host_123_"
    assert rh.host_directory("[::1]:5000") == "[::1]_5000_"
    assert rh.host_directory("*") == "_default"
    assert rh.host_directory("ghcr.io") == "ghcr.io"


def test_strings_that_cannot_be_literal_are_escaped() -> None:
    out = rh.generate({"r.io": _m("https://it's.example")}, {}, BASE)
    assert out["r.io"][0].contents.decode() == (
        "[host]\n  [host.\"https://it's.example\"]\n    capabilities = ['pull', 'resolve']\n")


def _config(registries: str) -> object:
    return load_config(("version: v1alpha1\nmachine:\n  type: worker\n  registries:\n"
                        + registries + "cluster:\n  clusterName: t\n").encode())


def test_the_machine_config_fields_are_read_and_decoded() -> None:
    b64 = lambda s: base64.b64encode(s).decode()  # noqa: E731
    cfg = _config(
        "    mirrors:\n      docker.io:\n        endpoints: [https://m.example:5000]\n"
        "        overridePath: true\n        skipFallback: true\n"
        "    config:\n      m.example:5000:\n        tls:\n"
        f"          ca: {b64(b'CA PEM')}\n          insecureSkipVerify: true\n"
        f"          clientIdentity:\n            crt: {b64(b'CRT')}\n"
        f"            key: {b64(b'KEY')}\n"
        "        auth:\n          username: u\n          password: p\n")
    mirrors, tls = rh.from_config(cfg)
    assert mirrors == {"docker.io": Mirror(("https://m.example:5000",), True, True)}
    assert tls == {"m.example:5000": TLS(b"CA PEM", b"CRT", b"KEY", True)}
    assert "KEY" not in repr(tls)


def test_a_client_key_that_is_not_base64_is_refused_at_load_naming_the_field_not_the_value(
        ) -> None:
    # as upstream's Base64Bytes: the config does not load (so it is never applied)
    with pytest.raises(InvalidConfig) as err:
        _config("    config:\n      r.example:\n        tls:\n          clientIdentity:\n"
                "            crt: Q1JU\n            key: not*base64*secret\n")
    assert [str(p) for p in err.value.problems] == [
        'machine.registries.config["r.example"].tls.clientIdentity.key: not valid base64 '
        "(expected a base64-encoded PEM block)"]
    assert "secret" not in str(err.value)


def test_files_are_written_mode_0600_and_replace_the_old_ones(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    (hosts / "stale").mkdir(parents=True)
    out = rh.generate({}, {"r.example:5000": TLS(b"CA", b"CRT", b"KEY")}, str(hosts))
    rh.write(str(hosts), out)
    d = hosts / "r.example_5000_"
    assert sorted(os.listdir(hosts)) == ["r.example_5000_"]
    assert sorted(os.listdir(d)) == ["hosts.toml", "r.example:5000-ca.crt",
                                     "r.example:5000-client.crt", "r.example:5000-client.key"]
    assert (d / "r.example:5000-client.key").read_bytes() == b"KEY"
    assert {stat.S_IMODE((d / n).stat().st_mode) for n in os.listdir(d)} == {0o600}
    assert f"ca = '{d}/r.example:5000-ca.crt'" in (d / "hosts.toml").read_text()


def _documents(docs: str) -> object:
    return load_config(("version: v1alpha1\nmachine:\n  type: worker\n"
                        "cluster:\n  clusterName: t\n" + docs).encode())


def test_the_registry_documents_give_what_the_equivalent_machine_registries_give() -> None:
    # upstream v1.13.9: RegistryMirrorConfig / RegistryTLSConfig (PEM text, `cert`) are the
    # documents' form of machine.registries.mirrors / .config.<host>.tls (base64, `crt`)
    b64 = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731
    ca, crt, key = "CA PEM", "CRT PEM", "KEY PEM"
    legacy = _config(
        "    mirrors:\n      docker.io:\n"
        "        endpoints: [https://m.example:5000, http://h.example/v2/d/]\n"
        "        overridePath: true\n        skipFallback: true\n"
        "      '*':\n        endpoints: [https://all.example]\n"
        "    config:\n      m.example:5000:\n        tls:\n"
        f"          ca: {b64(ca)}\n          insecureSkipVerify: true\n"
        f"          clientIdentity:\n            crt: {b64(crt)}\n            key: {b64(key)}\n"
        f"      other.example:\n        tls:\n          ca: {b64(ca)}\n")
    documents = _documents(
        "---\napiVersion: v1alpha1\nkind: RegistryMirrorConfig\nname: docker.io\n"
        "skipFallback: true\nendpoints:\n  - url: https://m.example:5000\n"
        "    overridePath: true\n  - url: http://h.example/v2/d/\n    overridePath: true\n"
        "---\napiVersion: v1alpha1\nkind: RegistryMirrorConfig\nname: '*'\n"
        "endpoints:\n  - url: https://all.example\n"
        "---\napiVersion: v1alpha1\nkind: RegistryTLSConfig\nname: m.example:5000\n"
        f"ca: {ca}\ninsecureSkipVerify: true\nclientIdentity:\n  cert: {crt}\n  key: {key}\n"
        "---\napiVersion: v1alpha1\nkind: RegistryTLSConfig\nname: other.example\n"
        f"ca: {ca}\n")
    assert rh.from_config(documents) == rh.from_config(legacy)
    _, tls = rh.from_config(documents)
    assert tls["m.example:5000"] == TLS(b"CA PEM", b"CRT PEM", b"KEY PEM", True)
    assert rh.generate(*rh.from_config(documents), BASE) == \
        rh.generate(*rh.from_config(legacy), BASE)


def test_a_mirror_document_sets_override_path_per_endpoint() -> None:
    mirrors, _ = rh.from_config(_documents(
        "---\napiVersion: v1alpha1\nkind: RegistryMirrorConfig\nname: registry.k8s.io\n"
        "endpoints:\n  - url: https://a.example\n"
        "  - url: http://h.example/v2/registry-k8s.io/\n    overridePath: true\n"))
    out = rh.generate(mirrors, {}, BASE)
    assert out["registry.k8s.io"][0].contents.decode() == (
        "[host]\n  [host.'https://a.example']\n    capabilities = ['pull', 'resolve']\n"
        "  [host.'http://h.example/v2/registry-k8s.io/']\n"
        "    capabilities = ['pull', 'resolve']\n    override_path = true\n")
    assert rh.endpoints(mirrors, "registry.k8s.io") == [
        rh.Endpoint("https://a.example"),
        rh.Endpoint("http://h.example/v2/registry-k8s.io/", True),
        rh.Endpoint("https://registry.k8s.io")]


def test_a_document_replaces_the_machine_registries_mirror_of_its_name() -> None:
    cfg = load_config(
        "version: v1alpha1\nmachine:\n  type: worker\n  registries:\n    mirrors:\n"
        "      docker.io:\n        endpoints: [https://old.example]\n"
        "      ghcr.io:\n        endpoints: [https://g.example]\n"
        "cluster:\n  clusterName: t\n"
        "---\napiVersion: v1alpha1\nkind: RegistryMirrorConfig\nname: docker.io\n"
        "endpoints:\n  - url: https://new.example\n")
    mirrors, _ = rh.from_config(cfg)
    assert mirrors == {"docker.io": _m("https://new.example"),
                       "ghcr.io": _m("https://g.example")}
