"""Create a local cluster: configs, bridge, node sandboxes, etcd bootstrap.

`provision()` does the host-side work in named steps and records each in the cluster's
state file; any failure undoes everything created so far (through `destroy_cluster`) and
raises `CreateFailed` naming the step, and, when a node is at fault, its log tail.
Waiting for health and merging the talosconfig are the caller's (`talosctl cluster create`).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from talos.machinery.client.talosconfig import Context, Talosconfig
from talos.machinery.config import apply_patches, load_patch_arg
from talos.machinery.config.generate import GenerateOptions, generate
from talos.machinery.errors import AlreadyExists, InvalidArgument, TalosError
from talos.machinery.secrets.bundle import SecretsBundle
from talos.provision import bytecode, discovery, image, network, registry, sandbox
from talos.provision.destroy import destroy_cluster
from talos.provision.state import ClusterRecord, NodeRecord

_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$")


@dataclass(frozen=True)
class CreateOptions:
    name: str
    state_dir: Path
    cidr: str
    controlplanes: int = 1
    workers: int = 1
    config_patches: tuple[str, ...] = ()
    config_patches_controlplane: tuple[str, ...] = ()
    config_patches_worker: tuple[str, ...] = ()
    #: interpreter for machined inside the nodes (default: this one)
    python: str | None = None
    #: `--image`: nodes boot the OS image's root squashfs through their firmware
    #: (provision/image.py says what the value may be); empty: they run the host's root
    image: str = ""

    def validate(self) -> None:
        if not _NAME.match(self.name):
            raise InvalidArgument(f"--name: {self.name!r} is not a valid cluster name "
                                  "(lowercase letters, digits and '-', at most 42)")
        if self.controlplanes < 1:
            raise InvalidArgument(f"--controlplanes: {self.controlplanes}: a cluster needs at "
                                  "least one control plane")
        if self.workers < 0:
            raise InvalidArgument(f"--workers: {self.workers}: expected 0 or more")

    @property
    def directory(self) -> Path:
        return self.state_dir.expanduser().resolve() / self.name


class CreateFailed(TalosError):
    """A create step failed; everything created has been removed again."""

    def __init__(self, step: str, cause: str, *, node: str = "", log_tail: str = "") -> None:
        self.step = step
        self.cause = cause
        self.node = node
        self.log_tail = log_tail
        msg = f"cluster create failed at step {step!r}"
        if node:
            msg += f" (node {node})"
        msg += f": {cause}"
        if log_tail:
            msg += f"\n--- last lines of {node}'s log ---\n{log_tail}"
        super().__init__(msg)


@dataclass(frozen=True)
class Plan:
    """What will be created: node names, roles and addresses."""

    net: network.ClusterNetwork
    nodes: tuple[tuple[str, str, str], ...]  # (name, role, address)

    @property
    def controlplane_addresses(self) -> tuple[str, ...]:
        return tuple(a for _, r, a in self.nodes if r == "controlplane")


def plan(opts: CreateOptions) -> Plan:
    opts.validate()
    net = network.ClusterNetwork(opts.name, network.parse_cidr(opts.cidr))
    nodes = []
    for i in range(opts.controlplanes):
        nodes.append((f"{opts.name}-controlplane-{i + 1}", "controlplane",
                      str(net.node_address(i))))
    for i in range(opts.workers):
        nodes.append((f"{opts.name}-worker-{i + 1}", "worker",
                      str(net.node_address(opts.controlplanes + i))))
    return Plan(net, tuple(nodes))


def node_config(base: str, hostname: str, patches: Sequence[str], gateway: str = "",
                with_registry: bool = False) -> str:
    """The node's config: the generated one, its hostname (and the cluster's discovery
    service at `gateway`, and its registry as a mirror when `with_registry`), then the
    user's patches."""
    own = f"machine:\n  network:\n    hostname: {hostname}\n"
    if gateway:
        own += discovery.config_patch(gateway)
    mirror = [registry.config_patch(gateway)] if gateway and with_registry else []
    loaded = [own, *mirror, *(load_patch_arg(p) for p in patches)]
    sources = ["hostname", *(["registry mirror"] if mirror else []),
               *(p if p.startswith("@") else f"--config-patch #{i + 1}"
                 for i, p in enumerate(patches))]
    result: str = apply_patches(base, loaded, sources=sources)
    return result


