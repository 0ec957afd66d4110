"""`talosctl cluster create | show | destroy`: local clusters of sandboxed nodes or VMs.

Each node is machined as PID 1 of its own PID, mount, UTS and network namespaces, on a
bridge; STATE and EPHEMERAL live under `<state>/<name>/<node>/`. With `cluster create qemu`
(or `--provisioner qemu`) each node is a qemu VM booted from the image instead
(talos.provision.qemu). Needs root.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from talos.machinery.constants import DEFAULT_CIDR, DEFAULT_CLUSTER_NAME
from talos.talosctl.health import ProgressView
from talos.talosctl.patch_options import config_patch_options
from talos.talosctl.timefmt import parse_duration

K8S_NOTE = ("Kubernetes components (kubelet, kube-apiserver, …) are not started: their "
            "binaries are not available on these nodes. etcd, apid and trustd run for real.")


def _state_option(f: Any) -> Any:
    return click.option("--state", default="~/.talos/clusters", show_default=True,
                        help="directory path to store cluster state")(f)


def _name_option(f: Any) -> Any:
    return click.option("--name", default=DEFAULT_CLUSTER_NAME, show_default=True,
                        help="the name of the cluster")(f)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _require_root() -> None:
    if os.geteuid() != 0:
        _fail("cluster commands need root (network namespaces, bridges and mounts): "
              "run with sudo")


@click.group("cluster")
def cluster() -> None:
    """A collection of commands for managing local docker-less clusters (sandboxed nodes)."""


def _create_options(f: Any) -> Any:
    """The options every provisioner's `cluster create` takes (upstream's names)."""
    for option in reversed((
        _name_option,
        click.option("--controlplanes", default=1, show_default=True, type=int,
                     help="the number of controlplanes to create"),
        click.option("--workers", default=1, show_default=True, type=int,
                     help="the number of workers to create"),
        click.option("--cidr", default=DEFAULT_CIDR, show_default=True,
                     help="CIDR of the cluster network (IPv4)"),
        config_patch_options,
        click.option("--wait/--no-wait", default=True, show_default=True,
                     help="wait for the cluster to be ready before returning"),
        click.option("--wait-timeout", default="20m", show_default=True,
                     help="timeout to wait for the cluster to be ready"),
        click.option("--skip-kubeconfig", is_flag=True,
                     help="skip merging kubeconfig from the created cluster"),
        _state_option,
    )):
        f = option(f)
    return f


def _qemu_options(f: Any) -> Any:
    """The qemu provisioner's own options (upstream's names where upstream has them)."""
    for option in reversed((
        click.option("--image", default="",
                     help="directory of the image's assets (`python -m talos imager "
                          "--output DIR`); default: this version's image, built once and "
                          "cached. Sandbox nodes boot the image's root squashfs with it: "
                          "such a directory, a .sqsh file, or ghcr.io/siderolabs/talos:<this "
                          "version> (default: the host's root)"),
        click.option("--with-uefi", is_flag=True,
                     help="boot through UEFI firmware (OVMF; ~6.5 s slower under software "
                          "emulation) instead of the faster direct kernel boot"),
        click.option("--cpus", default=1, show_default=True, type=int,
                     help="the number of CPUs per VM"),
        click.option("--memory", default=1024, show_default=True, type=int,
                     help="the memory per VM (MiB)"),
        click.option("--disk", default=6144, show_default=True, type=int,
                     help="the size of each VM's disk (MiB)"),
    )):
        f = option(f)
    return f


@cluster.group("create", invoke_without_command=True)
@_create_options
@click.option("--provisioner", type=click.Choice(["sandbox", "qemu"]), default="sandbox",
              show_default=True, help="how nodes run: sandboxed processes on this host, or "
                                      "qemu VMs booted from the image (as `cluster create "
                                      "qemu`)")
@_qemu_options
@click.pass_context
def create(ctx: click.Context, /, provisioner: str, **kw: Any) -> None:
    """Creates a local cluster of sandboxed nodes (or VMs: `cluster create qemu`)."""
    if ctx.invoked_subcommand is not None:
        return
    if provisioner == "qemu":
        _create(ctx, qemu=_qemu_opts(kw), **kw)
        return
    given = [f"--{k.replace('_', '-')}" for k in _QEMU_KEYS
             if k not in _SANDBOX_KEYS
             and ctx.get_parameter_source(k) != click.core.ParameterSource.DEFAULT]
    if given:
        _fail(f"{', '.join(given)}: only with the qemu provisioner "
              "(`talosctl cluster create qemu`)")
    _create(ctx, qemu=None, **kw)


_QEMU_KEYS = ("image", "with_uefi", "cpus", "memory", "disk")
#: qemu options the sandbox provisioner takes too
_SANDBOX_KEYS = ("image",)


def _qemu_opts(kw: dict[str, Any]) -> Any:
    from talos.provision.qemu.create import QemuOptions

    return QemuOptions(image=kw.pop("image"), uefi=kw.pop("with_uefi"),
                       cpus=kw.pop("cpus"), memory_mib=kw.pop("memory"),
                       disk_mib=kw.pop("disk"))


@create.command("qemu")
@_create_options
@_qemu_options
@click.pass_context
def create_qemu(ctx: click.Context, /, **kw: Any) -> None:
    """Creates a local cluster of qemu VMs booted from this version's image."""
    _create(ctx, qemu=_qemu_opts(kw), **kw)


