"""`talosctl etcd members|status|snapshot|remove-member|leave|forfeit-leadership`
(`etcd downgrade ...` lives in talos.talosctl.etcd_downgrade)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import subprocess
from typing import Any

import click

from talos.machinery.atomic import fsync_dir
from talos.talosctl.etcd_downgrade import downgrade
from talos.talosctl.formats import emit, output_option
from talos.talosctl.rpc import check_errors, run_machine


def humanize_bytes(n: int) -> str:
    """go-humanize's Bytes (SI): `20 kB`, `1.2 MB`."""
    if n < 10:
        return f"{n} B"
    sizes = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
    e = math.floor(math.log(n, 1000))
    val = math.floor(n / 1000 ** e * 10 + 0.5) / 10
    return f"{val:.1f} {sizes[e]}" if val < 10 else f"{val:.0f} {sizes[e]}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        lines.append("   ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())
    return "\n".join(lines)


def _node(msg: Any) -> str:
    return str(msg.metadata.hostname)


def _emit(reply: Any, output: str) -> bool:
    """-o json|yaml: the replies without a per-node error (those fail the command)."""
    return emit(((_node(msg), msg) for msg in reply.messages if not msg.metadata.error),
                output)


@click.group()
def etcd() -> None:
    """Manage etcd."""


@etcd.command()
@output_option
@click.pass_context
def members(ctx: click.Context, output: str) -> None:
    """Get the list of etcd cluster members."""
    from talos.api.machine import machine_pb2 as m

    reply = run_machine(ctx, lambda s, md: s.EtcdMemberList(m.EtcdMemberListRequest(),
                                                            metadata=md))
    if _emit(reply, output):
        check_errors(reply.messages, "getting etcd members")
        return
    rows = []
    for msg in reply.messages:
        for mem in msg.members:
            rows.append([_node(msg), f"{mem.id:016x}", mem.hostname, ",".join(mem.peer_urls),
                         ",".join(mem.client_urls), str(mem.is_learner).lower()])
    click.echo(_table(["NODE", "ID", "HOSTNAME", "PEER URLS", "CLIENT URLS", "LEARNER"],
                      rows))
    check_errors(reply.messages, "getting etcd members")


@etcd.command()
@output_option
@click.pass_context
def status(ctx: click.Context, output: str) -> None:
    """Get the status of etcd cluster member(s)."""
    from google.protobuf import empty_pb2

    reply = run_machine(ctx, lambda s, md: s.EtcdStatus(empty_pb2.Empty(), metadata=md))
    if _emit(reply, output):
        check_errors(reply.messages, "getting etcd status")
        return
    rows = []
    for msg in reply.messages:
        if msg.metadata.error:
            continue
        st = msg.member_status
        ratio = (st.db_size_in_use / st.db_size * 100) if st.db_size else 0.0
        rows.append([_node(msg), f"{st.member_id:016x}", humanize_bytes(st.db_size),
                     f"{humanize_bytes(st.db_size_in_use)} ({ratio:.2f}%)",
                     f"{st.leader:016x}", str(st.raft_index), str(st.raft_term),
                     str(st.raft_applied_index), str(st.is_learner).lower(),
                     ",".join(st.errors)])
    click.echo(_table(["NODE", "MEMBER", "DB SIZE", "IN USE", "LEADER", "RAFT INDEX",
                       "RAFT TERM", "RAFT APPLIED INDEX", "LEARNER", "ERRORS"], rows))
    check_errors(reply.messages, "getting etcd status")


def snapshot_info(path: str) -> dict[str, Any] | None:
    """hash, revision, totalKey, totalSize of a snapshot file (through `etcdctl snapshot
    status`, which reads the bbolt file); None without etcdctl."""
    etcdctl = shutil.which("etcdctl")
    if etcdctl is None:
        return None
    res = subprocess.run([etcdctl, "snapshot", "status", path, "-w", "json"],
                         capture_output=True, text=True, check=False, timeout=60,
                         env={**os.environ, "ETCDCTL_API": "3"})
    if res.returncode != 0:
        raise click.ClickException(f"snapshot {path!r} is not a valid etcd snapshot: "
                                   f"{res.stderr.strip() or res.stdout.strip()}")
    info: dict[str, Any] = json.loads(res.stdout)
    return info



