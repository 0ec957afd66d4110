"""The shared `-o table|json|yaml` rendering (talos.talosctl.formats) over real API messages."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from talos.api.common import common_pb2
from talos.api.machine import machine_pb2 as m
from talos.talosctl.formats import emit, message_doc, output_option, render
from talos.talosctl.main import cli


def _service_list(hostname: str) -> m.ServiceList:
    return m.ServiceList(
        metadata=common_pb2.Metadata(hostname=hostname),
        services=[m.ServiceInfo(id="etcd", state="Running",
                                health=m.ServiceHealth(healthy=True,
                                                       last_message="ok\nsecond line"))])


def test_message_doc_is_protojson_with_the_node_first_and_no_metadata() -> None:
    doc = message_doc("10.0.0.1", _service_list("10.0.0.1"))
    assert list(doc) == ["node", "services"]
    assert doc["services"][0] == {"id": "etcd", "state": "Running",
                                  "health": {"healthy": True,
                                             "lastMessage": "ok\nsecond line"}}


def test_protojson_conventions_int64_as_string_enums_by_name() -> None:
    msg = m.EtcdMemberAlarm(member_id=2**63 + 5, alarm=m.EtcdMemberAlarm.NOSPACE)
    assert message_doc("n", msg) == {"node": "n", "memberId": str(2**63 + 5),
                                     "alarm": "NOSPACE"}


def test_json_and_yaml_round_trip_every_node() -> None:
    docs = [message_doc(n, _service_list(n)) for n in ("a", "b")]
    text = render(docs, "json")
    decoder, pos, back = json.JSONDecoder(), 0, []
    while pos < len(text.rstrip()):
        doc, pos = decoder.raw_decode(text, pos)
        back.append(doc)
        while pos < len(text) and text[pos].isspace():
            pos += 1
    assert back == docs
    assert list(YAML(typ="safe", pure=True).load_all(render(docs, "yaml"))) == docs


def test_table_prints_nothing_and_lets_the_command_print_its_table(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert emit([("a", _service_list("a"))], "table") is False
    assert capsys.readouterr().out == ""
    assert emit([("a", _service_list("a"))], "yaml") is True
    assert capsys.readouterr().out.startswith("node: a\n")


def test_render_refuses_an_unknown_format() -> None:
    with pytest.raises(click.UsageError, match="table, json, yaml"):
        render([], "xml")


def test_option_rejects_unknown_values_before_connecting() -> None:
    @click.command()
    @output_option
    def cmd(output: str) -> None:
        click.echo(output)

    assert CliRunner().invoke(cmd, []).output == "table\n"
    assert CliRunner().invoke(cmd, ["--output", "yaml"]).output == "yaml\n"
    for argv in (["services", "-o", "xml"], ["etcd", "status", "-o", "wide"],
                 ["disks", "-o", "JSON"]):
        r = CliRunner().invoke(cli, argv, env={"TALOSCONFIG": "/nonexistent"})
        assert r.exit_code == 2, (argv, r.output)
        assert "is not one of 'table', 'json', 'yaml'" in r.output
