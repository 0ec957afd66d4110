"""talosctl file commands, the support bundle and shell completion against real nodes."""

from __future__ import annotations

import io
import subprocess
import tarfile
import zipfile
from pathlib import Path

from tests.e2e.talosctl.conftest import HOSTS, TALOSCTL, E2ECluster

TWO = ",".join(HOSTS[:2])


def _seed(e2e: E2ECluster, host: str) -> Path:
    """Files under the node's /var (its root's var directory)."""
    base = e2e.nodes[host].root / "var" / "e2e-files"
    (base / "sub").mkdir(parents=True, exist_ok=True)
    (base / "hello.txt").write_text("hello from the node\n")
    (base / "sub" / "data.bin").write_bytes(b"\0" * 5000)
    return base


def test_read_one_node_and_errors(e2e: E2ECluster) -> None:
    _seed(e2e, HOSTS[0])
    r = e2e.run("read", "/var/e2e-files/hello.txt")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hello from the node\n"
    r = e2e.run("read", "/var/e2e-files/missing")
    assert r.returncode == 1
    assert "'/var/e2e-files/missing' does not exist" in r.stderr
    r = e2e.run("read", "/root/secret")
    assert r.returncode == 1 and "outside the allowed roots" in r.stderr
    r = e2e.run("-n", TWO, "read", "/var/e2e-files/hello.txt")
    assert r.returncode == 1
    assert "read works with one node at a time, got 2" in r.stderr


def test_list_long_recursive_and_types(e2e: E2ECluster) -> None:
    for host in HOSTS[:2]:
        _seed(e2e, host)
    r = e2e.run("-n", TWO, "ls", "/var/e2e-files")
    assert r.returncode == 0, r.stderr
    rows = [ln.split() for ln in r.stdout.splitlines()]
    assert rows[0] == ["NODE", "NAME"]
    assert [HOSTS[1], "hello.txt"] in rows and [HOSTS[0], "sub"] in rows
    assert [HOSTS[0], "sub/data.bin"] not in rows
    r = e2e.run("list", "-r", "/var/e2e-files")
    assert [HOSTS[0], "sub/data.bin"] in [ln.split() for ln in r.stdout.splitlines()]
    r = e2e.run("ls", "-l", "/var/e2e-files")
    assert r.stdout.splitlines()[0].split() == ["NODE", "MODE", "UID", "GID", "SIZE(B)",
                                                "LASTMOD", "NAME"]
    long_rows = {ln.split()[-1]: ln.split() for ln in r.stdout.splitlines()[1:]}
    assert long_rows["sub"][1].startswith("d")
    assert long_rows["hello.txt"][1] == "-rw-r--r--" and long_rows["hello.txt"][4] == "20"
    r = e2e.run("ls", "-r", "-t", "f", "/var/e2e-files")
    names = [ln.split()[1] for ln in r.stdout.splitlines()[1:]]
    assert sorted(names) == ["hello.txt", "sub/data.bin"]
    r = e2e.run("ls", "-r", "-tfd", "/var/e2e-files")  # Talos also takes -tfd and -t f,d
    names = [ln.split()[1] for ln in r.stdout.splitlines()[1:]]
    assert sorted(names) == [".", "hello.txt", "sub", "sub/data.bin"]
    assert e2e.run("ls", "-r", "-t", "f,d", "/var/e2e-files").stdout == r.stdout
    r = e2e.run("ls", "-r", "-t", "L", "/var/e2e-files")
    assert r.returncode == 0 and r.stdout.splitlines()[1:] == []
    # LASTMOD as Talos: "Jan _2 15:04:05" for recent files; -H says how long ago
    r = e2e.run("ls", "-l", "/var/e2e-files")
    row = next(ln.split() for ln in r.stdout.splitlines() if ln.endswith(" hello.txt"))
    assert len(row[7].split(":")) == 3, row
    r = e2e.run("ls", "-l", "-H", "/var/e2e-files")
    row = next(ln for ln in r.stdout.splitlines() if ln.endswith(" hello.txt"))
    assert " ago " in row or " now " in row, row
    r = e2e.run("ls", "-t", "x", "/var")
    assert r.returncode == 2
    assert "invalid file type: 'x'" in r.stderr


