"""`-o table|json|yaml` on the inspect commands, against the three real nodes."""

from __future__ import annotations

import json
from typing import Any

from ruamel.yaml import YAML

from tests.e2e.talosctl.conftest import HOSTS, E2ECluster

ALL = ",".join(HOSTS)


def json_stream(text: str) -> list[dict[str, Any]]:
    """The JSON objects printed one after another (indented, as -o json prints them)."""
    decoder = json.JSONDecoder()
    docs, pos = [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos == len(text):
            return docs
        doc, pos = decoder.raw_decode(text, pos)
        docs.append(doc)


def test_services_json_has_one_object_per_node(e2e: E2ECluster) -> None:
    r = e2e.run("-n", ALL, "services", "-o", "json")
    assert r.returncode == 0, r.stderr
    docs = json_stream(r.stdout)
    assert sorted(d["node"] for d in docs) == sorted(HOSTS)
    for d in docs:
        assert "metadata" not in d
        ids = {svc["id"] for svc in d["services"]}
        assert "machined" in ids or "apid" in ids, ids
        for svc in d["services"]:
            assert isinstance(svc["state"], str)


def test_service_status_yaml_names_the_service(e2e: E2ECluster) -> None:
    table = e2e.run("services")
    assert table.returncode == 0, table.stderr
    service_id = table.stdout.splitlines()[1].split()[1]
    r = e2e.run("service", service_id, "-o", "yaml")
    assert r.returncode == 0, r.stderr
    docs = list(YAML(typ="safe", pure=True).load_all(r.stdout))
    assert len(docs) == 1
    assert docs[0]["node"] == HOSTS[0]
    assert docs[0]["id"] == service_id
    assert "state" in docs[0]


def test_memory_mounts_time_processes_as_json(e2e: E2ECluster) -> None:
    r = e2e.run("-n", ALL, "memory", "-o", "json")
    assert r.returncode == 0, r.stderr
    docs = json_stream(r.stdout)
    assert sorted(d["node"] for d in docs) == sorted(HOSTS)
    assert all(int(d["meminfo"]["memtotal"]) > 0 for d in docs)

    r = e2e.run("mounts", "-o", "json")
    assert r.returncode == 0, r.stderr
    (doc,) = json_stream(r.stdout)
    assert any(st["mountedOn"] == "/" for st in doc["stats"]), doc

    r = e2e.run("time", "-o", "yaml")
    assert r.returncode == 0, r.stderr
    (doc,) = YAML(typ="safe", pure=True).load_all(r.stdout)
    assert doc["node"] == HOSTS[0] and doc["localtime"]

    r = e2e.run("processes", "-o", "json")
    assert r.returncode == 0, r.stderr
    (doc,) = json_stream(r.stdout)
    assert all(isinstance(p["pid"], int) for p in doc["processes"])


def test_table_stays_the_default(e2e: E2ECluster) -> None:
    r = e2e.run("memory")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:2] == ["NODE", "TOTAL"]


def test_unknown_output_is_a_usage_error_listing_the_formats(e2e: E2ECluster) -> None:
    for argv in (("services", "-o", "xml"), ("etcd", "members", "-o", "jsonpath"),
                 ("memory", "--output=wide")):
        r = e2e.run(*argv)
        assert r.returncode == 2, (argv, r.stdout, r.stderr)
        assert "'table', 'json', 'yaml'" in r.stderr, r.stderr
        assert r.stdout == ""


def test_service_without_an_id_lists_all_services(e2e: E2ECluster) -> None:
    listed = e2e.run("services")
    r = e2e.run("service")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == listed.stdout.splitlines()[0]
    ids = {ln.split()[1] for ln in r.stdout.splitlines()[1:]}
    assert ids == {ln.split()[1] for ln in listed.stdout.splitlines()[1:]}
    assert "machined" in ids
    r = e2e.run("service", "-o", "json")
    assert r.returncode == 0, r.stderr
    (doc,) = json_stream(r.stdout)
    assert {svc["id"] for svc in doc["services"]} == ids


def test_a_failing_node_is_reported_once_in_every_format(e2e: E2ECluster) -> None:
    gone = "127.0.0.9"  # nothing listens there: apid cannot reach it
    for fmt in ("table", "json"):
        r = e2e.run("-n", f"{HOSTS[0]},{gone}", "services", "-o", fmt)
        assert r.returncode == 1
        assert r.stderr.startswith(f"Error: {gone}: "), r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        if fmt == "json":
            assert [d["node"] for d in json_stream(r.stdout)] == [HOSTS[0]]
        else:
            assert {ln.split()[0] for ln in r.stdout.splitlines()[1:]} == {HOSTS[0]}