def _create(ctx: click.Context, *, qemu: Any, name: str, controlplanes: int, workers: int,
            cidr: str, config_patch: tuple[str, ...],
            config_patch_control_plane: tuple[str, ...],
            config_patch_worker: tuple[str, ...], wait: bool, wait_timeout: str,
            skip_kubeconfig: bool, state: str, image: str = "",
            **_qemu_defaults: Any) -> None:
    """One cluster create: provision (sandbox, or qemu when `qemu` holds its options),
    bootstrap etcd, wait for health, merge the talosconfig, print the summary."""
    from talos.machinery.client.talosconfig import Talosconfig, resolve_path
    from talos.machinery.errors import TalosError
    from talos.provision.create import (
        CreateFailed,
        CreateOptions,
        bootstrap,
        cleanup,
        mark_running,
        node_log_tail,
        provision,
    )
    from talos.talosctl.connect import _global

    timeout = parse_duration(wait_timeout, "--wait-timeout")
    if qemu is not None:
        try:
            qemu.validate()
        except TalosError as e:
            _fail(str(e))
    _require_root()
    opts = CreateOptions(name=name, state_dir=Path(state), cidr=cidr,
                         controlplanes=controlplanes, workers=workers,
                         config_patches=config_patch,
                         config_patches_controlplane=config_patch_control_plane,
                         config_patches_worker=config_patch_worker,
                         image=image if qemu is None else "")
    view = ProgressView()
    say = view.console.print
    started = time.monotonic()
    server = None
    try:
        if qemu is None:
            record, talosconfig = provision(opts, lambda m: say(f"[dim]·[/] {m}"))
        else:
            from talos.provision.qemu.create import provision_qemu

            record, talosconfig, server = provision_qemu(opts, qemu,
                                                         lambda m: say(f"[dim]·[/] {m}"))
    except TalosError as e:
        _fail(str(e))
        return
    ctx_obj = talosconfig.get(name)
    first_cp = record.controlplanes[0]

    async def guarded(work: Any) -> Any:
        """A VM that exits fails the create at once (a sandbox node: when waited on)."""
        if qemu is None:
            return await work
        from talos.provision.qemu.create import while_vms_run

        return await while_vms_run(record, work)

    try:
        bootstrap_note = asyncio.run(guarded(bootstrap(ctx_obj, first_cp.address, timeout)))
        say(f"[dim]·[/] {bootstrap_note}")
        if wait:
            from talos.machinery.client.connection import ConnectionOptions
            from talos.talosctl.health import run_health

            conn_opts = ConnectionOptions.from_context(ctx_obj)
            remaining = max(0.0, timeout - (time.monotonic() - started))
            with view:
                asyncio.run(guarded(run_health(
                    conn_opts, tuple(n.address for n in record.controlplanes),
                    tuple(n.address for n in record.workers), remaining, view)))
        if server is not None:
            # every VM has fetched its config from its launcher before create reports the
            # cluster (with --no-wait too); waited on in short slices so that a VM's exit
            # ends the wait at once
            async def configs_fetched() -> None:
                while not await asyncio.to_thread(server.wait_all_fetched, 0.5):
                    if time.monotonic() - started >= timeout:
                        raise CreateFailed("serve configs", "not every VM downloaded its "
                                           f"config within {wait_timeout}")

            asyncio.run(guarded(configs_fetched()))
    except KeyboardInterrupt:
        if server is not None:
            server.stop()
        cleanup(opts, lambda m: say(f"[dim]·[/] {m}"))
        _fail("cluster create interrupted: everything it created has been removed")
        return
    except (TalosError, OSError) as e:
        if server is not None:
            server.stop()
        failing = _failing_node(record, str(e)) or record.controlplanes[0]
        step, cause = (e.step, e.cause) if isinstance(e, CreateFailed) else (
            "wait for health" if wait else "bootstrap etcd", str(e))
        err = CreateFailed(step, cause, node=failing.name, log_tail=node_log_tail(failing.log_path))
        cleanup(opts, lambda m: say(f"[dim]·[/] {m}"))
        _fail(str(err))
        return
    if server is not None:
        server.stop()
    record = mark_running(record)

    # merge the context into the talosconfig
    path = resolve_path(_global(ctx).talosconfig)
    try:
        merged, renames = Talosconfig.load(path).merge(talosconfig)
        merged.save(path)
    except TalosError as e:
        _fail(f"the cluster is up, but merging its context into {path} failed: {e} "
              f"(its talosconfig is at {record.talosconfig})")
        return
    context_name = dict(renames).get(name, name)
    elapsed = time.monotonic() - started
    kube_note = "kubeconfig: skipped (--skip-kubeconfig)"
    if not skip_kubeconfig:
        from talos.talosctl.kubeconfig import kubeconfig as kubeconfig_cmd

        try:
            ctx.invoke(kubeconfig_cmd, local_path=None, force=False, merge=True,
                       force_context_name="")
            kube_note = ("kubeconfig: merged (admin credentials for "
                         f"https://{first_cp.address}:6443; no kube-apiserver answers there)")
        except click.ClickException as e:
            kube_note = f"kubeconfig: not merged: {e.format_message()}"
    click.echo(_summary(record, path, context_name, elapsed, wait, kube_note))


