"""`talosctl netstat`: network connections of the node (as `ss`/`netstat` print them)."""

from __future__ import annotations

import click

from talos.talosctl.nodeapi import Session, call, echo_table, unimplemented_aware


@click.command()
@click.option("-a", "--all", "all_", is_flag=True, help="display all sockets states "
              "(default: connected)")
@click.option("-l", "--listening", is_flag=True, help="display listening server sockets")
@click.option("-p", "--programs", is_flag=True, help="show process using socket")
@click.option("-t", "--tcp", is_flag=True, help="display only TCP sockets")
@click.option("-u", "--udp", is_flag=True, help="display only UDP sockets")
@click.option("-4", "--ipv4", is_flag=True, help="display only ipv4 sockets")
@click.option("-6", "--ipv6", is_flag=True, help="display only ipv6 sockets")
@click.pass_context
def netstat(ctx: click.Context, all_: bool, listening: bool, programs: bool, tcp: bool,
            udp: bool, ipv4: bool, ipv6: bool) -> None:
    """Show network connections and sockets."""
    from talos.api.machine import machine_pb2 as m
    flt = m.NetstatRequest.ALL if all_ else (m.NetstatRequest.LISTENING if listening
                                             else m.NetstatRequest.CONNECTED)
    l4 = m.NetstatRequest.L4proto(
        tcp=tcp or not udp, tcp6=(tcp or not udp) and not ipv4,
        udp=udp or not tcp, udp6=(udp or not tcp) and not ipv4)
    if ipv6:
        l4.tcp = l4.udp = False
    req = m.NetstatRequest(filter=flt, l4proto=l4,
                           feature=m.NetstatRequest.Feature(pid=programs))

    async def run(s: Session) -> None:
        reply = await unimplemented_aware(
            s, s.machine().Netstat(req, metadata=s.md), "netstat",
            "the node does not serve socket listings (Netstat) yet")
        header = ["NODE", "Proto", "Recv-Q", "Send-Q", "Local Address", "Foreign Address",
                  "State"]
        if programs:
            header.append("PID/Program name")
        rows: list[tuple[str, ...]] = [tuple(header)]
        for msg in s.ok(reply.messages):
            for r in msg.connectrecord:
                row = [s.node_of(msg), r.l4proto, str(r.rxqueue), str(r.txqueue),
                       f"{r.localip}:{r.localport}", f"{r.remoteip}:{r.remoteport}",
                       m.ConnectRecord.State.Name(r.state)]
                if programs:
                    row.append(f"{r.process.pid}/{r.process.name}" if r.process.pid else "-")
                rows.append(tuple(row))
        echo_table(rows)
        s.raise_errors()

    call(ctx, run)
