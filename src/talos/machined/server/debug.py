"""machine.DebugService (upstream v1.13.9 `api/machine/debug.proto`, `internal/app/debug`,
`talosctl debug`): ContainerRun runs an image of the node's containerd as a privileged debug
container with its stdin and output attached over a bidirectional stream.

The first request is the spec (an image the node already holds: `talosctl debug` imports or
pulls it first), then stdin data, signals and terminal resizes. The container is run by
Debian's `ctr run --rm` against the node's containerd (containerd 1.6 has no server-side
task I/O for a client to borrow: ctr creates the FIFOs and copies them), with upstream's
privileged profile: all capabilities and devices, the node's network, PID and IPC
namespaces, the node's / at /host, unconfined seccomp. Its stdout and stderr both come back
as `stdout_data` (upstream writes both to one stream) and the last message is the exit code.
`ctr` runs under the node's reaper (its exit status is the container's); when the client
goes away the task is killed and the container and its snapshot removed.

Differences from upstream: no per-container cgroup under /system/debug (the container gets
containerd's default), and with `tty` the terminal is a pty machined holds for `ctr -t`
(resizes set its size and tell ctr with SIGWINCH, which resizes the task).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import secrets
import shutil
import signal
import struct
import subprocess
import termios
from collections.abc import AsyncIterator
from typing import Any, TypeAlias

import grpc

from talos.api.containerd.services.tasks.v1 import tasks_pb2, tasks_pb2_grpc
from talos.api.containerd.types.task import task_pb2
from talos.api.machine import debug_pb2, debug_pb2_grpc
from talos.machined.server.context import NodeAPI
from talos.machined.server.images import get_image, instance_namespace
from talos.machined.services.containerd import socket_path
from talos.machined.system import command
from talos.machinery.errors import FailedPrecondition, InvalidArgument

log = logging.getLogger(__name__)

Ctx: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
Spec: TypeAlias = debug_pb2.DebugContainerRunRequestSpec
CLEANUP_TIMEOUT = 30.0
READ_SIZE = 4096
START_POLL = 0.02


def check_spec(first: debug_pb2.DebugContainerRunRequest | None) -> Spec:
    """Upstream's checks of the first message: the spec, naming an image, privileged."""
    if first is None or first.WhichOneof("request") != "spec":
        raise InvalidArgument("the first ContainerRun request must be the container spec")
    spec = first.spec
    if not spec.image_name:
        raise InvalidArgument("ContainerRun spec: image_name is required")
    if spec.profile != Spec.PROFILE_PRIVILEGED:
        raise InvalidArgument("unsupported debug container profile: "
                              f"{Spec.Profile.Name(spec.profile)} (expected PROFILE_PRIVILEGED)"
                              if spec.profile in Spec.Profile.values() else
                              f"unsupported debug container profile: {spec.profile}")
    return spec


def ctr_argv(ctr: str, sock: str, ns: str, spec: Spec, cid: str, node_pid: int) -> list[str]:
    """`ctr run` with upstream's privileged profile for `spec`."""
    argv = [ctr, "--address", sock, "--namespace", ns, "run", "--rm", "--privileged",
            "--net-host", "--with-ns", f"pid:/proc/{node_pid}/ns/pid",
            "--with-ns", f"ipc:/proc/{node_pid}/ns/ipc",
            "--mount", "type=bind,src=/,dst=/host,options=rbind:rw"]
    if spec.tty:
        argv.append("--tty")
    for k, v in sorted(spec.env.items()):
        argv += ["--env", f"{k}={v}"]
    return [*argv, "--", spec.image_name, cid, *spec.args]


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


async def _readable(fd: int) -> None:
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[None] = loop.create_future()
    loop.add_reader(fd, _wake, fut)
    try:
        await fut
    finally:
        loop.remove_reader(fd)