def cluster_talosconfig(name: str, generated: Talosconfig,
                        endpoints: tuple[str, ...]) -> Talosconfig:
    """The generated admin context with endpoints = control planes, node = the first one."""
    ctx = generated.get(name)
    ctx = replace(ctx, endpoints=endpoints, nodes=endpoints[:1])
    return Talosconfig(context=name, contexts={name: ctx})


def write_cluster_state(record: ClusterRecord, secrets: SecretsBundle,
                        talosconfig: Talosconfig) -> ClusterRecord:
    """The cluster's directory (0700) with its record, secrets and talosconfig; the record
    naming that talosconfig."""
    directory = Path(record.directory)
    directory.mkdir(parents=True, mode=0o700)
    record.save()
    secrets.save(directory / "secrets.yaml")
    talosconfig.save(directory / "talosconfig")
    record = replace(record, talosconfig=str(directory / "talosconfig"))
    record.save()
    return record


def refuse_existing(opts: CreateOptions, p: Plan) -> None:
    """AlreadyExists when the cluster's directory or bridge is there."""
    if opts.directory.exists() or network.link_exists(p.net.bridge):
        raise AlreadyExists(
            f"cluster {opts.name!r} already exists ({opts.directory}"
            f"{', link ' + p.net.bridge if network.link_exists(p.net.bridge) else ''}): "
            f"destroy it first with `talosctl cluster destroy --name {opts.name} "
            f"--state {opts.state_dir}`")


Report = Callable[[str], None]


def provision(opts: CreateOptions, report: Report) -> tuple[ClusterRecord, Talosconfig]:
    """Create the cluster's files, network and nodes; returns the record and its talosconfig
    context. On failure everything is removed and CreateFailed raised."""
    p = plan(opts)
    directory = opts.directory
    refuse_existing(opts, p)
    boot_image = None
    if opts.image:
        step = "find image"
        try:
            boot_image = image.sandbox_boot_image(opts.image, report)
        except (TalosError, OSError) as e:
            raise CreateFailed(step, str(e)) from None
    step = "check network"
    report(f"checking that {p.net.cidr} is free on this host")
    network.check_cidr_free(p.net.cidr)

    step = "generate configs"
    report("generating PKI, machine configs and the talosconfig")
    cps = p.controlplane_addresses
    try:
        # the cluster's registry (issue 18) runs when Debian's docker-registry is installed
        with_registry = registry.available()
        gen_opts = GenerateOptions(cluster_name=opts.name, endpoint=f"https://{cps[0]}:6443",
                                   talosconfig_endpoints=cps)
        generated = generate(gen_opts)

        def config_of(name: str, role: str) -> str:
            base = generated.controlplane if role == "controlplane" else generated.worker
            patches = (*opts.config_patches, *(opts.config_patches_controlplane
                                               if role == "controlplane"
                                               else opts.config_patches_worker))
            return node_config(base, name, patches, gateway=str(p.net.gateway),
                               with_registry=with_registry)

        # Without patches of the user's (which may fail: found out here, before anything is
        # created) a node's config is made just before it is launched (~0.1 s each), so the
        # first nodes start while the next configs are made.
        configs: dict[str, str] = {}
        if opts.config_patches or opts.config_patches_controlplane or \
                opts.config_patches_worker:
            configs = {name: config_of(name, role) for name, role, _addr in p.nodes}
    except TalosError as e:
        raise CreateFailed(step, str(e)) from None
    talosconfig = cluster_talosconfig(opts.name, generated.talosconfig, cps)

    record = ClusterRecord(name=opts.name, cidr=str(p.net.cidr), bridge=p.net.bridge,
                           directory=str(directory), created=time.time(),
                           nodes=tuple(NodeRecord(n, r, a, str(directory / n))
                                       for n, r, a in p.nodes))
    failed_node = ""
    try:
        step = "record state"
        record = write_cluster_state(record, generated.secrets, talosconfig)

        # Nodes first: machined's start-up (a second or more of imports) then overlaps the
        # bridge and veths being made here; a node waits for its eth0 address anyway.
        step = "launch nodes"
        bytecode.ensure_compiled()  # the nodes cannot cache bytecode themselves (read-only)
        for node in record.nodes:
            failed_node = node.name
            report(f"launching {node.name} ({node.role}, {node.address})")
            sb = sandbox.launch(node.directory, name=node.name,
                                config=(configs.get(node.name)
                                        or config_of(node.name, node.role)).encode(),
                                python=opts.python, image=boot_image)
            if not sb.firmware and not sb.pid:
                raise CreateFailed("launch nodes", "machined did not start", node=node.name,
                                   log_tail=sb.log_tail())
            veth = network.host_veth_name(opts.name, node.name)
            # a node with firmware: its machined changes with each boot, none is recorded
            record = record.with_node(replace(
                node, pid=0 if sb.firmware else sb.pid, launcher_pid=sb.process.pid,
                veth=veth, boot_dir=str(sb.directory / "boot") if sb.firmware else ""))
            record.save()
            # the node outlives this process by design (destroy stops it by pid): tell the
            # Popen object not to warn about a child still running when it is collected
            sb.process.returncode = 0
        failed_node = ""

        step = "create bridge"
        report(f"creating bridge {p.net.bridge} ({p.net.gateway}/{p.net.cidr.prefixlen})")
        network.create_bridge(p.net)
        step = "start discovery service"
        record = replace(record, discovery_pid=discovery.launch(directory, str(p.net.gateway),
                                                                opts.python))
        record.save()
        if with_registry:
            step = "start registry"
            record = replace(record, registry_pid=registry.launch(directory,
                                                                  str(p.net.gateway)))
            record.save()

        step = "attach nodes"
        for i, node in enumerate(record.nodes):
            failed_node = node.name
            # the network namespace's holder: the firmware of a node booted from the image
            network.attach_node(p.net, node.name, node.launcher_pid if node.boot_dir
                                else node.pid, p.net.node_address(i))
        failed_node = ""
        step = "nodes running"
        for node in record.nodes:
            if not _alive(node.launcher_pid if node.boot_dir else node.pid):
                failed_node = node.name
                raise CreateFailed(step, "machined exited", node=node.name,
                                   log_tail=node_log_tail(node.log_path))
    except BaseException as e:
        cleanup(opts, report)
        if isinstance(e, CreateFailed):
            raise
        if isinstance(e, (TalosError, OSError)):
            raise CreateFailed(step, str(e), node=failed_node,
                               log_tail=node_log_tail(record.node(failed_node).log_path)
                               if failed_node else "") from None
        raise
    return record, talosconfig


