"""File commands: `read`, `list`/`ls [-l] [-r] [-d]`, `copy`/`cp`, `usage`/`du`.

Paths are node paths (machined confines them to the node's filesystem); errors for one
entry (permission denied, vanished file) are printed to stderr and make the exit non-zero
without stopping the listing, as talosctl does.
"""

from __future__ import annotations

import io
import os
import sys
import tarfile
from pathlib import Path

import click

from talos.talosctl.nodeapi import Session, call, echo_table, humanize_bytes
from talos.talosctl.timefmt import lastmod

#: -t letter -> machine.ListRequest.Type label
FILE_TYPES = {"f": "REGULAR", "d": "DIRECTORY", "l": "SYMLINK"}


def _single_node(ctx: click.Context, what: str) -> None:
    from talos.talosctl.nodeapi import target
    nodes = target(ctx)
    if len(nodes) > 1:
        raise click.ClickException(f"{what} works with one node at a time, got {len(nodes)}: "
                                   f"{', '.join(nodes)} (use -n <node>)")


@click.command()
@click.argument("path", metavar="<path>")
@click.pass_context
def read(ctx: click.Context, path: str) -> None:
    """Read a file on the machine."""
    from talos.api.machine import machine_pb2 as m
    _single_node(ctx, "read")

    async def run(s: Session) -> None:
        out = sys.stdout.buffer
        async for chunk in s.machine().Read(m.ReadRequest(path=path), metadata=s.md):
            if chunk.metadata.error:
                s.errors.append((s.node_of(chunk), chunk.metadata.error))
                continue
            out.write(chunk.bytes)
        out.flush()
        s.raise_errors()

    call(ctx, run)


def _mode_string(mode: int) -> str:
    """Go's os.FileMode.String() of the mode the node sends: drwxr-xr-x, Lrwxrwxrwx."""
    out = "".join(c for i, c in enumerate("dalTLDpSugct?") if mode & (1 << (31 - i)))
    rwx = "rwxrwxrwx"
    perms = "".join(c if mode & (1 << (8 - i)) else "-" for i, c in enumerate(rwx))
    return (out or "-") + perms


