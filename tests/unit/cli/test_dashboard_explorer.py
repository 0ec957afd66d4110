"""The Resources screen's rows (`explorer_model`): the types filter, the resource rows with
their print columns, the watch's listing, the YAML and the error line."""

from __future__ import annotations

import grpc
import grpc.aio
import pytest

from talos.api.v1alpha1 import resource_pb2, state_pb2
from talos.talosctl.dashboard import explorer_model as em
from talos.talosctl.get import Definition

HOSTNAME = Definition("HostnameStatuses.net.talos.dev", "HostnameStatus", "network",
                      ("hostname", "hostnamestatus", "hostnamestatuses"),
                      (("Hostname", "{.hostname}"), ("Domainname", "{.domainname}")),
                      ("hostname",))
SERVICE = Definition("Services.v1alpha1.talos.dev", "Service", "runtime",
                     ("svc", "service", "services"),
                     (("Running", "{.running}"), ("Healthy", "{.healthy}"),
                      ("Unknown", "{.missing.path}")), ("svc",))
MEMBERS = Definition("EtcdMembers.etcd.talos.dev", "EtcdMember", "etcd", (), (), ())


def _resource(rid: str, spec: str, version: str = "3", phase: str = "running",
              owner: str = "network.HostnameStatusController") -> resource_pb2.Resource:
    r = resource_pb2.Resource()
    r.metadata.namespace, r.metadata.type, r.metadata.id = "network", HOSTNAME.type, rid
    r.metadata.version, r.metadata.phase, r.metadata.owner = version, phase, owner
    r.spec.yaml_spec = spec
    return r


def _event(kind: int, r: resource_pb2.Resource | None = None, error: str = ""
           ) -> state_pb2.Event:
    ev = state_pb2.Event(event_type=kind, error=error)
    if r is not None:
        ev.resource.CopyFrom(r)
    return ev


def test_types_are_sorted_and_filtered_by_type_or_any_alias_ignoring_case() -> None:
    defs = em.sorted_types([SERVICE, MEMBERS, HOSTNAME])
    assert [d.type for d in defs] == [MEMBERS.type, HOSTNAME.type, SERVICE.type]
    assert em.filter_types(defs, "") == list(defs)
    assert em.filter_types(defs, "NET.talos") == [HOSTNAME]
    # an alias that is not in the type's name (upstream matches all aliases)
    assert em.filter_types(defs, "svc") == [SERVICE]
    assert em.filter_types(defs, "TALOS.dev") == list(defs)
    assert em.filter_types(defs, "nothing-like-it") == []


def test_type_row_shows_the_listed_aliases_only() -> None:
    assert em.type_row(SERVICE) == ("Services.v1alpha1.talos.dev", "runtime", "svc")
    assert em.type_row(MEMBERS) == ("EtcdMembers.etcd.talos.dev", "etcd", "")


def test_resource_rows_have_id_version_phase_owner_then_the_print_columns() -> None:
    assert em.resource_header(SERVICE) == ("ID", "VERSION", "PHASE", "OWNER", "RUNNING",
                                           "HEALTHY", "UNKNOWN")
    r = _resource("hostname", "hostname: e2e-1\ndomainname: \"\"\n")
    assert em.resource_row(HOSTNAME, r) == ("hostname", "3", "running",
                                            "network.HostnameStatusController", "e2e-1", "")
    svc = _resource("etcd", "id: etcd\nrunning: true\nhealthy: false\n", phase="tearingDown",
                    owner="")
    # booleans as Go prints them; a path that leads nowhere is an empty cell
    assert em.resource_row(SERVICE, svc) == ("etcd", "3", "tearingDown", "", "true",
                                             "false", "")
    assert em.column_values("{not yaml: [", SERVICE.columns) == ("", "", "")
    assert em.column_values("items: [1, 2]\n", [("Items", "{.items}")]) == ("[1,2]",)


def test_listing_is_drawn_from_the_bootstrap_on_and_follows_the_events() -> None:
    listing = em.Listing()
    a, b = _resource("a", "hostname: x\n"), _resource("b", "hostname: y\n")
    assert not listing.apply(_event(state_pb2.CREATED, b))  # not drawn before bootstrap
    assert not listing.apply(_event(state_pb2.CREATED, a))
    assert listing.apply(_event(state_pb2.BOOTSTRAPPED))
    assert listing.ids() == ["a", "b"]
    assert listing.apply(_event(state_pb2.UPDATED, _resource("a", "hostname: z\n", "4")))
    assert listing.resources["a"].metadata.version == "4"
    assert listing.apply(_event(state_pb2.DESTROYED, b))
    assert listing.ids() == ["a"]
    assert not listing.apply(_event(state_pb2.NOOP))
    with pytest.raises(em.WatchFailed, match="the watch broke"):
        listing.apply(_event(state_pb2.ERRORED, error="the watch broke"))


def test_yaml_is_what_get_prints_without_the_node_line() -> None:
    text = em.resource_text(_resource("hostname", "hostname: e2e-1\ndomainname: \"\"\n"))
    assert text.startswith("metadata:\n    namespace: network\n"
                           "    type: HostnameStatuses.net.talos.dev\n    id: hostname\n"
                           "    version: 3\n    owner: network.HostnameStatusController\n"
                           "    phase: running\n"), text
    assert text.endswith("spec:\n    hostname: e2e-1\n    domainname: \"\"\n"), text
    assert "node:" not in text
    assert em.yaml_title(_resource("hostname", "")) == "network / hostname (Esc: back)"
    assert em.list_title(HOSTNAME) == ("HostnameStatus (ns: network) \u2014 "
                                       "Enter: view YAML, Esc: back")


def test_errors_read_as_one_line_and_a_refusal_as_upstreams_explanation() -> None:
    def rpc(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
        return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(),
                                    details=details)

    denied = rpc(grpc.StatusCode.PERMISSION_DENIED, "resources of type 'x' are sensitive")
    assert em.error_text(denied) == em.DENIED
    assert em.error_text(rpc(grpc.StatusCode.UNAVAILABLE, "connection refused")) == (
        "rpc error: code = Unavailable desc = connection refused")
    assert em.error_text(em.WatchFailed("the watch broke")) == "the watch broke"
