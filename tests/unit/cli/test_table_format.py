"""talosctl tables: one row is one line, whatever a cell holds."""

from talos.talosctl.nodeapi import format_table


def test_columns_are_padded_like_go_tabwriter() -> None:
    text = format_table([("NODE", "PID"), ("10.5.0.2", "1")])
    assert text == "NODE       PID\n10.5.0.2   1\n"


def test_line_breaks_inside_a_cell_are_escaped() -> None:
    text = format_table([("PID", "COMMAND"), ("7", "python -c 'import os\nos.fork()'\tx")])
    lines = text.splitlines()
    assert len(lines) == 2
    assert lines[1].split(maxsplit=1) == ["7", "python -c 'import os\\nos.fork()'\\tx"]


def test_a_node_error_seen_twice_is_reported_once() -> None:
    import pytest

    from talos.api.machine import machine_pb2
    from talos.talosctl.nodeapi import NodeErrors, Session

    reply = machine_pb2.ServiceListResponse(messages=[
        machine_pb2.ServiceList(metadata={"hostname": "10.5.0.3", "error": "unavailable"}),
        machine_pb2.ServiceList(metadata={"hostname": "10.5.0.2"})])
    s = Session(conn=None, nodes=["10.5.0.2", "10.5.0.3"])
    assert [m.metadata.hostname for m in s.ok(reply.messages)] == ["10.5.0.2"]
    assert len(s.ok(reply.messages)) == 1
    with pytest.raises(NodeErrors) as err:
        s.raise_errors()
    assert str(err.value) == "10.5.0.3: unavailable"


def test_a_route_hint_is_added_only_where_the_node_was_not_reached() -> None:
    from talos.api.machine import machine_pb2
    from talos.talosctl.nodeapi import Session

    unreachable = "rpc error: lookup node-x on 10.255.255.53:53: no such host"
    pull = ("pull docker.io/library/x:1: dial tcp: lookup registry-1.docker.io on "
            "10.255.255.53:53: i/o timeout")
    reply = machine_pb2.ServiceListResponse(messages=[
        machine_pb2.ServiceList(metadata={"hostname": "node-x", "error": unreachable,
                                          "status": {"code": 14, "message": unreachable}}),
        machine_pb2.ServiceList(metadata={"hostname": "10.5.0.2", "error": pull,
                                          "status": {"code": 9, "message": pull}})])
    s = Session(conn=None, nodes=["node-x", "10.5.0.2"])
    assert s.ok(reply.messages) == []
    assert dict(s.errors) == {
        "node-x": f"{unreachable} [the endpoint cannot resolve this node name: use the "
                  "node's IP address with -n]",
        "10.5.0.2": pull}
