"""etcd settings from the machine config, the etcd argv, the admin kubeconfig and its merge."""

from __future__ import annotations

import io
import ipaddress

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from ruamel.yaml import YAML

from talos.machined.etcd.manager import EtcdManager
from talos.machined.etcd.settings import EtcdSettings, pick_address, settings_from_config
from talos.machined.paths import NodePaths
from talos.machinery import kubeconfig as kc
from talos.machinery.config.generate import GenerateOptions, generate
from talos.machinery.errors import InvalidArgument, InvalidConfig
from talos.machinery.pki import CertificateAuthority, verify_issued_by
from talos.talosctl.etcd import humanize_bytes

LO = [(ipaddress.ip_address("127.0.0.1"), ipaddress.ip_network("127.0.0.0/8")),
      (ipaddress.ip_address("10.5.0.3"), ipaddress.ip_network("10.5.0.0/24")),
      (ipaddress.ip_address("fd00::3"), ipaddress.ip_network("fd00::/64"))]


def test_advertised_address_follows_subnet_filters() -> None:
    assert pick_address([], LO) == "10.5.0.3"
    assert pick_address(["10.0.0.0/8"], LO) == "10.5.0.3"
    assert pick_address(["fd00::/8"], LO) == "fd00::3"
    assert pick_address(["127.1.2.3/32"], LO) == "127.1.2.3"  # a loopback alias of its own
    assert pick_address(["192.168.0.0/16"], LO) is None
    assert pick_address(["10.0.0.0/8", "!10.5.0.3/32"], LO) is None


def _config(patch: str = "") -> bytes:
    cfg = generate(GenerateOptions(cluster_name="unit", endpoint="https://10.5.0.2:6443"))
    yaml = YAML()
    docs = list(yaml.load_all(cfg.controlplane))
    if patch:
        for k, v in YAML(typ="safe").load(patch).items():
            docs[0]["cluster"]["etcd"][k] = v
    out = io.StringIO()
    yaml.dump_all(docs, out)
    return out.getvalue().encode()


def test_settings_from_generated_config() -> None:
    s = settings_from_config(_config("advertisedSubnets: ['127.9.9.9/32']\n"
                                     "extraArgs: {election-timeout: '5000'}"), "cp-1")
    assert (s.name, s.address, s.join_peers) == ("cp-1", "127.9.9.9", ("10.5.0.2",))
    assert s.peer_url == "https://127.9.9.9:2380"
    assert s.extra_args == (("election-timeout", "5000"),)
    assert s.cluster_token == "unit"


def test_managed_flags_and_bad_subnets_are_config_errors() -> None:
    with pytest.raises(InvalidConfig) as e:
        settings_from_config(_config("advertisedSubnets: ['198.51.100.0/24']\n"
                                     "extraArgs: {data-dir: /tmp/x}"), "cp-1")
    paths = {p.path for p in e.value.problems}
    assert paths == {"cluster.etcd.extraArgs.data-dir", "cluster.etcd.advertisedSubnets"}


def test_etcd_argv_has_mutual_tls_and_extra_args(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ca = CertificateAuthority.generate()
    s = EtcdSettings(name="cp-1", address="127.3.3.3", ca=ca.to_pem(),
                     extra_args=(("heartbeat-interval", "200"),))
    mgr = EtcdManager(NodePaths(str(tmp_path)), supervisor=None,  # type: ignore[arg-type]
                      control_plane=True, settings=s)
    argv = mgr.args([("cp-1", s.peer_url)], "new")
    flags = dict(a[2:].split("=", 1) for a in argv[1:])
    assert flags["client-cert-auth"] == flags["peer-client-cert-auth"] == "true"
    assert flags["initial-cluster"] == "cp-1=https://127.3.3.3:2380"
    assert flags["listen-client-urls"] == "https://127.3.3.3:2379"
    assert flags["heartbeat-interval"] == "200"
    assert flags["data-dir"].endswith("/var/lib/etcd")


def test_admin_kubeconfig_is_signed_by_the_kubernetes_ca() -> None:
    ca = CertificateAuthority.generate()
    data = kc.admin_kubeconfig(ca.to_pem(), cluster_name="demo",
                               endpoint="https://10.5.0.2:6443")
    doc = YAML(typ="safe").load(data)
    assert doc["current-context"] == "admin@demo"
    assert doc["clusters"][0]["cluster"]["server"] == "https://10.5.0.2:6443"
    import base64
    cert = x509.load_pem_x509_certificate(
        base64.b64decode(doc["users"][0]["user"]["client-certificate-data"]))
    verify_issued_by(cert, ca.cert)
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value \
        == "system:masters"
    assert kc.from_tar_gz(kc.tar_gz(data)) == data


def test_merge_renames_a_clashing_context_unless_forced() -> None:
    ca = CertificateAuthority.generate()
    new = kc.load(kc.admin_kubeconfig(ca.to_pem(), cluster_name="demo",
                                      endpoint="https://h:6443"), source="new")
    merged, name = kc.merge({}, new)
    assert name == "admin@demo"
    again, name2 = kc.merge(merged, new)
    assert name2 == "admin@demo-1" and len(again["contexts"]) == 2
    forced, name3 = kc.merge(merged, new, force=True)
    assert name3 == "admin@demo" and len(forced["contexts"]) == 1
    custom, name4 = kc.merge(merged, new, context_name="mine")
    assert name4 == "mine" and custom["current-context"] == "mine"


def test_go_durations_and_sizes() -> None:
    assert kc.parse_go_duration("87600h0m0s").days == 3650
    with pytest.raises(InvalidArgument, match="certLifetime"):
        kc.parse_go_duration("1 year")
    assert humanize_bytes(5) == "5 B"
    assert humanize_bytes(20480) == "20 kB"
    assert humanize_bytes(1_234_567) == "1.2 MB"
