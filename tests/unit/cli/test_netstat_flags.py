"""`talosctl netstat` flags build the request Talos's talosctl builds for them."""

from __future__ import annotations

import pytest

from talos.api.machine import machine_pb2 as m
from talos.talosctl.netstat import netstat_request

FLAGS = dict.fromkeys(("all_", "listening", "programs", "pods", "tcp", "udp", "udplite",
                       "raw", "verbose", "ipv4", "ipv6"), False)
PROTOS = ("tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "raw", "raw6")


def _protos(**flags: bool) -> set[str]:
    req = netstat_request(**{**FLAGS, **flags})
    return {p for p in PROTOS if getattr(req.l4proto, p)}


@pytest.mark.parametrize(("flags", "expected"), [
    ({}, {"tcp", "tcp6", "udp", "udp6"}),
    ({"tcp": True}, {"tcp", "tcp6"}),
    ({"udplite": True}, {"udplite", "udplite6"}),
    ({"raw": True, "ipv4": True}, {"raw"}),
    ({"udp": True, "ipv6": True}, {"udp6"}),
    ({"ipv4": True, "ipv6": True}, {"tcp", "tcp6", "udp", "udp6"}),
    ({"verbose": True}, set(PROTOS)),
    ({"verbose": True, "ipv6": True}, {p for p in PROTOS if p.endswith("6")}),
])
def test_protocol_flags(flags: dict[str, bool], expected: set[str]) -> None:
    assert _protos(**flags) == expected


def test_filter_pid_and_namespaces() -> None:
    req = netstat_request(**FLAGS)
    assert req.filter == m.NetstatRequest.CONNECTED
    assert req.netns.hostnetwork and not req.netns.allnetns and not req.feature.pid
    req = netstat_request(**{**FLAGS, "listening": True, "programs": True, "pods": True})
    assert req.filter == m.NetstatRequest.LISTENING
    assert req.feature.pid and req.netns.allnetns and req.netns.hostnetwork
    req = netstat_request(**{**FLAGS, "listening": True, "all_": True})
    assert req.filter == m.NetstatRequest.ALL  # -a wins over -l, as in Talos
