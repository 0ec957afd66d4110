"""Global flags after the subcommand, as Talos users type them (cobra persistent flags)."""

import pytest

from talos.talosctl.global_flags import hoist
from talos.talosctl.main import cli


@pytest.mark.parametrize(("argv", "expected"), [
    # already in front: untouched
    (["-n", "10.5.0.2", "version"], ["-n", "10.5.0.2", "version"]),
    # after the command, in every spelling
    (["version", "-n", "10.5.0.2"], ["-n", "10.5.0.2", "version"]),
    (["version", "--nodes=10.5.0.2,10.5.0.3", "--short"],
     ["--nodes=10.5.0.2,10.5.0.3", "version", "--short"]),
    (["version", "-n10.5.0.2"], ["-n10.5.0.2", "version"]),
    (["services", "-e", "10.5.0.1", "--talosconfig", "/tmp/tc", "--context", "x"],
     ["-e", "10.5.0.1", "--talosconfig", "/tmp/tc", "--context", "x", "services"]),
    # through command groups
    (["etcd", "members", "-n", "10.5.0.2"], ["-n", "10.5.0.2", "etcd", "members"]),
    # the command's own -i/--insecure stays the command's; the value of its -f is a value
    (["apply-config", "--insecure", "--nodes", "10.5.0.2", "-f", "-n"],
     ["--nodes", "10.5.0.2", "apply-config", "--insecure", "-f", "-n"]),
    # a command without its own --insecure takes the global one
    (["services", "--insecure"], ["--insecure", "services"]),
    # nothing after -- moves
    (["logs", "machined", "--", "-n", "x"], ["logs", "machined", "--", "-n", "x"]),
    # unknown commands are left for click to report
    (["nosuch", "-n", "x"], ["nosuch", "-n", "x"]),
])
def test_hoist(argv: list[str], expected: list[str]) -> None:
    assert hoist(argv, cli) == expected
