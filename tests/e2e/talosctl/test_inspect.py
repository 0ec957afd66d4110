"""talosctl's read-only commands against three real nodes (machined + apid on loopback)."""

from __future__ import annotations

import re
import signal
import subprocess

from tests.e2e.talosctl.conftest import HOSTS, TALOSCTL, E2ECluster

TWO = ",".join(HOSTS[:2])


def header(out: str) -> list[str]:
    return re.split(r"\s{2,}", out.splitlines()[0].strip())


def test_version_client_and_server_per_node(e2e: E2ECluster) -> None:
    r = e2e.run("version", "--client")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Client:\n\tTag:")
    assert "Server:" not in r.stdout
    r = e2e.run("-n", ",".join(HOSTS), "version")
    assert r.returncode == 0, r.stderr
    _client, server = r.stdout.split("Server:\n")
    assert [ln.split()[-1] for ln in server.splitlines() if "NODE:" in ln] == list(HOSTS)
    assert server.count("Enabled:     RBAC") == 3


def test_services_table_and_service_status(e2e: E2ECluster) -> None:
    r = e2e.run("-n", TWO, "services")
    assert r.returncode == 0, r.stderr
    assert header(r.stdout) == ["NODE", "SERVICE", "STATE", "HEALTH", "LAST CHANGE",
                                "LAST EVENT"]
    rows = [ln.split()[:3] for ln in r.stdout.splitlines()[1:]]
    assert [HOSTS[0], "machined", "Running"] in rows
    assert [HOSTS[1], "containerd", "Running"] in rows
    r = e2e.run("service", "containerd")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["NODE", HOSTS[0]]
    assert lines[1].split() == ["ID", "containerd"]
    assert lines[2].split() == ["STATE", "Running"]
    assert any(ln.startswith("EVENTS") and "[Running]" in ln for ln in lines)


def test_workers_do_not_list_control_plane_services(e2e: E2ECluster) -> None:
    """As Talos: trustd and etcd exist on control planes only (clients infer the role from
    the list); the control plane lists them (etcd Skipped here: its config has no etcd CA)."""
    r = e2e.run("-n", ",".join(HOSTS), "services")
    assert r.returncode == 0, r.stderr
    by_node: dict[str, set[str]] = {}
    for ln in r.stdout.splitlines()[1:]:
        node, service = ln.split()[:2]
        by_node.setdefault(node, set()).add(service)
    assert {"trustd", "etcd"} <= by_node[HOSTS[0]]
    for worker in HOSTS[1:]:
        assert "containerd" in by_node[worker] and "apid" in by_node[worker]
        assert not by_node[worker] & {"trustd", "etcd"}, by_node[worker]
    r = e2e.run("-n", HOSTS[1], "service", "etcd")
    assert r.returncode == 1
    assert f"{HOSTS[1]}: service 'etcd' is not registered on this node" in r.stderr


def test_service_errors_name_the_node_and_the_problem(e2e: E2ECluster) -> None:
    r = e2e.run("-n", TWO, "service", "nope")
    assert r.returncode == 1
    assert f"{HOSTS[0]}: service 'nope' is not registered on this node" in r.stderr
    assert f"{HOSTS[1]}: service 'nope' is not registered on this node" in r.stderr
    r = e2e.run("service", "containerd", "explode")
    assert r.returncode == 2
    assert "'explode' is not one of 'start', 'stop', 'restart', 'status'" in r.stderr
    r = e2e.run("service", "machined", "restart")
    assert r.returncode == 1
    assert "PID 1" in r.stderr


