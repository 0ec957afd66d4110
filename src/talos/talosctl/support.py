"""`talosctl support [-O support.zip]`: a zip of logs, resources and state per node.

Layout (as Talos's bundle): `<node>/version`, `<node>/services`, `<node>/service-logs/
<id>.log`, `<node>/dmesg.log`, `<node>/processes`, `<node>/memory`, `<node>/mounts`,
`<node>/resources/<type>.yaml`, and `errors.txt` listing what could not be collected (a
collector failing never stops the bundle). Progress goes to stderr, one line per item.
The zip is written to a temporary file and renamed into place when complete.

The bundle is attached to bug reports, so it holds no secret: the machine config is written
with every secret value replaced by "******" (structure kept, as readers see it), and the
spec of any other resource whose definition says `sensitivity: sensitive` is written as
`<REDACTED>` (as Talos's support bundle, go-talos-support v0.3, does).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import zipfile
from collections.abc import Awaitable, Callable
from typing import Any

import click

from talos.talosctl.nodeapi import Session, call, format_table

META_NS = "meta"
RD_TYPE = "ResourceDefinitions.meta.cosi.dev"
MACHINE_CONFIG_TYPE = "MachineConfigs.config.talos.dev"
#: the spec of a sensitive resource in the bundle (Talos's go-talos-support writes the same)
SENSITIVE_SPEC = "<REDACTED>"


def _bundle_spec(rtype: str, sensitive: bool, yaml_spec: str) -> str:
    """What the bundle may show of a resource's spec."""
    if rtype == MACHINE_CONFIG_TYPE:
        from talos.machinery.config.redact import redact_yaml
        return redact_yaml(yaml_spec)
    return SENSITIVE_SPEC if sensitive else yaml_spec


