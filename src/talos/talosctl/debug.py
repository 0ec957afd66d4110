"""`talosctl debug <image-tar-path|image ref>`: run a debug container on one node (Talos
v1.13.9 `cmd/talosctl/cmd/talos/debug.go`).

An existing local file is imported into the node's containerd (ImageService.Import), any
other argument is pulled there (ImageService.Pull); then DebugService.ContainerRun runs it
as a privileged container with this terminal's or pipe's stdin, printing its output. A
terminal is put in raw mode and its size and SIGWINCH follow the container; SIGINT, SIGTERM,
SIGQUIT and SIGHUP are forwarded to it. Flags as upstream: `--args` (arguments, repeatable
or comma-separated) and `--namespace` (`inmem` default, `system` or `cri`). A container that
exits non-zero fails the command with `container exited with code N`, as upstream.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import click

from talos.talosctl.nodeapi import Session, call, target

IMPORT_CHUNK = 32 * 1024  # upstream's
READ_SIZE = 1024
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGHUP)


def containerd_instance(namespace: str) -> Any:
    """upstream's imageCmdFlagsType.containerdInstance()."""
    from talos.api.common import common_pb2 as c
    instances = {"cri": (c.CRI, c.NS_CRI), "system": (c.CRI, c.NS_SYSTEM),
                 "inmem": (c.CONTAINERD, c.NS_SYSTEM)}
    if namespace not in instances:
        raise click.ClickException(f'unsupported namespace "{namespace}"')
    driver, ns = instances[namespace]
    return c.ContainerdInstance(driver=driver, namespace=ns)


def _split_args(values: tuple[str, ...]) -> list[str]:
    """pflag's StringSlice: each value is comma-separated, values accumulate."""
    return [part for v in values for part in v.split(",")]


def _note(line: str) -> None:
    """A progress line of upstream's reporter (stderr)."""
    click.echo(line.strip(), err=True)


async def _import(s: Session, inst: Any, node: str, path: str) -> str:
    from talos.api.common import common_pb2
    from talos.api.machine import image_pb2, image_pb2_grpc
    from talos.machinery.client.connection import node_metadata

    def chunks() -> Iterator[Any]:
        yield image_pb2.ImageServiceImportRequest(containerd=inst)
        with open(path, "rb") as f:
            while data := f.read(IMPORT_CHUNK):
                yield image_pb2.ImageServiceImportRequest(
                    image_chunk=common_pb2.Data(bytes=data))

    try:
        resp = await image_pb2_grpc.ImageServiceStub(s.conn.channel).Import(
            chunks(), metadata=node_metadata(node))
    except OSError as e:
        raise click.ClickException(f"failed to import image: failed to open image tarball: "
                                   f"open {path}: {e.strerror}") from None
    _note(f"{node}: image imported {resp.name} from {path}")
    return str(resp.name)


async def _pull(s: Session, inst: Any, node: str, ref: str) -> str:
    from talos.api.machine import image_pb2, image_pb2_grpc
    from talos.machinery.client.connection import node_metadata
    name = ""
    async for resp in image_pb2_grpc.ImageServiceStub(s.conn.channel).Pull(
            image_pb2.ImageServicePullRequest(containerd=inst, image_ref=ref),
            metadata=node_metadata(node)):
        if resp.WhichOneof("response") == "name":
            name = resp.name
    if name:
        _note(f"{node}: pulled image {name}")
    return name


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


async def _stdin_chunks(fd: int) -> AsyncIterator[bytes]:
    """What arrives on `fd`, without blocking the loop (a regular file or /dev/null, which
    epoll refuses, never blocks and is read directly)."""
    loop = asyncio.get_running_loop()
    while True:
        ready: asyncio.Future[None] = loop.create_future()
        try:
            loop.add_reader(fd, _wake, ready)
        except PermissionError:
            ready.set_result(None)
        else:
            try:
                await ready
            finally:
                loop.remove_reader(fd)
        data = os.read(fd, READ_SIZE)
        if not data:
            return
        yield data


