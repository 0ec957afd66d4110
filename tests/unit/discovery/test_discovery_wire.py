"""Field numbers and types of the discovery protos, transcribed by hand from
siderolabs/discovery-api (api/v1alpha1/server/cluster.proto 5b0c5e78, client/affiliate.proto
5e3db3c1): a stock discovery client or service must understand ours."""

from __future__ import annotations

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from talos.api.discovery.client import affiliate_pb2
from talos.api.discovery.server import cluster_pb2

T = FieldDescriptor
GOLDEN: dict[str, list[tuple[int, str, int, bool]]] = {
    # message: (number, name, type, repeated)
    "sidero.discovery.server.Affiliate": [
        (1, "id", T.TYPE_STRING, False), (2, "data", T.TYPE_BYTES, False),
        (3, "endpoints", T.TYPE_BYTES, True)],
    "sidero.discovery.server.HelloRequest": [
        (1, "cluster_id", T.TYPE_STRING, False), (2, "client_version", T.TYPE_STRING, False)],
    "sidero.discovery.server.HelloResponse": [
        (1, "redirect", T.TYPE_MESSAGE, False), (2, "client_ip", T.TYPE_BYTES, False)],
    "sidero.discovery.server.RedirectMessage": [(1, "endpoint", T.TYPE_STRING, False)],
    "sidero.discovery.server.AffiliateUpdateRequest": [
        (1, "cluster_id", T.TYPE_STRING, False), (2, "affiliate_id", T.TYPE_STRING, False),
        (3, "affiliate_data", T.TYPE_BYTES, False),
        (4, "affiliate_endpoints", T.TYPE_BYTES, True), (5, "ttl", T.TYPE_MESSAGE, False)],
    "sidero.discovery.server.AffiliateDeleteRequest": [
        (1, "cluster_id", T.TYPE_STRING, False), (2, "affiliate_id", T.TYPE_STRING, False)],
    "sidero.discovery.server.ListRequest": [(1, "cluster_id", T.TYPE_STRING, False)],
    "sidero.discovery.server.ListResponse": [(1, "affiliates", T.TYPE_MESSAGE, True)],
    "sidero.discovery.server.WatchRequest": [(1, "cluster_id", T.TYPE_STRING, False)],
    "sidero.discovery.server.WatchResponse": [
        (1, "affiliates", T.TYPE_MESSAGE, True), (2, "deleted", T.TYPE_BOOL, False)],
    "sidero.discovery.client.Affiliate": [
        (1, "node_id", T.TYPE_STRING, False), (2, "addresses", T.TYPE_BYTES, True),
        (3, "hostname", T.TYPE_STRING, False), (4, "nodename", T.TYPE_STRING, False),
        (5, "machine_type", T.TYPE_STRING, False),
        (6, "operating_system", T.TYPE_STRING, False),
        (7, "kubespan", T.TYPE_MESSAGE, False), (8, "control_plane", T.TYPE_MESSAGE, False)],
    "sidero.discovery.client.KubeSpan": [
        (1, "public_key", T.TYPE_STRING, False), (2, "address", T.TYPE_BYTES, False),
        (3, "additional_addresses", T.TYPE_MESSAGE, True)],
    "sidero.discovery.client.IPPrefix": [
        (1, "ip", T.TYPE_BYTES, False), (2, "bits", T.TYPE_UINT32, False)],
    "sidero.discovery.client.Endpoint": [
        (1, "ip", T.TYPE_BYTES, False), (2, "port", T.TYPE_UINT32, False)],
    "sidero.discovery.client.ControlPlane": [(1, "api_server_port", T.TYPE_UINT32, False)],
}


def _messages() -> dict[str, Descriptor]:
    out: dict[str, Descriptor] = {}
    for fd in (cluster_pb2.DESCRIPTOR, affiliate_pb2.DESCRIPTOR):
        for m in fd.message_types_by_name.values():
            out[m.full_name] = m
    return out


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_message_fields_match_upstream(name: str) -> None:
    m = _messages()[name]
    got = [(f.number, f.name, f.type, f.is_repeated) for f in m.fields]
    assert sorted(got) == sorted(GOLDEN[name])


def test_service_methods_match_upstream() -> None:
    svc = cluster_pb2.DESCRIPTOR.services_by_name["Cluster"]
    assert svc.full_name == "sidero.discovery.server.Cluster"
    methods = {m.name: (m.input_type.name, m.output_type.name, m.server_streaming)
               for m in svc.methods}
    assert methods == {
        "Hello": ("HelloRequest", "HelloResponse", False),
        "AffiliateUpdate": ("AffiliateUpdateRequest", "AffiliateUpdateResponse", False),
        "AffiliateDelete": ("AffiliateDeleteRequest", "AffiliateDeleteResponse", False),
        "List": ("ListRequest", "ListResponse", False),
        "Watch": ("WatchRequest", "WatchResponse", True),
    }
