"""`talosctl kubeconfig [local-path]`: download the admin kubeconfig from a control plane and
write it, or merge it into an existing kubeconfig (default ~/.kube/config, `$KUBECONFIG`)."""

from __future__ import annotations

import os
from typing import Any

import click

from talos.talosctl.rpc import run_machine


def default_path() -> str:
    env = os.environ.get("KUBECONFIG", "")
    first = env.split(os.pathsep)[0] if env else ""
    return first or os.path.join(os.path.expanduser("~"), ".kube", "config")


@click.command()
@click.argument("local_path", required=False)
@click.option("-f", "--force", is_flag=True,
              help="Force overwrite of kubeconfig if already present, force overwrite on "
                   "kubeconfig merge")
@click.option("-m", "--merge", type=bool, default=True, show_default=True,
              help="Merge with existing kubeconfig")
@click.option("--force-context-name", default="",
              help="Force context name for kubeconfig merge")
@click.pass_context
def kubeconfig(ctx: click.Context, local_path: str | None, force: bool, merge: bool,
               force_context_name: str) -> None:
    """Download the admin kubeconfig from the node.

    If merge flag is true, config will be merged with ~/.kube/config or [local-path] if
    specified. Otherwise, kubeconfig will be written to PWD or [local-path] if specified."""
    from google.protobuf import empty_pb2

    from talos.machinery import kubeconfig as kc
    from talos.machinery.atomic import write_atomic
    from talos.machinery.errors import TalosError

    if local_path is None:
        local_path = default_path() if merge else os.path.join(os.getcwd(), "kubeconfig")
    if os.path.isdir(local_path):
        local_path = os.path.join(local_path, "kubeconfig")

    async def call(stub: Any, md: Any) -> bytes:
        blob = b""
        async for d in stub.Kubeconfig(empty_pb2.Empty(), metadata=md):
            if d.metadata.error:
                raise click.ClickException(f"{d.metadata.hostname}: {d.metadata.error}")
            blob += d.bytes
        return blob

    data = kc.from_tar_gz(run_machine(ctx, call, single_node=True))
    try:
        if merge and os.path.exists(local_path):
            with open(local_path, "rb") as f:
                existing = kc.load(f.read(), source=local_path)
            merged, name = kc.merge(existing, kc.load(data, source="kubeconfig"),
                                    force=force, context_name=force_context_name or None)
            write_atomic(local_path, kc.dump(merged), mode=0o600)
            click.echo(f"merged kubeconfig into {local_path!r}, context {name!r} is current",
                       err=True)
            return
        if os.path.exists(local_path) and not force:
            raise click.ClickException(f"kubeconfig file {local_path!r} already exists, use "
                                       "--force to overwrite or --merge to merge")
        if force_context_name:
            doc, _ = kc.merge({}, kc.load(data, source="kubeconfig"),
                              context_name=force_context_name)
            data = kc.dump(doc)
        write_atomic(local_path, data, mode=0o600)
    except TalosError as e:
        raise click.ClickException(str(e)) from None
