"""`talosctl netstat` (alias `ss`): the node's sockets, with Talos's flags and columns.

Default: connected TCP and UDP sockets (v4 and v6). `-l` listening, `-a` all; `-t -u -U -w`
pick protocols (`-v` all of them); `-4`/`-6` one family; `-x` adds Uid and Inode, `-p` the
owning process, `-o` the timers, `-k` also reads the pods' network namespaces (Pod column).
"""

from __future__ import annotations

from typing import Any

import click

from talos.talosctl.nodeapi import Session, call, echo_table, unimplemented_aware

_FAMILIES = ("tcp", "udp", "udplite", "raw")


def netstat_request(*, all_: bool, listening: bool, programs: bool, pods: bool, tcp: bool,
                    udp: bool, udplite: bool, raw: bool, verbose: bool, ipv4: bool,
                    ipv6: bool) -> Any:
    """The NetstatRequest for the flags, as Talos's talosctl builds it."""
    from talos.api.machine import machine_pb2 as m

    chosen = {"tcp": tcp, "udp": udp, "udplite": udplite, "raw": raw}
    if verbose:
        chosen = dict.fromkeys(_FAMILIES, True)
    if not any(chosen.values()):
        chosen["tcp"] = chosen["udp"] = True
    v4 = not (ipv6 and not ipv4)
    v6 = not (ipv4 and not ipv6)
    l4 = m.NetstatRequest.L4proto()
    for fam, on in chosen.items():
        setattr(l4, fam, on and v4)
        setattr(l4, fam + "6", on and v6)
    flt = (m.NetstatRequest.ALL if all_ else m.NetstatRequest.LISTENING if listening
           else m.NetstatRequest.CONNECTED)
    return m.NetstatRequest(filter=flt, l4proto=l4,
                            feature=m.NetstatRequest.Feature(pid=programs),
                            netns=m.NetstatRequest.NetNS(hostnetwork=True, allnetns=pods))


@click.command()
@click.option("-a", "--all", "all_", is_flag=True,
              help="display all sockets states (default: connected)")
@click.option("-x", "--extend", is_flag=True, help="show detailed socket information")
@click.option("-4", "--ipv4", is_flag=True, help="display only ipv4 sockets")
@click.option("-6", "--ipv6", is_flag=True, help="display only ipv6 sockets")
@click.option("-l", "--listening", is_flag=True, help="display listening server sockets")
@click.option("-k", "--pods", is_flag=True, help="show sockets used by Kubernetes pods")
@click.option("-p", "--programs", is_flag=True, help="show process using socket")
@click.option("-w", "--raw", is_flag=True, help="display only RAW sockets")
@click.option("-t", "--tcp", is_flag=True, help="display only TCP sockets")
@click.option("-o", "--timers", is_flag=True, help="display timers")
@click.option("-u", "--udp", is_flag=True, help="display only UDP sockets")
@click.option("-U", "--udplite", is_flag=True, help="display only UDPLite sockets")
@click.option("-v", "--verbose", is_flag=True,
              help="display sockets of all supported transport protocols")
@click.pass_context
def netstat(ctx: click.Context, all_: bool, extend: bool, ipv4: bool, ipv6: bool,
            listening: bool, pods: bool, programs: bool, raw: bool, tcp: bool, timers: bool,
            udp: bool, udplite: bool, verbose: bool) -> None:
    """Show network connections and sockets."""
    from talos.api.machine import machine_pb2 as m
    req = netstat_request(all_=all_, listening=listening, programs=programs, pods=pods,
                          tcp=tcp, udp=udp, udplite=udplite, raw=raw, verbose=verbose,
                          ipv4=ipv4, ipv6=ipv6)

    async def run(s: Session) -> None:
        reply = await unimplemented_aware(
            s, s.machine().Netstat(req, metadata=s.md), "netstat",
            "the node does not serve socket listings (Netstat)")
        header = ["NODE", "Proto", "Recv-Q", "Send-Q", "Local Address", "Foreign Address",
                  "State"]
        header += ["Uid", "Inode"] if extend else []
        header += ["PID/Program name"] if programs else []
        header += ["Pod"] if pods else []
        header += ["Timer"] if timers else []
        rows: list[tuple[str, ...]] = [tuple(header)]
        for msg in s.ok(reply.messages):
            for r in msg.connectrecord:
                # CLOSE (7) is what UDP and raw sockets report: Talos leaves the cell empty
                state = "" if r.state == m.ConnectRecord.CLOSE else \
                    m.ConnectRecord.State.Name(r.state)
                row = [s.node_of(msg), r.l4proto, str(r.rxqueue), str(r.txqueue),
                       f"{r.localip}:{r.localport}",
                       f"{r.remoteip}:{r.remoteport or '*'}", state]
                if extend:
                    row += [str(r.uid), str(r.inode)]
                if programs:
                    row.append(f"{r.process.pid}/{r.process.name}" if r.process.pid else "-")
                if pods:
                    # pods are named by their network namespace (no CRI pods here)
                    row.append(r.netns or "-")
                if timers:
                    timer = m.ConnectRecord.TimerActive.Name(r.tr).lower()
                    row.append(f"{timer} ({r.timerwhen / 100:.2f}/{r.retrnsmt}/{r.timeout})")
                rows.append(tuple(row))
        echo_table(rows)
        s.raise_errors()

    call(ctx, run)
