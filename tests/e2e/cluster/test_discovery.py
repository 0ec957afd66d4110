"""A local cluster's nodes find each other through its discovery service: `get members`
lists both nodes, and `talosctl health -n <cp>` (no node flags) checks both."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.cluster.conftest import Cluster

pytestmark = [pytest.mark.e2e, pytest.mark.root]


def _json_docs(text: str) -> list[Any]:
    """Every JSON document in `text` (one per resource, however they are separated)."""
    decoder, docs, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return docs
        doc, i = decoder.raw_decode(text, i)
        docs.append(doc)


def test_members_list_both_nodes_and_health_discovers_them(
        make_cluster: Callable[[str], Cluster]) -> None:
    c = make_cluster("e2e-disc")
    res = c.create()
    assert res.returncode == 0, res.stderr[-3000:]
    record = c.record()
    assert record.discovery_pid
    base = c.cidr.rsplit(".", 1)[0]
    cp, worker = f"{base}.2", f"{base}.3"
    want = {f"{c.name}-controlplane-1": ("controlplane", cp),
            f"{c.name}-worker-1": ("worker", worker)}
    for node in (cp, worker):
        deadline = time.monotonic() + 120
        got: dict[str, tuple[str, str]] = {}
        while time.monotonic() < deadline:
            out = c.talosctl("-n", node, "get", "members", "-o", "json")
            if out.returncode == 0:
                got = {}
                for d in _json_docs(out.stdout):
                    spec = d.get("spec") or {}
                    got[d["metadata"]["id"]] = (spec.get("machineType"),
                                                (spec.get("addresses") or [""])[0])
                if got == want:
                    break
            time.sleep(0.2)
        assert got == want, (node, got)
    table = c.talosctl("-n", cp, "get", "members")
    assert table.returncode == 0 and "HOSTNAME" in table.stdout, table.stderr
    assert f"{c.name}-worker-1" in table.stdout
    affiliates = c.talosctl("-n", worker, "get", "affiliates", "-o", "json")
    assert affiliates.returncode == 0, affiliates.stderr
    assert sorted(d["spec"]["hostname"] for d in _json_docs(affiliates.stdout)) == sorted(want)

    health = c.talosctl("-n", cp, "health", "--wait-timeout", "60s")
    assert health.returncode == 0, health.stderr[-3000:]
    assert "1 control plane(s), 1 worker(s)" in health.stderr
    # no flags at all (and no local cluster under ~/.talos): the endpoint's members
    bare = c.talosctl("health", "--wait-timeout", "60s")
    assert bare.returncode == 0, bare.stderr[-3000:]
    assert "1 control plane(s), 1 worker(s)" in bare.stderr
    server = c.talosctl("-n", cp, "health", "--server", "--wait-timeout", "60s")
    assert server.returncode == 0, server.stderr[-3000:]
    assert "1 control plane(s), 1 worker(s)" in server.stderr

    gone = c.talosctl("cluster", "destroy", "--name", c.name, "--state", str(c.state))
    assert gone.returncode == 0, gone.stderr
    assert c.leftovers() == []
