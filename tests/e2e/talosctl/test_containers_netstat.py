"""`talosctl containers`, `stats` and `netstat` against real nodes (machined + apid).

The nodes run in plain mode, so their network namespace is the host's: netstat tables hold
whatever else this machine runs. Every assertion is about sockets or processes this test
(or the fixture) owns, found by address, port or pid; tables are parsed by the header's
column positions, never by splitting on blanks (cells may be empty).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import psutil
import pytest

from talos.api.common import common_pb2
from talos.api.machine import machine_pb2 as m
from talos.api.machine import machine_pb2_grpc
from tests.e2e.talosctl.conftest import HOSTS, E2ECluster
from tests.sockets import tcp_pair

TWO = ",".join(HOSTS[:2])
CONTAINERS = ["NODE", "NAMESPACE", "ID", "IMAGE", "PID", "STATUS"]
STATS = ["NODE", "NAMESPACE", "ID", "MEMORY(MB)", "CPU"]
NETSTAT = ["NODE", "Proto", "Recv-Q", "Send-Q", "Local Address", "Foreign Address", "State"]


def table(out: str, columns: list[str]) -> list[dict[str, str]]:
    """Rows of a talosctl table as dicts, cut at the header's column starts."""
    lines = out.splitlines()
    assert lines, "no output"
    head = lines[0]
    starts = []
    pos = 0
    for col in columns:
        pos = head.index(col, pos)
        starts.append(pos)
        pos += len(col)
    assert head.split() == " ".join(columns).split(), head
    rows = []
    for ln in lines[1:]:
        cells = [ln[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        rows.append(dict(zip(columns, cells, strict=True)))
    return rows


def poll(fn: Callable[[], bool], what: str, attempts: int = 600) -> None:
    """Until `fn()` holds; generous and bounded (checks, not elapsed time)."""
    for _ in range(attempts):
        if fn():
            return
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def _running_services(e2e: E2ECluster, host: str) -> dict[str, dict[str, str]]:
    r = e2e.run("-n", host, "containers")
    assert r.returncode == 0, r.stderr
    return {row["ID"]: row for row in table(r.stdout, CONTAINERS)}


def test_containers_lists_the_node_services_with_their_pids(e2e: E2ECluster) -> None:
    for host in HOSTS[:2]:
        poll(lambda h=host: _running_services(e2e, h).get("containerd", {}).get("STATUS")
             == "RUNNING", f"containerd RUNNING in `containers` of {host}")
    r = e2e.run("-n", TWO, "containers")
    assert r.returncode == 0, r.stderr
    rows = table(r.stdout, CONTAINERS)
    assert {row["NODE"] for row in rows} == set(HOSTS[:2])
    assert all(row["NAMESPACE"] == "system" for row in rows)
    ctrd = {row["NODE"]: row for row in rows if row["ID"] == "containerd"}
    assert set(ctrd) == set(HOSTS[:2])
    pids = set()
    for row in ctrd.values():
        assert row["STATUS"] == "RUNNING"
        pid = int(row["PID"])
        pids.add(pid)
        # the pid is the node's real containerd process (plain mode shares our pid namespace)
        proc = psutil.Process(pid)
        assert proc.exe() == row["IMAGE"]
        assert proc.name() == "containerd"
    assert len(pids) == 2  # one containerd per node
    # skipped services (no process to run) are not containers
    assert "kubelet" not in {row["ID"] for row in rows}
    # rows are sorted by ID within each node
    for host in HOSTS[:2]:
        ids = [row["ID"] for row in rows if row["NODE"] == host]
        assert ids == sorted(ids)


@contextlib.contextmanager
def _ctr_container(sock: str, rootfs: Path, cid: str, *argv: str,
                   namespace: str = "system") -> Iterator[None]:
    """A real runc container started with `ctr` in the node containerd's `namespace`
    (rootfs: symlinks onto a read-only bind of the host's /usr); always removed."""
    (rootfs / "usr").mkdir(parents=True)
    for link in ("bin", "lib", "lib64", "sbin"):
        (rootfs / link).symlink_to(f"usr/{link}")
    ctr = ["ctr", "--address", sock, "-n", namespace]
    try:
        subprocess.run([*ctr, "run", "--detach", "--null-io", "--mount",
                        "type=bind,src=/usr,dst=/usr,options=rbind:ro", "--rootfs",
                        str(rootfs), cid, *argv], check=True, capture_output=True,
                       timeout=120)
        yield
    finally:
        subprocess.run([*ctr, "task", "delete", "--force", cid], capture_output=True,
                       timeout=120, check=False)
        subprocess.run([*ctr, "container", "delete", cid], capture_output=True,
                       timeout=120, check=False)


@pytest.mark.requires("root", "containerd", "ctr", "runc")
def test_a_containerd_container_is_listed_with_its_task(e2e: E2ECluster,
                                                       tmp_path: Path) -> None:
    poll(lambda: _running_services(e2e, HOSTS[0]).get("containerd", {}).get("STATUS")
         == "RUNNING", "containerd RUNNING")
    sock = str(e2e.nodes[HOSTS[0]].root / "var/run/containerd/containerd.sock")
    cid = f"e2e-sleeper-{os.getpid()}"
    with _ctr_container(sock, tmp_path / "rootfs", cid, "/usr/bin/sleep", "3600"):
        row = _running_services(e2e, HOSTS[0])[cid]
        assert row["NAMESPACE"] == "system" and row["STATUS"] == "RUNNING"
        assert psutil.Process(int(row["PID"])).cmdline() == ["/usr/bin/sleep", "3600"]
        # the services are still listed next to it
        assert "containerd" in _running_services(e2e, HOSTS[0])
        r = e2e.run("stats")
        assert r.returncode == 0, r.stderr
        st = {row["ID"]: row for row in table(r.stdout, STATS)}[cid]
        assert float(st["MEMORY(MB)"]) > 0
        # another node's containerd does not have it
        assert cid not in _running_services(e2e, HOSTS[1])
    assert cid not in _running_services(e2e, HOSTS[0])


def test_kubernetes_namespace_is_empty_not_an_error(e2e: E2ECluster) -> None:
    for cmd, columns in (("containers", CONTAINERS), ("stats", STATS)):
        r = e2e.run("-n", TWO, cmd, "-k")
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines()[0].split() == " ".join(columns).split()
        assert table(r.stdout, columns) == []


def test_containerd_down_system_still_lists_services_k8s_says_why(e2e: E2ECluster) -> None:
    host = HOSTS[2]  # the other tests use the first two nodes' containerd
    poll(lambda: _running_services(e2e, host).get("containerd", {}).get("STATUS")
         == "RUNNING", f"containerd RUNNING on {host}")
    r = e2e.run("-n", host, "service", "containerd", "stop")
    assert r.returncode == 0, r.stderr
    try:
        row = _running_services(e2e, host)["containerd"]
        assert (row["STATUS"], row["PID"]) == ("STOPPED", "0")
        r = e2e.run("-n", host, "stats")
        assert r.returncode == 0, r.stderr
        assert "containerd" not in {row["ID"] for row in table(r.stdout, STATS)}
        r = e2e.run("-n", host, "containers", "-k")
        assert r.returncode == 1
        assert r.stderr.startswith("Error: ")
        # "not running" (socket gone), or containerd's refusal if a stale socket remained
        assert f"{host}: containerd " in r.stderr, r.stderr
    finally:
        r = e2e.run("-n", host, "service", "containerd", "start")
        assert r.returncode == 0, r.stderr
        poll(lambda: _running_services(e2e, host).get("containerd", {}).get("STATUS")
             == "RUNNING", f"containerd RUNNING again on {host}")


def test_stats_report_memory_and_cpu_of_running_services(e2e: E2ECluster) -> None:
    poll(lambda: _running_services(e2e, HOSTS[0]).get("containerd", {}).get("STATUS")
         == "RUNNING", "containerd RUNNING")
    r = e2e.run("stats")
    assert r.returncode == 0, r.stderr
    rows = {row["ID"]: row for row in table(r.stdout, STATS)}
    row = rows["containerd"]
    assert row["NODE"] == HOSTS[0] and row["NAMESPACE"] == "system"
    assert float(row["MEMORY(MB)"]) > 1.0  # a real containerd holds megabytes
    assert int(row["CPU"]) > 0  # nanoseconds of CPU since it started
    # every listed entry is a running service of `containers`
    listed = _running_services(e2e, HOSTS[0])
    assert set(rows) <= {i for i, c in listed.items() if c["STATUS"] == "RUNNING"}


def _addr(sock: socket.socket, remote: bool = False) -> str:
    host, port = sock.getpeername() if remote else sock.getsockname()
    return f"{host}:{port}"


def test_netstat_connected_listening_and_programs(e2e: E2ECluster) -> None:
    with tcp_pair() as (lst, cli, srv):
        # default: connected TCP/UDP sockets; our connection appears from both ends (the
        # accepted end shares the listener's local address), the listener does not
        r = e2e.run("netstat")
        assert r.returncode == 0, r.stderr
        rows = table(r.stdout, NETSTAT)
        mine = {(row["Local Address"], row["Foreign Address"]): row for row in rows
                if row["Local Address"] in (_addr(cli), _addr(lst))}
        assert set(mine) == {(_addr(cli), _addr(lst)), (_addr(lst), _addr(cli))}, r.stdout
        for row in mine.values():
            assert row["Proto"] == "tcp" and row["State"] == "ESTABLISHED"
            assert row["NODE"] == HOSTS[0]

        # -l: the listener (remote side '*'), not the connection; -p names this process
        r = e2e.run("netstat", "-l", "-t", "-p", "-x")
        assert r.returncode == 0, r.stderr
        cols = [*NETSTAT, "Uid", "Inode", "PID/Program name"]
        rows = table(r.stdout, cols)
        listeners = [row for row in rows if row["Local Address"] == _addr(lst)]
        assert len(listeners) == 1, r.stdout
        row = listeners[0]
        assert row["State"] == "LISTEN" and row["Foreign Address"] == "0.0.0.0:*"
        assert row["PID/Program name"] == f"{os.getpid()}/{psutil.Process().name()}"
        assert int(row["Inode"]) == _inode(lst)
        assert int(row["Uid"]) == os.getuid()
        assert not any(row["Local Address"] == _addr(cli) for row in rows)
        assert {row["Proto"] for row in rows} <= {"tcp", "tcp6"}
        # apid of the first node listens on its loopback alias, and -p finds its pid
        apid = e2e.nodes[HOSTS[0]].apid
        assert apid is not None
        apid_rows = [row for row in rows if row["Local Address"] == e2e.endpoint()]
        assert [row["PID/Program name"].split("/", 1)[0] for row in apid_rows] \
            == [str(apid.pid)]

        # -6 leaves out IPv4 sockets; -a shows listener and connection together
        r = e2e.run("netstat", "-a", "-6", "-t")
        assert r.returncode == 0, r.stderr
        assert {row["Proto"] for row in table(r.stdout, NETSTAT)} <= {"tcp6"}
        r = e2e.run("netstat", "-a", "-4", "-t")
        assert r.returncode == 0, r.stderr
        rows = table(r.stdout, NETSTAT)
        assert {row["Proto"] for row in rows} <= {"tcp"}
        states = {(row["Local Address"], row["State"]) for row in rows}
        assert {(_addr(lst), "LISTEN"), (_addr(lst), "ESTABLISHED"),
                (_addr(cli), "ESTABLISHED")} <= states
        del srv


def _inode(sock: socket.socket) -> int:
    return os.stat(f"/proc/self/fd/{sock.fileno()}").st_ino


def test_netstat_udp_sockets_have_no_state(e2e: E2ECluster) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        r = e2e.run("-n", TWO, "netstat", "-l", "-u", "-4")
        assert r.returncode == 0, r.stderr
        rows = [row for row in table(r.stdout, NETSTAT)
                if row["Local Address"] == _addr(udp)]
        # both nodes share the host's network namespace here: each reports the socket
        assert sorted(row["NODE"] for row in rows) == sorted(HOSTS[:2])
        for row in rows:
            assert row["Proto"] == "udp" and row["State"] == ""
            assert row["Foreign Address"] == "0.0.0.0:*"


LISTENER = ("import socket, sys\n"
            "s = socket.socket()\n"
            "s.bind(('0.0.0.0', 0))\n"
            "s.listen()\n"
            "print(s.getsockname()[1], flush=True)\n"
            "sys.stdin.read()\n")


@contextlib.contextmanager
def _named_netns(path: Path) -> Iterator[None]:
    """A persistent network namespace bound at `path` (as `ip netns add` makes them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    try:
        subprocess.run(["unshare", f"--net={path}", "true"], check=True, timeout=60)
        yield
    finally:
        subprocess.run(["umount", str(path)], capture_output=True, timeout=60, check=False)
        path.unlink()


@pytest.mark.requires("root", "unshare", "nsenter", "umount")
def test_netstat_pods_reads_named_network_namespaces(e2e: E2ECluster) -> None:
    name = f"e2e-pod-{os.getpid()}"
    ns = e2e.nodes[HOSTS[0]].root / "var/run/netns" / name
    with _named_netns(ns):
        proc = subprocess.Popen(["nsenter", f"--net={ns}", sys.executable, "-c", LISTENER],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            local = f"0.0.0.0:{int(proc.stdout.readline())}"
            cols = [*NETSTAT, "PID/Program name", "Pod"]
            r = e2e.run("netstat", "-k", "-l", "-t", "-p")
            assert r.returncode == 0, r.stderr
            rows = [row for row in table(r.stdout, cols) if row["Local Address"] == local]
            in_ns = [row for row in rows if row["Pod"] == name]
            assert len(in_ns) == 1, r.stdout
            assert in_ns[0]["State"] == "LISTEN"
            assert in_ns[0]["PID/Program name"].split("/", 1)[0] == str(proc.pid)
            # without -k only the node's own namespace is read
            r = e2e.run("netstat", "-l", "-t")
            assert r.returncode == 0, r.stderr
            host_rows = [row for row in table(r.stdout, NETSTAT)
                         if row["Local Address"] == local]
            assert len(host_rows) == len(rows) - 1
        finally:
            proc.kill()
            proc.communicate(timeout=60)


def test_netstat_bad_flag_is_a_usage_error(e2e: E2ECluster) -> None:
    r = e2e.run("netstat", "--bogus")
    assert r.returncode == 2
    assert "No such option '--bogus'" in r.stderr


@contextlib.contextmanager
def _machine(e2e: E2ECluster) -> Iterator[machine_pb2_grpc.MachineServiceStub]:
    """machined's own socket (no apid): what a request looks like to the node itself."""
    with grpc.insecure_channel(f"unix:{e2e.nodes[HOSTS[0]].socket}") as ch:
        yield machine_pb2_grpc.MachineServiceStub(ch)  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(("call", "needle"), [
    (lambda s: s.Containers(m.ContainersRequest(namespace="no such ns")),
     "namespace: 'no such ns' is not a containerd namespace name"),
    (lambda s: s.Stats(m.StatsRequest(namespace="system", driver=7)),
     "driver: unknown container driver 7"),
    (lambda s: s.Netstat(m.NetstatRequest(netns=m.NetstatRequest.NetNS(netns=["../x"]))),
     "netns.netns: '../x' is not a network namespace name"),
])
def test_bad_requests_are_invalid_argument(e2e: E2ECluster, call: Callable[..., object],
                                           needle: str) -> None:
    with _machine(e2e) as stub:
        with pytest.raises(grpc.RpcError) as err:
            call(stub)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
        assert needle in err.value.details()  # type: ignore[attr-defined]


def test_unknown_netns_is_not_found(e2e: E2ECluster) -> None:
    with _machine(e2e) as stub:
        with pytest.raises(grpc.RpcError) as err:
            stub.Netstat(m.NetstatRequest(netns=m.NetstatRequest.NetNS(netns=["nope"])))
        assert err.value.code() == grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]
        assert "no network namespace named 'nope'" in err.value.details()  # type: ignore[attr-defined]


def test_containers_reply_names_its_node_and_driver_cri_defaults_to_k8s(
        e2e: E2ECluster) -> None:
    with _machine(e2e) as stub:
        reply = stub.Containers(m.ContainersRequest(driver=common_pb2.CRI))
        assert reply.messages[0].metadata.hostname == e2e.nodes[HOSTS[0]].hostname
        assert list(reply.messages[0].containers) == []
