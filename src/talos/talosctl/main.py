"""The `talosctl` root command and its global flags (as Talos has them)."""

from __future__ import annotations

import signal
import sys
from dataclasses import dataclass, field

import click

from talos.talosctl.lazy_group import LazyGroup

#: Every command group, by name -> "module:attribute". One module per group.
COMMANDS: dict[str, str] = {
    "version": "talos.talosctl.version:version",
    "validate": "talos.talosctl.validate:validate",
    "machineconfig": "talos.talosctl.machineconfig:machineconfig",
    "get": "talos.talosctl.get:get",
    "inspect": "talos.talosctl.inspect:inspect",
    "config": "talos.talosctl.config:config",
    "gen": "talos.talosctl.gen:gen",
    "services": "talos.talosctl.services:services",
    "service": "talos.talosctl.services:service",
    "logs": "talos.talosctl.logs:logs",
    "dmesg": "talos.talosctl.logs:dmesg",
    "restart": "talos.talosctl.restart:restart",
    "debug": "talos.talosctl.debug:debug",
    "upgrade": "talos.talosctl.upgrade:upgrade",
    "rollback": "talos.talosctl.upgrade:rollback",
    "events": "talos.talosctl.events:events",
    "processes": "talos.talosctl.processes:processes",
    "ps": "talos.talosctl.processes:processes",
    "memory": "talos.talosctl.memory:memory",
    "mounts": "talos.talosctl.mounts:mounts",
    "containers": "talos.talosctl.containers:containers",
    "stats": "talos.talosctl.containers:stats",
    "image": "talos.talosctl.image:image",
    "images": "talos.talosctl.image:image",
    "netstat": "talos.talosctl.netstat:netstat",
    "ss": "talos.talosctl.netstat:netstat",
    "pcap": "talos.talosctl.pcap:pcap",
    "tcpdump": "talos.talosctl.pcap:pcap",
    "meta": "talos.talosctl.meta:meta",
    "disks": "talos.talosctl.disks:disks",
    "wipe": "talos.talosctl.wipe:wipe",
    "time": "talos.talosctl.timecmd:time_",
    "read": "talos.talosctl.files:read",
    "list": "talos.talosctl.files:list_",
    "ls": "talos.talosctl.files:list_",
    "usage": "talos.talosctl.files:usage",
    "du": "talos.talosctl.files:usage",
    "copy": "talos.talosctl.files:copy",
    "cp": "talos.talosctl.files:copy",
    "reboot": "talos.talosctl.power:reboot",
    "shutdown": "talos.talosctl.power:shutdown",
    "reset": "talos.talosctl.power:reset",
    "apply-config": "talos.talosctl.apply:apply_config",
    "apply": "talos.talosctl.apply:apply_config",
    "edit": "talos.talosctl.apply:edit",
    "patch": "talos.talosctl.apply:patch",
    "support": "talos.talosctl.support:support",
    "completion": "talos.talosctl.completion:completion",
    "cluster": "talos.talosctl.cluster:cluster",
    "health": "talos.talosctl.health:health",
    "etcd": "talos.talosctl.etcd:etcd",
    "bootstrap": "talos.talosctl.bootstrap:bootstrap",
    "kubeconfig": "talos.talosctl.kubeconfig:kubeconfig",
    "dashboard": "talos.talosctl.dashboard.command:dashboard",
}


@dataclass
class GlobalOptions:
    """The flags every talosctl command shares (`-n`, `-e`, `--talosconfig`, …)."""

    nodes: list[str] = field(default_factory=list)
    endpoints: list[str] = field(default_factory=list)
    talosconfig: str | None = None
    context: str | None = None
    cluster: str | None = None
    insecure: bool = False


def _split_list(_ctx: click.Context, _param: click.Parameter,
                value: tuple[str, ...]) -> list[str]:
    """`-n a,b -n c` -> [a, b, c], as Talos's string slices parse."""
    out: list[str] = []
    for item in value:
        out.extend(part.strip() for part in item.split(",") if part.strip())
    return out


@click.group(cls=LazyGroup, lazy_commands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-n", "--nodes", multiple=True, callback=_split_list, metavar="NODES",
              help="target the specified nodes")
@click.option("-e", "--endpoints", multiple=True, callback=_split_list, metavar="ENDPOINTS",
              help="override default endpoints in Talos configuration")
@click.option("--talosconfig", envvar=None, metavar="PATH",
              help="the path to the Talos configuration file. Defaults to 'TALOSCONFIG' env "
                   "variable if set, otherwise '$HOME/.talos/config'")
@click.option("--context", "context_name", metavar="NAME",
              help="context to be used in command")
@click.option("--cluster", metavar="NAME", help="cluster to connect to if a proxy endpoint is used")
@click.option("-i", "--insecure", is_flag=True,
              help="use Talos maintenance mode API (no client certificate)")
@click.pass_context
def cli(ctx: click.Context, nodes: list[str], endpoints: list[str], talosconfig: str | None,
        context_name: str | None, cluster: str | None, insecure: bool) -> None:
    """A CLI for out-of-band management of Kubernetes nodes created by Talos."""
    ctx.obj = GlobalOptions(nodes=nodes, endpoints=endpoints, talosconfig=talosconfig,
                            context=context_name, cluster=cluster, insecure=insecure)


def interrupt_on_ctrl_c() -> None:
    """Let Ctrl-C (SIGINT) end a command even when talosctl was started with SIGINT ignored
    (a background job of a non-interactive shell inherits that): Python then installs no
    KeyboardInterrupt handler and `logs -f`, `events`, `pcap`, `dmesg -f` would run until
    killed. Talos's talosctl (Go's signal.Notify) re-enables the signal the same way."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: list[str] | None = None) -> int:
    from talos.talosctl.global_flags import hoist

    interrupt_on_ctrl_c()

    args = hoist(list(sys.argv[1:] if argv is None else argv), cli)
    try:
        rv = cli.main(args=args, prog_name="talosctl", standalone_mode=False)
        if isinstance(rv, int):  # click returns ctx.exit(n)'s code in this mode
            return rv
    except click.exceptions.Exit as e:
        return int(e.exit_code or 0)
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
