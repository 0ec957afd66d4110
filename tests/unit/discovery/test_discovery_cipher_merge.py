"""Affiliate sealing (AES-GCM keyed by cluster.secret), merging, the discovery config, and the
discovery service's TTL/watch state."""

from __future__ import annotations

import base64

import pytest

from talos.api.discovery.client import affiliate_pb2
from talos.discovery.state import DiscoveryState
from talos.machined.controllers.cluster.cipher import (
    NONCE_SIZE,
    DecryptError,
    decrypt_affiliate,
    encrypt_affiliate,
    key_from_secret,
)
from talos.machined.controllers.cluster.config import discovery_config_spec
from talos.machined.controllers.cluster.merge import merge
from talos.machined.controllers.cluster.node_identity import load_or_create
from talos.machinery.errors import InvalidArgument
from talos.machinery.resources.cluster import AffiliateSpec, ControlPlaneSpec

SECRET = base64.b64encode(b"s" * 32).decode()
SPEC = AffiliateSpec(node_id="n1", addresses=("10.5.0.2", "fd00::2"), hostname="cp-1",
                     nodename="cp-1", operating_system="Talos (v1)",
                     machine_type="controlplane", control_plane=ControlPlaneSpec(6443))


def test_sealed_affiliate_round_trips_and_hides_the_data() -> None:
    key = key_from_secret(SECRET)
    data = encrypt_affiliate(key, SPEC)
    assert b"cp-1" not in data
    assert data != encrypt_affiliate(key, SPEC)  # a fresh nonce each time
    assert decrypt_affiliate(key, data) == SPEC


def test_sealed_data_is_nonce_then_gcm_of_the_upstream_message() -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = key_from_secret(SECRET)
    data = encrypt_affiliate(key, SPEC)
    plain = AESGCM(key).decrypt(data[:NONCE_SIZE], data[NONCE_SIZE:], None)
    msg = affiliate_pb2.Affiliate.FromString(plain)
    assert (msg.node_id, msg.hostname, msg.machine_type) == ("n1", "cp-1", "controlplane")
    assert msg.addresses[0] == bytes([10, 5, 0, 2]) and len(msg.addresses[1]) == 16
    assert msg.control_plane.api_server_port == 6443


def test_another_clusters_key_or_tampering_is_refused() -> None:
    data = encrypt_affiliate(key_from_secret(SECRET), SPEC)
    other = key_from_secret(base64.b64encode(b"o" * 32).decode())
    with pytest.raises(DecryptError):
        decrypt_affiliate(other, data)
    with pytest.raises(DecryptError):
        decrypt_affiliate(key_from_secret(SECRET), data[:-1] + bytes([data[-1] ^ 1]))


def test_a_secret_that_is_not_an_aes_key_is_named() -> None:
    with pytest.raises(InvalidArgument, match=r"cluster\.secret"):
        key_from_secret("not base64!")
    with pytest.raises(InvalidArgument, match="5 bytes"):
        key_from_secret(base64.b64encode(b"short").decode())


def test_merge_unions_addresses_and_keeps_known_fields() -> None:
    a = AffiliateSpec(node_id="n", addresses=("10.0.0.1",), hostname="h", machine_type="worker")
    b = AffiliateSpec(node_id="n", addresses=("10.0.0.2", "10.0.0.1"), nodename="h",
                      machine_type="unknown")
    c = AffiliateSpec(node_id="", hostname="lost")
    merged = merge([a, b, c])
    assert list(merged) == ["n"]
    assert merged["n"] == AffiliateSpec(node_id="n", addresses=("10.0.0.1", "10.0.0.2"),
                                        hostname="h", nodename="h", machine_type="worker")


def test_discovery_config_from_the_machine_config() -> None:
    tree = {"cluster": {"id": "cid", "secret": SECRET, "discovery": {
        "enabled": True, "registries": {"kubernetes": {"disabled": True},
                                        "service": {"endpoint": "http://10.5.0.1:3000"}}}}}
    spec = discovery_config_spec(tree)
    assert spec is not None
    assert (spec.registry_service_enabled, spec.service_endpoint,
            spec.service_endpoint_insecure, spec.service_cluster_id) == (
        True, "10.5.0.1:3000", True, "cid")
    assert spec.service_encryption_key == b"s" * 32 and not spec.registry_kubernetes_enabled
    tree["cluster"]["discovery"]["registries"]["service"] = {"endpoint": "https://d.example"}
    assert discovery_config_spec(tree).service_endpoint == "d.example:443"  # type: ignore[union-attr]
    tree["cluster"]["discovery"]["registries"]["service"] = {"disabled": True}
    assert not discovery_config_spec(tree).registry_service_enabled  # type: ignore[union-attr]
    tree["cluster"]["discovery"]["enabled"] = False
    assert not discovery_config_spec(tree).discovery_enabled  # type: ignore[union-attr]
    assert discovery_config_spec({}) is None


def test_node_identity_is_made_once_and_kept(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = load_or_create(str(tmp_path))
    assert len(first) == 43
    assert load_or_create(str(tmp_path)) == first
    (tmp_path / "node-identity.yaml").unlink()
    assert load_or_create(str(tmp_path)) != first


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


async def test_service_state_expires_affiliates_and_tells_watchers() -> None:
    clock = FakeClock()
    st = DiscoveryState(now=clock)
    st.update("c", "a", b"data-a", [], ttl=10)
    with st.watch("c") as (snapshot, queue):
        assert [a.id for a in snapshot] == ["a"]
        st.update("c", "b", b"data-b", [b"e1"], ttl=60)
        change = queue.get_nowait()
        assert (change.affiliate.id, change.affiliate.data, change.deleted) == ("b", b"data-b",
                                                                                 False)
        st.update("c", "b", None, [b"e2"], ttl=60)  # data kept, endpoints merged
        change = queue.get_nowait()
        assert change.affiliate.data == b"data-b"
        assert set(change.affiliate.endpoints) == {b"e1", b"e2"}
        clock.t += 11
        assert st.expire() == 1
        change = queue.get_nowait()
        assert (change.affiliate.id, change.deleted) == ("a", True)
        st.delete("c", "b")
        assert queue.get_nowait().deleted
    assert st.affiliates("c") == []
    assert st.affiliates("other") == []


def test_service_state_refuses_bad_requests() -> None:
    st = DiscoveryState()
    with pytest.raises(InvalidArgument, match="cluster_id"):
        st.update("", "a", b"", [], ttl=1)
    with pytest.raises(InvalidArgument, match="affiliate_id"):
        st.update("c", "", b"", [], ttl=1)
    with pytest.raises(InvalidArgument, match="ttl"):
        st.update("c", "a", b"", [], ttl=0)
    with pytest.raises(InvalidArgument, match="affiliate_data"):
        st.update("c", "a", b"x" * 5000, [], ttl=1)


def test_health_takes_roles_from_members() -> None:
    from talos.machinery.client.health import cluster_info_from_members

    info = cluster_info_from_members([
        {"hostname": "w-1", "machineType": "worker", "addresses": ["10.5.0.3"]},
        {"hostname": "cp-1", "machineType": "controlplane", "addresses": ["10.5.0.2", "fd::2"]},
        {"hostname": "init", "machineType": "init", "addresses": ["10.5.0.4"]},
        {"hostname": "nowhere", "machineType": "worker", "addresses": []},
        None,
    ])
    assert info.controlplanes == ("10.5.0.2", "10.5.0.4")
    assert info.workers == ("10.5.0.3",)
