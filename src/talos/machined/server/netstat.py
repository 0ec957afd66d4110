"""Netstat: the node's sockets from /proc/net (as Talos's netstat API returns them).

machined runs in the node's network namespace, so `/proc/self/net/<proto>` is the node's
socket table. Named network namespaces (Talos keeps pods' in `/var/run/netns`) are read by
a short-lived thread that joins the namespace with setns(2) (only that thread changes
namespace; it ends right after reading). Everything here blocks: callers run it in a thread.

Filters follow Talos: LISTENING is "no remote endpoint" (remote address unspecified and
remote port 0, which includes unconnected UDP and raw sockets), CONNECTED is "remote address
and port set", ALL is everything.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import ipaddress
import os
import struct
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from talos.api.machine import machine_pb2 as m
from talos.machinery.errors import FailedPrecondition, InvalidArgument, NotFound

#: /proc/net table names, in the order of NetstatRequest.L4proto's fields
PROTOCOLS = ("tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "raw", "raw6")
CLONE_NEWNET = 0x40000000
NETNS_DIR = "/var/run/netns"  # node path


@dataclass(frozen=True)
class Query:
    protocols: tuple[str, ...]
    filter: int
    pid: bool
    hostnetwork: bool
    netns: tuple[str, ...]
    allnetns: bool

    @classmethod
    def from_request(cls, req: m.NetstatRequest) -> Query:
        if req.filter not in m.NetstatRequest.Filter.values():
            raise InvalidArgument(f"filter: unknown value {req.filter} (expected ALL, "
                                  "CONNECTED or LISTENING)")
        protos = tuple(p for p in PROTOCOLS if getattr(req.l4proto, p))
        for name in req.netns.netns:
            if not name or "/" in name or name in (".", ".."):
                raise InvalidArgument(f"netns.netns: {name!r} is not a network namespace "
                                      f"name (a file name under {NETNS_DIR})")
        return cls(protocols=protos, filter=req.filter, pid=req.feature.pid,
                   hostnetwork=req.netns.hostnetwork, netns=tuple(req.netns.netns),
                   allnetns=req.netns.allnetns)


# -- parsing /proc/net/<proto> ----------------------------------------------------------------

def _ip(hexaddr: str) -> str:
    """Kernel hex (host-order 32-bit words) -> text, IPv4-mapped IPv6 shown as IPv4 (as Go)."""
    raw = b"".join(struct.pack("=I", int(hexaddr[i:i + 8], 16))
                   for i in range(0, len(hexaddr), 8))
    addr = ipaddress.ip_address(raw)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped)
    return str(addr)


def _endpoint(text: str) -> tuple[str, int]:
    host, _, port = text.partition(":")
    return _ip(host), int(port, 16)


def parse_table(text: str, proto: str, netns: str = "") -> list[m.ConnectRecord]:
    """One /proc/net/{tcp,udp,raw}[6] file -> records (the header line is skipped)."""
    out = []
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) < 10:
            continue
        local_ip, local_port = _endpoint(f[1])
        remote_ip, remote_port = _endpoint(f[2])
        tx, _, rx = f[4].partition(":")
        tr, _, when = f[5].partition(":")
        state, timer = int(f[3], 16), int(tr, 16)
        rec = m.ConnectRecord(
            l4proto=proto, localip=local_ip, localport=local_port, remoteip=remote_ip,
            remoteport=remote_port, txqueue=int(tx, 16), rxqueue=int(rx, 16),
            timerwhen=int(when, 16), retrnsmt=int(f[6], 16), uid=int(f[7]),
            timeout=int(f[8]), inode=int(f[9]), netns=netns)
        if state in m.ConnectRecord.State.values():
            rec.state = state  # type: ignore[assignment]
        if timer in m.ConnectRecord.TimerActive.values():
            rec.tr = timer  # type: ignore[assignment]
        if len(f) > 11:
            rec.ref = int(f[10])
            rec.pointer = int(f[11], 16)
        out.append(rec)
    return out


def accepted(rec: m.ConnectRecord, flt: int) -> bool:
    no_remote = ipaddress.ip_address(rec.remoteip).is_unspecified and rec.remoteport == 0
    if flt == m.NetstatRequest.LISTENING:
        return no_remote
    if flt == m.NetstatRequest.CONNECTED:
        return (not ipaddress.ip_address(rec.remoteip).is_unspecified
                and rec.remoteport != 0)
    return True


def read_tables(net_dir: str, protocols: Iterable[str], netns: str = ""
                ) -> list[m.ConnectRecord]:
    out: list[m.ConnectRecord] = []
    for proto in protocols:
        try:
            with open(os.path.join(net_dir, proto), encoding="ascii") as f:
                text = f.read()
        except FileNotFoundError:
            continue  # e.g. no IPv6 or no UDP-Lite in this kernel: nothing of that kind
        out.extend(parse_table(text, proto, netns))
    return out


# -- sockets -> processes ---------------------------------------------------------------------

def socket_owners(proc: str = "/proc") -> dict[int, tuple[int, str]]:
    """inode -> (pid, command name) for every socket some process holds open."""
    owners: dict[int, tuple[int, str]] = {}
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        fd_dir = os.path.join(proc, entry, "fd")
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue  # gone, or not ours to read
        inodes = []
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.append(int(target[8:-1]))
        if not inodes:
            continue
        try:
            with open(os.path.join(proc, entry, "comm"), encoding="utf-8",
                      errors="replace") as f:
                name = f.read().rstrip("\n")
        except OSError:
            name = ""
        for inode in inodes:
            owners.setdefault(inode, (int(entry), name))
    return owners


# -- network namespaces -----------------------------------------------------------------------

def _in_netns(ns_file: str, fn: Callable[[str], list[m.ConnectRecord]]
              ) -> list[m.ConnectRecord]:
    """Run `fn("/proc/thread-self/net")` on a fresh thread that joined `ns_file`'s netns."""
    result: concurrent.futures.Future[list[m.ConnectRecord]] = concurrent.futures.Future()

    def work() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(ns_file, os.O_RDONLY | os.O_CLOEXEC)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise FailedPrecondition(f"netns: cannot enter {ns_file}: "
                                             f"{os.strerror(err)}")
            finally:
                os.close(fd)
            result.set_result(fn("/proc/thread-self/net"))
        except BaseException as exc:  # handed to the caller
            result.set_exception(exc)

    t = threading.Thread(target=work, name="netstat-netns", daemon=True)
    t.start()
    t.join()
    return result.result()


def netstat(q: Query, netns_dir: str, proc: str = "/proc") -> list[m.ConnectRecord]:
    records: list[m.ConnectRecord] = []
    if q.hostnetwork:
        records += read_tables(os.path.join(proc, "self", "net"), q.protocols)
    names: list[str] = list(q.netns)
    if q.allnetns:
        try:
            names += sorted(n for n in os.listdir(netns_dir) if n not in names)
        except FileNotFoundError:
            pass  # no named network namespaces on this node
    for name in names:
        path = os.path.join(netns_dir, name)
        if not os.path.exists(path):
            raise NotFound(f"netns.netns: no network namespace named {name!r} on this node "
                           f"(looked in {NETNS_DIR})")

        def read(net_dir: str, ns: str = name) -> list[m.ConnectRecord]:
            return read_tables(net_dir, q.protocols, ns)

        records += _in_netns(path, read)
    records = [r for r in records if accepted(r, q.filter)]
    if q.pid:
        owners = socket_owners(proc)
        for r in records:
            owner = owners.get(r.inode)
            if owner is not None and r.inode:
                r.process.pid, r.process.name = owner
    return records
