"""`talosctl image list` and `talosctl image pull IMAGE` (alias `images`; Talos v1.13.9).

`--namespace cri` (default: Kubernetes' `k8s.io`) or `system`, as upstream. Both go through
MachineService ImageList/ImagePull, fanned out to every `-n` node as upstream's client does;
list prints NODE IMAGE DIGEST SIZE CREATED (size in SI units, created as RFC 3339), pull
prints nothing when every node pulled the image.
"""

from __future__ import annotations

from typing import Any

import click

from talos.talosctl.nodeapi import Session, call, echo_table, humanize_bytes


class _AliasedGroup(click.Group):
    ALIASES = {"l": "list", "ls": "list", "p": "pull"}

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, self.ALIASES.get(cmd_name, cmd_name))


def api_namespace(name: str) -> int:
    from talos.api.common import common_pb2
    if name == "cri":
        return int(common_pb2.NS_CRI)
    if name == "system":
        return int(common_pb2.NS_SYSTEM)
    raise click.ClickException(f'unsupported namespace "{name}"')


_NAMESPACE = click.option("--namespace", default="cri", show_default=True,
                          help="namespace to use: `system` (etcd and kubelet images) or `cri` "
                               "for all Kubernetes workloads")


@click.group(cls=_AliasedGroup)
def image() -> None:
    """Manage CRI container images."""


def _created(ts: Any) -> str:
    from datetime import UTC, datetime
    return datetime.fromtimestamp(ts.seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@image.command("list")
@_NAMESPACE
@click.pass_context
def list_(ctx: click.Context, namespace: str) -> None:
    """List CRI images."""
    from talos.api.machine import machine_pb2 as m
    ns = api_namespace(namespace)

    async def run(s: Session) -> None:
        rows = [("NODE", "IMAGE", "DIGEST", "SIZE", "CREATED")]
        async for msg in s.machine().ImageList(m.ImageListRequest(namespace=ns),  # type: ignore[arg-type]
                                               metadata=s.md):
            for ok in s.ok([msg]):
                rows.append((s.node_of(ok), ok.name, ok.digest, humanize_bytes(ok.size),
                             _created(ok.created_at)))
        echo_table(rows)
        s.raise_errors()

    call(ctx, run)


@image.command("pull")
@click.argument("image_ref", metavar="<image>")
@_NAMESPACE
@click.pass_context
def pull(ctx: click.Context, image_ref: str, namespace: str) -> None:
    """Pull an image into CRI."""
    from talos.api.machine import machine_pb2 as m
    ns = api_namespace(namespace)

    async def run(s: Session) -> None:
        reply = await s.machine().ImagePull(
            m.ImagePullRequest(namespace=ns, reference=image_ref),  # type: ignore[arg-type]
            metadata=s.md)
        s.ok(reply.messages)
        s.raise_errors()

    call(ctx, run)