@etcd.command()
@click.argument("path")
@click.pass_context
def snapshot(ctx: click.Context, path: str) -> None:
    """Stream snapshot of the etcd node to the path."""
    from talos.api.machine import machine_pb2 as m

    # as upstream: streamed into PATH.part, fsynced, renamed over PATH; the database holds
    # every secret of the cluster, so the file is 0600 from the moment it exists (a stale
    # .part of an earlier run is removed first: O_TRUNC would keep its mode)
    part = path + ".part"

    async def call(stub: Any, md: Any) -> int:
        size = 0
        with contextlib.suppress(FileNotFoundError):
            os.unlink(part)
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        os.fchmod(fd, 0o600)  # whatever the umask
        with os.fdopen(fd, "wb") as f:
            async for d in stub.EtcdSnapshot(m.EtcdSnapshotRequest(), metadata=md):
                if d.metadata.error:
                    raise click.ClickException(f"{d.metadata.hostname}: {d.metadata.error}")
                f.write(d.bytes)
                size += len(d.bytes)
            f.flush()
            os.fsync(f.fileno())
        return size

    try:
        size = run_machine(ctx, call, single_node=True)
    except BaseException:
        if os.path.exists(part):
            os.unlink(part)
        raise
    os.replace(part, path)
    fsync_dir(os.path.dirname(path) or ".")
    click.echo(f"etcd snapshot saved to {path!r} ({size} bytes)")
    info = snapshot_info(path)
    if info is not None:
        click.echo(f"snapshot info: hash {info['hash']:08x}, revision {info['revision']}, "
                   f"total keys {info['totalKey']}, total size {info['totalSize']}")


@etcd.command("remove-member")
@click.argument("member")
@click.pass_context
def remove_member(ctx: click.Context, member: str) -> None:
    """Remove the node from etcd cluster (by hostname or hexadecimal member ID).

    Use it to remove a member that is down; a running node leaves with `etcd leave`."""
    from talos.api.machine import machine_pb2 as m

    member_id = None
    if len(member) <= 16:
        try:
            member_id = int(member, 16)
        except ValueError:
            member_id = None
    if member_id is not None:
        reply = run_machine(ctx, lambda s, md: s.EtcdRemoveMemberByID(
            m.EtcdRemoveMemberByIDRequest(member_id=member_id), metadata=md))
    else:
        reply = run_machine(ctx, lambda s, md: s.EtcdRemoveMember(
            m.EtcdRemoveMemberRequest(member=member), metadata=md))
    check_errors(reply.messages, "removing etcd member")


@etcd.command()
@click.pass_context
def leave(ctx: click.Context) -> None:
    """Tell nodes to leave etcd cluster."""
    from talos.api.machine import machine_pb2 as m

    reply = run_machine(ctx, lambda s, md: s.EtcdLeaveCluster(m.EtcdLeaveClusterRequest(),
                                                              metadata=md))
    check_errors(reply.messages, "leaving etcd")


@etcd.command("forfeit-leadership")
@click.pass_context
def forfeit_leadership(ctx: click.Context) -> None:
    """Tell node to forfeit etcd cluster leadership."""
    from talos.api.machine import machine_pb2 as m

    reply = run_machine(ctx, lambda s, md: s.EtcdForfeitLeadership(
        m.EtcdForfeitLeadershipRequest(), metadata=md))
    for msg in reply.messages:
        if not msg.metadata.error and msg.member:
            click.echo(f"{_node(msg) or 'node'}: leadership moved to {msg.member}")
    check_errors(reply.messages, "forfeiting etcd leadership")


@etcd.group()
def alarm() -> None:
    """Manage etcd alarms."""


def _print_alarms(reply: Any) -> None:
    from talos.api.machine import machine_pb2 as m

    rows = []
    for msg in reply.messages:
        for a in msg.member_alarms:
            rows.append([_node(msg), f"{a.member_id:016x}",
                         m.EtcdMemberAlarm.AlarmType.Name(a.alarm)])
    click.echo(_table(["NODE", "MEMBER", "ALARM"], rows))


@alarm.command("list")
@output_option
@click.pass_context
def alarm_list(ctx: click.Context, output: str) -> None:
    """List the etcd alarms for the node."""
    from google.protobuf import empty_pb2

    reply = run_machine(ctx, lambda s, md: s.EtcdAlarmList(empty_pb2.Empty(), metadata=md))
    if not _emit(reply, output):
        _print_alarms(reply)
    check_errors(reply.messages, "listing etcd alarms")


@alarm.command("disarm")
@click.pass_context
def alarm_disarm(ctx: click.Context) -> None:
    """Disarm the etcd alarms for the node."""
    from google.protobuf import empty_pb2

    reply = run_machine(ctx, lambda s, md: s.EtcdAlarmDisarm(empty_pb2.Empty(), metadata=md))
    _print_alarms(reply)
    check_errors(reply.messages, "disarming etcd alarms")


@etcd.command()
@click.pass_context
def defrag(ctx: click.Context) -> None:
    """Defragment etcd database on the node (blocks the member while it runs)."""
    from google.protobuf import empty_pb2

    reply = run_machine(ctx, lambda s, md: s.EtcdDefragment(empty_pb2.Empty(), metadata=md))
    check_errors(reply.messages, "defragmenting etcd")


etcd.add_command(downgrade)