async def _writable(fd: int) -> None:
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[None] = loop.create_future()
    loop.add_writer(fd, _wake, fut)
    try:
        await fut
    finally:
        loop.remove_writer(fd)


async def read_some(fd: int) -> bytes:
    """Up to READ_SIZE bytes of a non-blocking fd; b"" at EOF (or a pty whose other side
    is closed: EIO)."""
    while True:
        try:
            return os.read(fd, READ_SIZE)
        except BlockingIOError:
            await _readable(fd)
        except OSError:  # EIO: the pty's last user is gone
            return b""


async def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            await _writable(fd)


class DebugRun:
    """One `ctr run` of a debug container: its pid, exit future and I/O fds (our ends)."""

    def __init__(self, node: NodeAPI, argv: list[str], *, tty: bool) -> None:
        self.tty = tty
        if tty:
            master, slave = os.openpty()
            child_in = child_out = slave
            self.stdin = self.output = master
            os.set_blocking(master, False)
        else:
            in_r, in_w = os.pipe()
            out_r, out_w = os.pipe()
            child_in, child_out = in_r, out_w
            self.stdin, self.output = in_w, out_r
            os.set_blocking(in_w, False)
            os.set_blocking(out_r, False)
        env = {"PATH": os.environ.get("PATH", ""), "HOME": "/"}
        try:
            # fork and exec, then register with the reaper before the loop runs again
            # (system/command.py: asyncio's child watcher would lose the status)
            proc = subprocess.Popen(argv, stdin=child_in, stdout=child_out, stderr=child_out,
                                    env=env, close_fds=True, start_new_session=tty)
        except BaseException:
            self._close_ours()
            raise
        finally:
            for fd in {child_in, child_out}:
                os.close(fd)
        self.pid = proc.pid
        self.exited = node.reaper.register(proc.pid)

    def _close_ours(self) -> None:
        for fd in {self.stdin, self.output}:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.stdin = self.output = -1

    def close_stdin(self) -> None:
        """The client's stdin ended: EOF for the container (a pipe; a pty gets ^D)."""
        if self.tty:
            with contextlib.suppress(OSError):
                os.write(self.stdin, b"\x04")
        elif self.stdin >= 0:
            os.close(self.stdin)
            self.stdin = -1

    def resize(self, width: int, height: int) -> None:
        if not self.tty:
            return  # upstream resizes a task without a terminal silently too
        fcntl.ioctl(self.output, termios.TIOCSWINSZ,
                    struct.pack("HHHH", max(height, 0), max(width, 0), 0, 0))
        self.signal(signal.SIGWINCH)

    def signal(self, sig: int) -> None:
        """ctr forwards the signals it gets to the task (without a terminal; with one, the
        terminal's own keys do)."""
        if self.exited.done():
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)

    def close(self) -> None:
        self._close_ours()


async def started(sock: str, ns: str, cid: str, exited: asyncio.Future[int]) -> None:
    """Return once containerd's task `cid` has been started (or ctr is gone).

    `ctr run` tells the task its stdin ended (CloseIO) only when its copy reads EOF after
    the task was created: an EOF read earlier is lost and the container waits for input
    forever (containerd 1.6). Start comes after that, so closing once it ran is safe."""
    md = (("containerd-namespace", ns),)
    async with grpc.aio.insecure_channel(f"unix:{sock}") as ch:
        tasks = tasks_pb2_grpc.TasksStub(ch)
        while not exited.done():
            try:
                resp = await tasks.List(tasks_pb2.ListTasksRequest(filter=f"id=={cid}"),
                                        metadata=md, timeout=CLEANUP_TIMEOUT)
            except grpc.aio.AioRpcError as e:
                raise FailedPrecondition(f"containerd at {sock}: {e.code().name}: "
                                         f"{e.details()}") from None
            if any(t.id == cid and t.status not in (task_pb2.UNKNOWN, task_pb2.CREATED)
                   for t in resp.tasks):
                return
            await asyncio.wait([exited], timeout=START_POLL)