def cleanup(opts: CreateOptions, report: Report) -> None:
    report(f"cleaning up what was created of {opts.name}")
    destroy_cluster(opts.state_dir, opts.name, timeout=5.0)


def mark_running(record: ClusterRecord) -> ClusterRecord:
    record = replace(record, status="running")
    record.save()
    return record


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def node_log_tail(path: str, lines: int = 20) -> str:
    """The last `lines` lines of a node's log, or a note saying why there are none."""
    try:
        text = "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
        return text or "(the log is still empty: machined had not started logging)"
    except OSError:
        return "(no log)"


async def _port_open(host: str, port: int) -> bool:
    try:
        _reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def bootstrap(ctx: Context, node: str, wait_timeout: float) -> str:
    """Bootstrap etcd on `node` once its apid listens. Returns what happened; a node that
    does not implement Bootstrap is reported, not failed."""
    import grpc

    from talos.api.machine import machine_pb2, machine_pb2_grpc
    from talos.machinery.client.connection import ConnectionOptions, connect
    from talos.machinery.constants import APID_PORT

    deadline = time.monotonic() + wait_timeout
    # a gRPC channel that failed to connect backs off for seconds: knock on the port first
    while not await _port_open(node, APID_PORT):
        if time.monotonic() >= deadline:
            raise CreateFailed("bootstrap etcd", f"apid on {node}:{APID_PORT} did not start "
                               f"listening within {wait_timeout:g}s", node=node)
        await asyncio.sleep(0.05)
    conn = await connect(ConnectionOptions.from_context(ctx, endpoints=(node,)))
    try:
        stub = machine_pb2_grpc.MachineServiceStub(conn.channel)
        last = ""
        while time.monotonic() < deadline:
            try:
                await stub.Bootstrap(machine_pb2.BootstrapRequest(), wait_for_ready=True,
                                     timeout=max(0.1, min(5.0, deadline - time.monotonic())))
                return f"etcd bootstrapped on {node}"
            except grpc.RpcError as e:
                code = e.code()
                if code == grpc.StatusCode.UNIMPLEMENTED:
                    return (f"etcd bootstrap pending: {node} does not implement Bootstrap yet "
                            f"({e.details()})")
                if code == grpc.StatusCode.ALREADY_EXISTS:
                    return f"etcd already bootstrapped on {node}"
                last = str(conn.explain(e))
            await asyncio.sleep(0.1)
        raise CreateFailed("bootstrap etcd", f"timed out after {wait_timeout:g}s: {last}",
                           node=node)
    finally:
        await conn.close()