def _types(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> list[str]:
    """-t as Talos parses it: `-t f -t l`, `-t f,l` or `-tfl`; l and L both mean symlinks."""
    out = []
    for item in value:
        for ch in item.replace(",", ""):
            if ch not in FILE_TYPES and ch != "L":
                raise click.BadParameter(f"invalid file type: {ch!r} (expected f, d, l or L)")
            out.append(FILE_TYPES[ch.lower()])
    return out


@click.command(name="list")
@click.argument("path", metavar="[path]", required=False, default="")
@click.option("-l", "--long", "long_", is_flag=True, help="display additional file details")
@click.option("-r", "--recurse", is_flag=True, help="recurse into subdirectories")
@click.option("-d", "--depth", type=click.IntRange(min=1), default=1, show_default=True,
              help="maximum recursion depth")
@click.option("-H", "--humanize", is_flag=True, help="humanize size and time in the output")
@click.option("-t", "--type", "types", multiple=True, callback=_types, metavar="TYPES",
              help="filter by specified types: f (regular file), d (directory), "
                   "l, L (symbolic link)")
@click.pass_context
def list_(ctx: click.Context, path: str, long_: bool, recurse: bool, depth: int,
          humanize: bool, types: list[str]) -> None:
    """Retrieve a directory listing."""
    from talos.api.machine import machine_pb2 as m
    # as talosctl: -r means unlimited unless a depth > 1 is given
    rdepth = depth if depth > 1 else (-1 if recurse else 1)
    req = m.ListRequest(root=path, recurse=rdepth != 1, recursion_depth=rdepth,
                        types=types)

    async def run(s: Session) -> None:
        rows: list[tuple[str, ...]] = [
            ("NODE", "MODE", "UID", "GID", "SIZE(B)", "LASTMOD", "NAME") if long_
            else ("NODE", "NAME")]
        async for fi in s.machine().List(req, metadata=s.md):
            node = s.node_of(fi)
            if fi.metadata.error:
                s.errors.append((node, fi.metadata.error))
                continue
            if fi.error:
                click.echo(f"{node}: error reading file {fi.name}: {fi.error}", err=True)
                s.errors.append((node, f"error reading file {fi.name}: {fi.error}"))
                continue
            name = fi.relative_name or fi.name
            if fi.link:
                name += f" -> {fi.link}"
            if long_:
                size = humanize_bytes(fi.size) if humanize else str(fi.size)
                rows.append((node, _mode_string(fi.mode), str(fi.uid), str(fi.gid), size,
                             lastmod(fi.modified, humanize=humanize), name))
            else:
                rows.append((node, name))
        echo_table(rows)
        s.raise_errors()

    call(ctx, run)


@click.command()
@click.argument("paths", metavar="[path1] [path2] ... [pathN]", nargs=-1)
@click.option("-a", "--all", "all_", is_flag=True, help="write counts for all files, not "
              "just directories")
@click.option("-d", "--depth", type=click.IntRange(min=0), default=0,
              help="maximum recursion depth (0: unlimited)")
@click.option("-H", "--humanize", is_flag=True, help="humanize size and time in the output")
@click.option("-t", "--threshold", type=int, default=0, help="threshold exclude entries "
              "smaller than SIZE if positive, or entries greater than SIZE if negative")
@click.pass_context
def usage(ctx: click.Context, paths: tuple[str, ...], all_: bool, depth: int, humanize: bool,
          threshold: int) -> None:
    """Retrieve a disk usage.

    Without a path the node reports /var (Talos reports /, but a node serves files only
    below its allowed roots: /var, /system, /etc, ...).
    """
    from talos.api.machine import machine_pb2 as m
    req = m.DiskUsageRequest(paths=list(paths), all=all_, recursion_depth=depth,
                             threshold=threshold)

    async def run(s: Session) -> None:
        rows: list[tuple[str, ...]] = [("NODE", "SIZE", "NAME")]
        async for du in s.machine().DiskUsage(req, metadata=s.md):
            node = s.node_of(du)
            if du.metadata.error:
                s.errors.append((node, du.metadata.error))
                continue
            if du.error:
                click.echo(f"{node}: error reading file {du.name}: {du.error}", err=True)
                s.errors.append((node, f"error reading file {du.name}: {du.error}"))
                continue
            size = humanize_bytes(du.size) if humanize else str(du.size)
            rows.append((node, size, du.relative_name or du.name))
        echo_table(rows)
        s.raise_errors()

    call(ctx, run)


def _safe_extract(data: bytes, dest: Path) -> int:
    """Extract a gzipped tar into `dest`, refusing members that escape it. Returns count."""
    count = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.isdev():
                continue
            tar.extract(member, dest, filter="data")
            count += 1
    return count


@click.command()
@click.argument("src", metavar="<src-path>")
@click.argument("dest", metavar="-|<local-path>", required=False, default=".")
@click.pass_context
def copy(ctx: click.Context, src: str, dest: str) -> None:
    """Copy data out from the node.

    Data is copied as a gzipped tar: `-` writes it to stdout, a local path extracts it
    there (one sub-directory per node when several nodes are targeted).
    """
    from talos.api.machine import machine_pb2 as m
    from talos.talosctl.nodeapi import target
    nodes = target(ctx)
    if dest == "-" and len(nodes) > 1:
        raise click.ClickException("copying to stdout works with one node at a time "
                                   f"(got {', '.join(nodes)})")

    async def run(s: Session) -> None:
        import asyncio
        per_node: dict[str, bytearray] = {}
        async for chunk in s.machine().Copy(m.CopyRequest(root_path=src), metadata=s.md):
            node = s.node_of(chunk)
            if chunk.metadata.error:
                s.errors.append((node, chunk.metadata.error))
                continue
            if dest == "-":
                sys.stdout.buffer.write(chunk.bytes)
            else:
                per_node.setdefault(node, bytearray()).extend(chunk.bytes)
        if dest == "-":
            sys.stdout.buffer.flush()
        for node, data in per_node.items():
            target_dir = Path(dest) / node if len(nodes) > 1 else Path(dest)
            await asyncio.to_thread(os.makedirs, target_dir, exist_ok=True)
            try:
                await asyncio.to_thread(_safe_extract, bytes(data), target_dir)
            except (tarfile.TarError, OSError) as e:
                s.errors.append((node, f"extracting into {str(target_dir)!r}: {e}"))
        s.raise_errors()

    call(ctx, run)