class Bundle:
    def __init__(self, path: str) -> None:
        self.path = path
        fd, self.tmp = tempfile.mkstemp(prefix=".support-", suffix=".zip",
                                        dir=os.path.dirname(os.path.abspath(path)))
        os.close(fd)
        self.zip = zipfile.ZipFile(self.tmp, "w", compression=zipfile.ZIP_DEFLATED)
        self.errors: list[str] = []
        self.done = 0

    def add(self, name: str, data: bytes | str) -> None:
        self.zip.writestr(name, data)

    def close(self, ok: bool) -> None:
        if self.errors:
            self.zip.writestr("errors.txt", "\n".join(self.errors) + "\n")
        self.zip.close()
        if not ok:
            os.unlink(self.tmp)
            return
        with open(self.tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(self.tmp, self.path)


async def _collect_node(s: Session, node: str, label: str, bundle: Bundle,
                        step: Callable[[str], None]) -> None:
    from google.protobuf import empty_pb2

    from talos.api.machine import machine_pb2 as m
    from talos.api.v1alpha1 import state_pb2, state_pb2_grpc
    api = s.machine()
    md = (("node", node),) if node else ()

    async def item(name: str, fn: Callable[[], Awaitable[bytes | str]]) -> None:
        import grpc
        try:
            data = await fn()
        except grpc.RpcError as e:
            bundle.errors.append(f"{label}/{name}: {s.conn.explain(e)}")
        else:
            bundle.add(f"{label}/{name}", data)
        step(f"{label}/{name}")

    async def stream_bytes(call_: Any) -> bytes:
        out = bytearray()
        async for chunk in call_:
            out += chunk.bytes
        return bytes(out)

    async def version() -> str:
        r = await api.Version(empty_pb2.Empty(), metadata=md)
        v = r.messages[0].version
        return f"Tag: {v.tag}\nSHA: {v.sha}\nOS/Arch: {v.os}/{v.arch}\n"

    svc_ids: list[str] = []

    async def services() -> str:
        r = await api.ServiceList(empty_pb2.Empty(), metadata=md)
        rows = [("SERVICE", "STATE", "HEALTH", "LAST EVENT")]
        for svc in r.messages[0].services:
            svc_ids.append(svc.id)
            ev = svc.events.events
            rows.append((svc.id, svc.state, "OK" if svc.health.healthy else "?",
                         ev[-1].msg.split("\n", 1)[0] if ev else ""))
        return format_table(rows)

    async def processes() -> str:
        from talos.talosctl.processes import process_rows
        r = await api.Processes(empty_pb2.Empty(), metadata=md)
        return format_table(process_rows(Session(s.conn, [node] if node else []), r, "rss"))

    async def memory() -> str:
        r = await api.Memory(empty_pb2.Empty(), metadata=md)
        return str(r.messages[0].meminfo)

    async def mounts() -> str:
        r = await api.Mounts(empty_pb2.Empty(), metadata=md)
        return "".join(f"{st.filesystem} {st.mounted_on} {st.size} {st.available}\n"
                       for st in r.messages[0].stats)

    await item("version", version)
    await item("services", services)
    for sid in svc_ids:
        await item(f"service-logs/{sid}.log", lambda sid=sid: stream_bytes(  # type: ignore[misc]
            api.Logs(m.LogsRequest(id=sid, namespace="system", tail_lines=-1), metadata=md)))
    await item("dmesg.log", lambda: stream_bytes(api.Dmesg(m.DmesgRequest(), metadata=md)))
    await item("processes", processes)
    await item("memory", memory)
    await item("mounts", mounts)

    state = state_pb2_grpc.StateStub(s.conn.channel)
    defs: list[tuple[str, str, bool]] = []

    async def definitions() -> str:
        from ruamel.yaml import YAML
        text = []
        async for r in state.List(state_pb2.ListRequest(namespace=META_NS, type=RD_TYPE),
                                  metadata=md):
            spec = YAML(typ="safe", pure=True).load(r.resource.spec.yaml_spec) or {}
            if spec.get("type") and spec.get("defaultNamespace"):
                defs.append((spec["type"], spec["defaultNamespace"],
                             spec.get("sensitivity") == "sensitive"))
            text.append(r.resource.spec.yaml_spec)
        return "---\n".join(text)

    await item("resources/definitions.yaml", definitions)
    for rtype, ns, sensitive in sorted(defs):
        async def listing(rtype: str = rtype, ns: str = ns, sensitive: bool = sensitive
                          ) -> str:
            docs = []
            async for r in state.List(state_pb2.ListRequest(namespace=ns, type=rtype),
                                      metadata=md):
                md_ = r.resource.metadata
                spec = _bundle_spec(rtype, sensitive, r.resource.spec.yaml_spec)
                docs.append(f"node: {label}\nmetadata:\n  namespace: {md_.namespace}\n"
                            f"  type: {md_.type}\n  id: {md_.id}\n  version: {md_.version}\n"
                            "spec:\n" + "".join(f"  {ln}\n" for ln in
                                                spec.splitlines()))
            return "---\n".join(docs)
        await item(f"resources/{rtype}.yaml", listing)


@click.command()
@click.option("-O", "--output", default="support.zip", show_default=True,
              help="output file to write support archive to")
@click.option("-w", "--num-workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="number of nodes collected in parallel")
@click.option("-v", "--verbose", is_flag=True, help="verbose output (unused: progress is "
              "always shown on stderr)", hidden=True)
@click.pass_context
def support(ctx: click.Context, output: str, num_workers: int, verbose: bool) -> None:
    """Dump debug information about the cluster.

    Generated bundle contains the following debug information: logs of each service,
    kernel log, processes, memory, mounts, the node's resources and its versions.
    """
    if os.path.exists(output):
        raise click.ClickException(f"file {output!r} already exists (remove it or use -O)")
    try:
        bundle = Bundle(output)
    except OSError as e:
        raise click.ClickException(f"cannot create {output!r}: {e.strerror or e}") from None

    async def run(s: Session) -> None:
        sem = asyncio.Semaphore(num_workers)

        def step(name: str) -> None:
            bundle.done += 1
            click.echo(f"[{bundle.done:>3}] collected {name}", err=True)

        async def one(node: str) -> None:
            async with sem:
                await _collect_node(s, node, node or s.endpoint_host, bundle, step)

        async with asyncio.TaskGroup() as tg:
            for node in s.nodes or [""]:
                tg.create_task(one(node))

    ok = False
    try:
        call(ctx, run)
        ok = True
    finally:
        bundle.close(ok)
    click.echo(f"Support bundle is written to {output}"
               + (f" ({len(bundle.errors)} item(s) could not be collected: see errors.txt)"
                  if bundle.errors else ""), err=True)