def _failing_node(record: Any, message: str) -> Any:
    for n in record.nodes:
        if n.address in message or n.name in message:
            return n
    return None


def _summary(record: Any, path: Path, context_name: str, elapsed: float, waited: bool,
             kube_note: str) -> str:
    lines = [
        "",
        f"PROVISIONER           {_provisioner(record)}",
        f"NAME                  {record.name}",
        f"NETWORK NAME          {record.bridge}",
        f"NETWORK CIDR          {record.cidr}",
        f"NETWORK GATEWAY       {record.cidr.rsplit('.', 1)[0]}.1",
        f"STATE                 {record.directory}",
        f"TALOSCONFIG           {path} (context {context_name!r}, endpoints "
        f"{', '.join(n.address for n in record.controlplanes)})",
        f"{'HEALTHY' if waited else 'STARTED'}               in {elapsed:.1f}s",
        "",
        _nodes_table(record),
        "",
        K8S_NOTE,
        kube_note,
    ]
    return "\n".join(lines)


def _provisioner(record: Any) -> str:
    return "qemu (VMs)" if record.provisioner == "qemu" else "sandbox (namespaces)"


def _nodes_table(record: Any, status: dict[str, str] | None = None) -> str:
    rows = [("NAME", "TYPE", "IP", "PID", "STATE", "LOG")]
    from talos.provision.sandbox import node_machined_pid

    for n in record.nodes:
        # a node booted from the image has a new machined at each boot: the current one
        pid = node_machined_pid(n) if n.boot_dir else n.pid
        alive = _alive(n.launcher_pid if n.boot_dir else pid)
        state = (status or {}).get(n.name, "running" if alive else "stopped")
        rows.append((n.name, n.role, n.address, str(pid or "-"), state, n.log_path))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True))
                     + "   " + r[-1] for r in rows)


def _alive(pid: int) -> bool:
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


@cluster.command("show")
@_name_option
@_state_option
def show(name: str, state: str) -> None:
    """Shows info about a local provisioned cluster."""
    from talos.machinery.errors import TalosError
    from talos.provision.state import ClusterRecord

    directory = Path(state).expanduser().resolve() / name
    try:
        record = ClusterRecord.load(directory)
    except TalosError as e:
        _fail(f"cluster {name!r}: {e}")
        return
    click.echo(f"PROVISIONER       {_provisioner(record)}\n"
               f"NAME              {record.name}\n"
               f"STATUS            {record.status}\n"
               f"NETWORK NAME      {record.bridge}\n"
               f"NETWORK CIDR      {record.cidr}\n"
               f"STATE             {record.directory}\n"
               f"TALOSCONFIG       {record.talosconfig or '-'}\n\n"
               f"NODES:\n\n{_nodes_table(record)}")


@cluster.command("destroy")
@_name_option
@_state_option
@click.option("--timeout", "stop_timeout", default="30s", show_default=True,
              help="how long to wait for each node's graceful shutdown before SIGKILL")
def destroy(name: str, state: str, stop_timeout: str) -> None:
    """Destroys a local provisioned cluster."""
    from talos.provision.destroy import destroy_cluster

    timeout = parse_duration(stop_timeout, "--timeout")
    _require_root()
    started = time.monotonic()
    report = destroy_cluster(state, name, timeout=timeout)
    if report.nothing_left:
        click.echo(f"cluster {name!r}: nothing to destroy (already gone)")
        return
    parts = [f"{len(report.stopped_gracefully)} node(s) stopped gracefully"]
    if report.killed:
        parts.append(f"{len(report.killed)} process(es) killed")
    if report.links:
        parts.append(f"links removed: {', '.join(report.links)}")
    if report.mounts:
        parts.append(f"{len(report.mounts)} mount(s) detached")
    click.echo(f"destroyed cluster {name!r} in {time.monotonic() - started:.1f}s: "
               + "; ".join(parts))