@contextlib.contextmanager
def _raw(fd: int, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    import termios
    import tty
    saved = termios.tcgetattr(fd)
    tty.setraw(fd)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


async def run_container(s: Session, node: str, inst: Any, image: str, args: list[str]) -> int:
    """ContainerRun with this process's stdin and stdout; the container's exit code (-1 when
    the node sent none)."""
    import grpc

    from talos.api.machine import debug_pb2 as d
    from talos.api.machine import debug_pb2_grpc
    from talos.machinery.client.connection import node_metadata

    stdin = sys.stdin.fileno()
    is_tty = os.isatty(stdin)
    out = sys.stdout.buffer
    loop = asyncio.get_running_loop()
    stream = debug_pb2_grpc.DebugServiceStub(s.conn.channel).ContainerRun(
        metadata=node_metadata(node))
    await stream.write(d.DebugContainerRunRequest(spec=d.DebugContainerRunRequestSpec(
        containerd=inst, image_name=image, args=args,
        profile=d.DebugContainerRunRequestSpec.PROFILE_PRIVILEGED, tty=is_tty)))
    # one writer: the stream takes a write only after the previous one completed
    outbox: asyncio.Queue[Any] = asyncio.Queue()

    def resize() -> None:
        if is_tty:
            size = os.get_terminal_size(stdin)
            outbox.put_nowait(d.DebugContainerRunRequest(
                term_resize=d.DebugContainerTerminalResize(width=size.columns,
                                                           height=size.lines)))

    async def send() -> None:
        while (req := await outbox.get()) is not None:
            await stream.write(req)
        await stream.done_writing()

    async def read_stdin() -> None:
        async for data in _stdin_chunks(stdin):
            outbox.put_nowait(d.DebugContainerRunRequest(stdin_data=data))
        outbox.put_nowait(None)

    async def receive() -> int:
        async for resp in stream:
            if resp.WhichOneof("resp") == "stdout_data":
                out.write(resp.stdout_data)
                out.flush()
            elif resp.WhichOneof("resp") == "exit_code":
                return int(resp.exit_code)
        return -1

    def forward(sig: int) -> None:
        outbox.put_nowait(d.DebugContainerRunRequest(signal=sig))

    for sig in FORWARDED:
        loop.add_signal_handler(sig, forward, int(sig))
    loop.add_signal_handler(signal.SIGWINCH, resize)
    resize()  # the initial size, as upstream
    try:
        with _raw(stdin, is_tty):
            async with asyncio.TaskGroup() as tg:
                sender = tg.create_task(send())
                reader = tg.create_task(read_stdin())
                code = await receive()
                reader.cancel()
                sender.cancel()
    except BaseExceptionGroup as eg:
        # the node's answer (NotFound, ...) is explained by call(), not the task group
        first = next((e for e in eg.exceptions if isinstance(e, grpc.RpcError)), None)
        if first is None:
            raise
        raise first from None
    finally:
        for sig in (*FORWARDED, signal.SIGWINCH):
            loop.remove_signal_handler(sig)
    return code


@click.command()
@click.argument("image", metavar="<image-tar-path|image ref>")
@click.option("--args", "args_", multiple=True, help="arguments to pass to the container")
@click.option("--namespace", default="inmem", show_default=True,
              help="namespace to use: `system` (CRI containerd) or `inmem` for in-memory "
                   "containerd instance")
@click.pass_context
def debug(ctx: click.Context, image: str, args_: tuple[str, ...], namespace: str) -> None:
    """Run a debug container from an image archive or reference.

    \b
    Examples:
      # Run a debug container from a local tar archive (image will be loaded into Talos from the archive)
        talosctl debug ./debug-tools.tar --args /bin/sh
      # Run a debug container from an image reference (Talos will pull the image if not present)
        talosctl debug docker.io/library/alpine:latest --args /bin/sh
    """  # noqa: E501
    nodes = target(ctx)
    if len(nodes) != 1:
        raise click.ClickException(f"expected exactly one node, got [{' '.join(nodes)}]")
    node = nodes[0]
    inst = containerd_instance(namespace)
    args = _split_args(args_)

    local = os.path.exists(image)  # upstream: a file there is imported, else pulled

    async def run(s: Session) -> int:
        if local:
            name = await _import(s, inst, node, image)
        else:
            name = await _pull(s, inst, node, image)
        return await run_container(s, node, inst, name, args)

    code = call(ctx, run, nodes=[node])
    if code not in (-1, 0):
        raise click.ClickException(f"container exited with code {code}")