def test_logs_are_prefixed_by_node_and_tailed(e2e: E2ECluster) -> None:
    r = e2e.run("-n", TWO, "logs", "machined", "--tail", "2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 4
    assert sorted({ln.split(":", 1)[0] for ln in lines}) == list(HOSTS[:2])
    r = e2e.run("logs", "nope")
    assert r.returncode == 1
    assert r.stderr == f"Error: {HOSTS[0]}: service 'nope' not found\n"
    r = e2e.run("logs", "-k", "kube-system/coredns")
    assert r.returncode == 1
    assert r.stderr == (f"Error: {HOSTS[0]}: container 'kube-system/coredns' not found in "
                        "namespace 'k8s.io'\n"), r.stderr
    r = e2e.run("logs", "machined", "--tail", "-5")
    assert r.returncode == 2
    assert "--tail: expected -1 (everything) or a line count >= 0, got -5" in r.stderr


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_follow_streams_until_interrupted(e2e: E2ECluster) -> None:
    assert TALOSCTL is not None
    # started as a background job of a script is: SIGINT ignored; Ctrl-C still ends it
    proc = subprocess.Popen([TALOSCTL, "-e", e2e.endpoint(), "logs", "-f", "--tail", "1",
                             "machined"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=e2e.env(), preexec_fn=_ignore_sigint)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith(f"{HOSTS[0]}: ")
        # a service restart logs a new machined line that the follower must show
        r = e2e.run("service", "containerd", "restart")
        assert r.returncode == 0, r.stderr
        while "containerd" not in proc.stdout.readline():
            pass
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
        assert "Traceback" not in err
        assert proc.returncode == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_events_tail_and_bad_duration(e2e: E2ECluster) -> None:
    assert TALOSCTL is not None
    proc = subprocess.Popen([TALOSCTL, "-e", e2e.endpoint(), "-n", TWO, "events",
                             "--tail", "-1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=e2e.env())
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().split() == ["NODE", "ID", "EVENT", "ACTOR", "SOURCE",
                                                  "MESSAGE"]
        seen: set[tuple[str, str]] = set()
        while len(seen) < 2:
            cols = proc.stdout.readline().split()
            if cols[2] == "machine.SequenceEvent" and cols[3:] == ["boot", "stop"]:
                seen.add((cols[0], cols[3]))
        assert {n for n, _ in seen} == set(HOSTS[:2])
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    r = e2e.run("events", "--duration", "1x")
    assert r.returncode == 2
    assert "invalid duration '1x' (expected e.g. 30s, 5m, 1h30m or 500ms)" in r.stderr


def test_system_statistics(e2e: E2ECluster) -> None:
    r = e2e.run("-n", HOSTS[1], "processes", "-s", "cpu")
    assert r.returncode == 0, r.stderr
    assert header(r.stdout) == ["NODE", "PID", "STATE", "THREADS", "CPU-TIME", "VIRTMEM",
                                "RESMEM", "LABEL", "COMMAND"]
    cpu = [float(ln.split()[4]) for ln in r.stdout.splitlines()[1:]]
    assert cpu == sorted(cpu, reverse=True)
    r = e2e.run("ps")
    assert r.returncode == 0 and "machined" in r.stdout
    r = e2e.run("-n", TWO, "memory")
    assert r.returncode == 0, r.stderr
    assert header(r.stdout) == ["NODE", "TOTAL", "USED", "FREE", "SHARED", "BUFFERS",
                                "CACHE", "AVAILABLE"]
    rows = [ln.split() for ln in r.stdout.splitlines()[1:]]
    assert [row[0] for row in rows] == list(HOSTS[:2])
    assert all(int(row[1]) > 0 for row in rows)
    r = e2e.run("-n", TWO, "memory", "-v")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    # /proc/meminfo's names and kB (as Talos), each node's block starting with NODE:
    assert [ln for ln in lines if ln.startswith("NODE: ")] == [f"NODE: {h}" for h in HOSTS[:2]]
    assert len(lines) == 2 * 49
    total = next(ln for ln in lines if ln.startswith("MemTotal: "))
    assert total.endswith(" kB") and int(total.split()[1]) > 0
    assert any(ln.startswith("HugePagesTotal: ") and not ln.endswith("kB") for ln in lines)
    r = e2e.run("mounts")
    assert r.returncode == 0, r.stderr
    assert header(r.stdout)[-1] == "MOUNTED ON"
    assert any(ln.endswith(" /") for ln in r.stdout.splitlines())
    r = e2e.run("-n", TWO, "time")
    assert r.returncode == 0, r.stderr
    assert header(r.stdout) == ["NODE", "NTP-SERVER", "NODE-TIME", "NTP-SERVER-TIME"]
    assert len(r.stdout.splitlines()) == 3


def test_disks(e2e: E2ECluster) -> None:
    r = e2e.run("-n", TWO, "disks")
    assert r.returncode == 0, r.stderr
    assert header(r.stdout)[:5] == ["NODE", "DEV", "MODEL", "SERIAL", "TYPE"]
    assert {ln.split()[0] for ln in r.stdout.splitlines()[1:]} == set(HOSTS[:2])


def test_unimplemented_apis_say_so_in_one_line(e2e: E2ECluster) -> None:
    for args, needle in ((("time", "--check", "pool.ntp.org"), f"{HOSTS[0]}: "),):
        r = e2e.run(*args)
        assert r.returncode == 1, args
        assert needle in r.stderr, (args, r.stderr)
        assert r.stderr.startswith("Error: "), r.stderr


def test_dmesg_lines_are_prefixed_by_node(e2e: E2ECluster) -> None:
    r = e2e.run("-n", TWO, "dmesg")
    if r.returncode == 1:  # a host without a readable /dev/kmsg: the node says so
        assert "kernel log /dev/kmsg is not readable" in r.stderr
        return
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines and {ln.split(":", 1)[0] for ln in lines} == set(HOSTS[:2])
    assert all(re.match(r"^\S+: +\w+: +\w+: \[ *\d+\.\d{6}\]: ", ln) for ln in lines[:20])


def test_processes_watch_refreshes_until_interrupted(e2e: E2ECluster) -> None:
    assert TALOSCTL is not None
    proc = subprocess.Popen([TALOSCTL, "-e", e2e.endpoint(), "processes", "-w"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=e2e.env())
    try:
        assert proc.stdout is not None
        headers = 0
        while headers < 2:  # two refreshes, each a full table
            if proc.stdout.readline().split()[:2] == ["NODE", "PID"]:
                headers += 1
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
        assert "Traceback" not in err
        assert proc.returncode == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