async def _cleanup(node: NodeAPI, ctr: str, sock: str, ns: str, cid: str) -> None:
    """Remove what `ctr run --rm` leaves when it did not finish (killed with its client):
    the task, then the container with its snapshot."""
    for args in (("task", "delete", "--force", cid), ("container", "delete", cid)):
        with contextlib.suppress(OSError):
            await command.run(node.reaper, [ctr, "--address", sock, "--namespace", ns, *args],
                              env={"PATH": os.environ.get("PATH", ""), "HOME": "/"},
                              limit=CLEANUP_TIMEOUT)


class DebugServicer(debug_pb2_grpc.DebugServiceServicer):
    def __init__(self, node: NodeAPI) -> None:
        self.node = node

    # a coroutine writing with context.write (grpc.aio allows it): the output and the exit
    # code come from concurrent tasks, which a generator could not yield from
    async def ContainerRun(self, request_iterator: AsyncIterator[  # type: ignore[override]
                               debug_pb2.DebugContainerRunRequest],
                           context: Ctx) -> None:
        requests = aiter(request_iterator)
        first = None
        with contextlib.suppress(StopAsyncIteration):
            first = await anext(requests)
        spec = check_spec(first)
        ns = instance_namespace(spec.containerd)
        await get_image(self.node, ns, spec.image_name)  # NotFound naming it, as upstream
        ctr = shutil.which("ctr")
        if ctr is None:
            raise FailedPrecondition("ctr (Debian package containerd) is not installed on "
                                     "this node: a debug container cannot be run")
        sock = socket_path(self.node.paths)
        cid = f"debug-{secrets.token_hex(8)}"  # upstream's form
        log.info("debug container request received: image=%s args=%s profile=%s tty=%s",
                 spec.image_name, list(spec.args), Spec.Profile.Name(spec.profile), spec.tty)
        run = DebugRun(self.node, ctr_argv(ctr, sock, ns, spec, cid, os.getpid()),
                       tty=spec.tty)
        finished = False
        try:
            code = await self._attach(run, requests, context, sock, ns, cid)
            finished = True
        finally:
            if not run.exited.done():
                run.signal(signal.SIGKILL)
            await asyncio.shield(run.exited)
            run.close()
            if not finished:
                await asyncio.shield(_cleanup(self.node, ctr, sock, ns, cid))
        log.info("debug container %s exited with %d", cid, code)
        await context.write(debug_pb2.DebugContainerRunResponse(exit_code=code))

    async def _attach(self, run: DebugRun, requests: AsyncIterator[
                          debug_pb2.DebugContainerRunRequest], context: Ctx,
                      sock: str, ns: str, cid: str) -> int:
        """Copy the stream to the container and back until ctr exits; its exit code."""

        async def output() -> None:
            while chunk := await read_some(run.output):
                await context.write(debug_pb2.DebugContainerRunResponse(stdout_data=chunk))

        async def input_() -> None:
            async for req in requests:
                kind = req.WhichOneof("request")
                if kind == "stdin_data":
                    if run.stdin >= 0 and req.stdin_data:
                        with contextlib.suppress(BrokenPipeError):
                            await write_all(run.stdin, req.stdin_data)
                elif kind == "signal":
                    run.signal(req.signal)
                elif kind == "term_resize":
                    run.resize(req.term_resize.width, req.term_resize.height)
                else:
                    raise InvalidArgument("ContainerRun: after the spec, each request must be "
                                          "stdin_data, signal or term_resize")
            await started(sock, ns, cid, run.exited)
            run.close_stdin()

        async with asyncio.TaskGroup() as tg:
            out = tg.create_task(output())
            inp = tg.create_task(input_())
            code = await asyncio.shield(run.exited)
            # ctr held the only other end (pipe write end, pty slave): EOF (EIO) follows
            await out
            inp.cancel()
        return code if code >= 0 else 128 - code