def test_usage(e2e: E2ECluster) -> None:
    _seed(e2e, HOSTS[0])
    r = e2e.run("du", "/var/e2e-files", "-a")
    assert r.returncode == 0, r.stderr
    rows = {ln.split()[2]: ln.split() for ln in r.stdout.splitlines()[1:]}
    assert r.stdout.splitlines()[0].split() == ["NODE", "SIZE", "NAME"]
    assert int(rows["sub/data.bin"][1]) >= 5000
    r = e2e.run("usage", "-H", "/var/e2e-files")
    assert r.returncode == 0 and "kB" in r.stdout
    # several paths in one call (as Talos: usage [path1] ... [pathN]); none means /var
    r = e2e.run("usage", "/var/e2e-files/sub", "/var/e2e-files/hello.txt", "-a")
    assert r.returncode == 0, r.stderr
    # names are relative to each path given: sub's file and sub itself, then hello.txt
    names = [ln.split()[2] for ln in r.stdout.splitlines()[1:]]
    assert names == ["data.bin", ".", "."], r.stdout
    r = e2e.run("usage", "-d", "1")
    assert r.returncode == 0, r.stderr
    assert "e2e-files" in {ln.split()[2] for ln in r.stdout.splitlines()[1:]}


def test_copy_to_directory_per_node_and_stdout(e2e: E2ECluster, tmp_path: Path) -> None:
    for host in HOSTS[:2]:
        _seed(e2e, host)
    out = tmp_path / "out"
    r = e2e.run("-n", TWO, "cp", "/var/e2e-files", str(out))
    assert r.returncode == 0, r.stderr
    for host in HOSTS[:2]:
        assert (out / host / "e2e-files" / "hello.txt").read_text() == "hello from the node\n"
        assert (out / host / "e2e-files" / "sub" / "data.bin").stat().st_size == 5000
    assert TALOSCTL is not None
    raw = subprocess.run([TALOSCTL, "-e", e2e.endpoint(), "copy", "/var/e2e-files", "-"],
                         capture_output=True, env=e2e.env(), check=True, timeout=120).stdout
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
        assert "e2e-files/hello.txt" in tar.getnames()
    r = e2e.run("-n", TWO, "cp", "/var/e2e-files", "-")
    assert r.returncode == 1 and "one node at a time" in r.stderr


def test_support_bundle(e2e: E2ECluster, tmp_path: Path) -> None:
    bundle = tmp_path / "support.zip"
    r = e2e.run("-n", TWO, "support", "-O", str(bundle))
    assert r.returncode == 0, r.stderr
    assert "collected 127.0.0.2/service-logs/machined.log" in r.stderr
    assert f"Support bundle is written to {bundle}" in r.stderr
    with zipfile.ZipFile(bundle) as z:
        names = set(z.namelist())
        for host in HOSTS[:2]:
            for name in ("version", "services", "service-logs/machined.log", "processes",
                         "memory", "mounts", "resources/definitions.yaml"):
                assert f"{host}/{name}" in names, (host, name, sorted(names))
            assert any(n.startswith(f"{host}/resources/") and "Service" in n for n in names)
        assert b"machined" in z.read(f"{HOSTS[0]}/services")
    r = e2e.run("support", "-O", str(bundle))
    assert r.returncode == 1 and "already exists" in r.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["support.zip"]  # no temp files left


def test_bash_completion(e2e: E2ECluster) -> None:
    script = e2e.run("completion", "bash", endpoint=False)
    assert script.returncode == 0, script.stderr
    probe = (
        'source /dev/stdin; complete -p talosctl;'
        'COMP_WORDS=(talosctl serv); COMP_CWORD=1; _talosctl_completion talosctl;'
        'echo "1:${COMPREPLY[*]}"; COMPREPLY=();'
        'COMP_WORDS=(talosctl service apid st); COMP_CWORD=3; _talosctl_completion talosctl;'
        'echo "2:${COMPREPLY[*]}"; COMPREPLY=();'
        'COMP_WORDS=(talosctl apply-config --mode no); COMP_CWORD=3;'
        '_talosctl_completion talosctl; echo "3:${COMPREPLY[*]}"')
    r = subprocess.run(["bash", "-c", probe], input=script.stdout, capture_output=True,
                       text=True, env=e2e.env(), timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "complete -o nosort -F _talosctl_completion talosctl"
    assert lines[1] == "1:service services"
    assert lines[2] == "2:start stop status"
    assert lines[3] == "3:no-reboot"
    r = e2e.run("completion", "tcsh", endpoint=False)
    assert r.returncode == 2 and "'tcsh' is not one of 'bash', 'zsh', 'fish'" in r.stderr
