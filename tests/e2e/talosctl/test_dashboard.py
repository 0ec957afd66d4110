"""`talosctl dashboard` in a real terminal: tmux runs a shell at a fixed size, the test types
keys into it and reads the screen back (`tmux capture-pane`).

Every wait polls the screen with a bound and fails naming what it waited for, with the last
screen; nothing is judged by how long it took.
"""

from __future__ import annotations

import shlex
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.talosctl.conftest import HOSTS, TALOSCTL, E2ECluster, stop_process

pytestmark = pytest.mark.requires("tmux")

WIDTH, HEIGHT = 160, 45
#: bound of every wait on the screen (a bound, never an assertion on the time taken)
WAIT = 90.0
#: the shell's prompt as the screen shows it (capture-pane drops trailing blanks)
PROMPT = "e2e-shell$"


@dataclass
class Terminal:
    socket: Path

    def tmux(self, *args: str) -> str:
        r = subprocess.run(["tmux", "-S", str(self.socket), *args], capture_output=True,
                           text=True, check=True, timeout=30)
        return r.stdout

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "dash", "-l", text)

    def key(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "dash", *keys)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "dash")

    def alternate_screen(self) -> bool:
        return self.tmux("display-message", "-p", "-t", "dash", "#{alternate_on}").strip() \
            == "1"

    def wait(self, what: str, ok: Callable[[str], bool]) -> str:
        deadline = time.monotonic() + WAIT
        while True:
            screen = self.screen()
            if ok(screen):
                return screen
            if time.monotonic() > deadline:
                pytest.fail(f"waited for {what}; the screen shows:\n{screen}")
            time.sleep(0.2)

    def wait_text(self, what: str, *texts: str) -> str:
        return self.wait(what, lambda s: all(t in s for t in texts))


@pytest.fixture
def terminal(e2e: E2ECluster, tmp_path: Path) -> Iterator[Terminal]:
    """A shell in a detached tmux session of WIDTHxHEIGHT with the cluster's environment;
    the tmux server (and whatever runs in it) is killed afterwards."""
    term = Terminal(tmp_path / "tmux.sock")
    env = e2e.env(PS1=PROMPT + " ", TERM="xterm-256color")
    env.pop("COLUMNS", None)
    shell = "env -i " + " ".join(shlex.quote(f"{k}={v}") for k, v in env.items()) \
        + " bash --norc --noprofile"
    term.tmux("-f", "/dev/null", "new-session", "-d", "-s", "dash", "-x", str(WIDTH),
              "-y", str(HEIGHT), shell)
    try:
        term.wait_text("the shell prompt", PROMPT)
        yield term
    finally:
        subprocess.run(["tmux", "-S", str(term.socket), "kill-server"], capture_output=True,
                       check=False, timeout=30)


def _start_dashboard(e2e: E2ECluster, term: Terminal, *nodes: str) -> None:
    assert TALOSCTL is not None, "talosctl is not installed (pip install -e .)"
    term.type(f"{TALOSCTL} -e {e2e.endpoint()} -n {','.join(nodes)} dashboard; "
              "echo EXIT=$?")
    term.key("Enter")
    term.wait_text("the dashboard with both nodes in its footer and the first node's "
                   "hostname", f"[{nodes[0]} | {nodes[1]}]",
                   e2e.nodes[nodes[0]].hostname, f"Logs: machined ({nodes[0]})")


def _fresh_machined_line(e2e: E2ECluster, host: str) -> str:
    """Make machined on `host` log (restart its containerd) and return the newest line it
    logged about that (the timestamp to the millisecond makes it unique)."""
    r = e2e.run("-n", host, "service", "containerd", "restart")
    assert r.returncode == 0, r.stderr
    r = e2e.run("-n", host, "logs", "machined", "--tail", "30")
    assert r.returncode == 0, r.stderr
    lines = [ln.split(": ", 1)[1] for ln in r.stdout.splitlines()
             if "service[containerd]" in ln]
    assert lines, r.stdout
    return lines[-1]


def _first_line(screen: str) -> str:
    return screen.splitlines()[0] if screen else ""


def test_dashboard_shows_nodes_and_fresh_logs_switches_node_and_quits_cleanly(
        e2e: E2ECluster, terminal: Terminal) -> None:
    a, b = HOSTS[0], HOSTS[1]
    _start_dashboard(e2e, terminal, a, b)
    assert terminal.alternate_screen()

    line = _fresh_machined_line(e2e, a)
    terminal.wait_text(f"the fresh machined log line {line!r} of {a}", line)

    terminal.key("l")
    terminal.wait(f"{b} selected: its hostname in the header and its logs in the pane",
                  lambda s: e2e.nodes[b].hostname in _first_line(s)
                  and f"Logs: machined ({b})" in s)
    terminal.key("h")
    terminal.wait(f"{a} selected again",
                  lambda s: e2e.nodes[a].hostname in _first_line(s) and line in s)

    terminal.tmux("resize-window", "-t", "dash", "-x", "100", "-y", "30")
    terminal.wait("the layout redrawn for 100x30: the footer on its last row",
                  lambda s: len(s.splitlines()) == 30
                  and s.splitlines()[-1].startswith(f"[{a} | {b}]")
                  and e2e.nodes[a].hostname in _first_line(s))

    terminal.key("q")
    screen = terminal.wait_text("the dashboard to exit 0 and the shell prompt back",
                                "EXIT=0\n" + PROMPT)
    assert not terminal.alternate_screen()
    assert f"[{a} | {b}]" not in screen  # the dashboard's screen is gone
    assert "Traceback" not in screen


def test_dashboard_marks_a_stopped_node_unreachable_while_the_other_keeps_updating(
        e2e: E2ECluster, terminal: Terminal) -> None:
    a, b = HOSTS[0], HOSTS[1]
    _start_dashboard(e2e, terminal, a, b)
    node_b = e2e.nodes[b]
    assert node_b.machined is not None
    try:
        stop_process(node_b.machined)
        terminal.wait_text(f"{b} marked unreachable in the footer", f"{b} (unreachable)")

        line = _fresh_machined_line(e2e, a)
        terminal.wait_text(f"the fresh machined log line {line!r} of {a}", line)

        terminal.key("right")
        terminal.wait(f"{b} selected and shown as unreachable",
                      lambda s: node_b.hostname in _first_line(s)
                      and "UNREACHABLE" in _first_line(s))
    finally:
        e2e.restart_node(b)
    terminal.wait(f"{b} answering again",
                  lambda s: "UNREACHABLE" not in s and f"{b} (unreachable)" not in s)

    terminal.key("C-c")
    terminal.wait_text("the dashboard to exit 0 on Ctrl-C and the shell prompt back",
                       "EXIT=0\n" + PROMPT)
    assert not terminal.alternate_screen()
