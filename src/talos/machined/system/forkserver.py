"""The fork server: starts Python services (apid, trustd) by forking a process that has
already imported what they share, so their code and module pages are shared, not copied.

machined cannot fork itself (it has threads: grpc's poller, to_thread workers), so it spawns
this small single-threaded process (`python -m talos.machined.system.forkserver`) the first
time a service asks to be forked. The server imports the shared modules, moves them out of
the cyclic GC's reach (`gc.freeze()`, so collections do not write to every shared page) and
then forks one child per request over a unix SOCK_SEQPACKET socket pair:

- request (machined -> server): JSON `{"op": "spawn", "id", "argv", "env", "cwd"}` with the
  write end of the service's log pipe attached (SCM_RIGHTS); the child gets it as stdout and
  stderr, /dev/null as stdin, `env` as its whole environment, a session (and process group)
  of its own, and SIGKILL as its parent-death signal;
- replies (server -> machined): `{"op": "started", "id", "pid"}` or
  `{"op": "failed", "id", "error"}`, and `{"op": "exit", "pid", "code"}` once the server has
  reaped a child (the exit code as `subprocess` reports it: negative for a signal).

The children are the server's children, not machined's: machined's SIGCHLD reaper never
sees them while the server lives; the server reports their exits in order after their
`started`. The server itself is machined's child with a parent-death signal (setpriv, as
every service), so when machined dies the server dies, and with it (their parent-death
signal) every child. When machined closes the socket the server SIGKILLs its children's
groups and exits.

Only `python -m <module> args` and `python -c <code> args` with this interpreter can be
forked; anything else (or any failure of the server) makes the runner spawn the process as
before. `TALOS_FORKSERVER=0` in machined's environment turns forking off.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import importlib
import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import traceback
from collections.abc import Callable

from talos.machined.system.groupguard import GroupGuard, with_parent_death_signal
from talos.machinery.environment import process_environment

log = logging.getLogger(__name__)

#: what apid and trustd import (measured by bench/imports.py: the bulk is grpc, protobuf,
#: cryptography and the generated API modules)
PRELOAD = ("talos.__main__", "talos.apid.__main__", "talos.trustd.__main__",
           "talos.apid.server", "talos.trustd.server", "talos.nodeserver.process")

#: set to 0 (or false/no/off) in machined's environment to spawn every service instead
SWITCH = "TALOS_FORKSERVER"

#: (pid) -> future of its exit code (`Reaper.register`)
RegisterExit = Callable[[int], "asyncio.Future[int]"]

PR_SET_PDEATHSIG = 1
PR_SET_NAME = 15
MAX_MESSAGE = 1 << 20


def enabled(environ: dict[str, str] | None = None) -> bool:
    value = (os.environ if environ is None else environ).get(SWITCH, "1")
    return value.strip().lower() not in ("0", "false", "no", "off")


def forkable(argv: tuple[str, ...]) -> bool:
    """Whether the fork server can run `argv` (this interpreter with -m or -c)."""
    return (len(argv) >= 3 and os.path.realpath(argv[0]) == os.path.realpath(sys.executable)
            and argv[1] in ("-m", "-c"))


# -- the server process ---------------------------------------------------------------------


def _send(sock: socket.socket, msg: dict[str, object]) -> None:
    with contextlib.suppress(OSError):
        sock.send(json.dumps(msg).encode())


def _run_child(argv: list[str]) -> int:
    """Run `argv` (python -m/-c form) in this forked process, as the interpreter would."""
    import runpy

    code: object = 0
    try:
        if argv[1] == "-m":
            sys.argv = [argv[2], *argv[3:]]
            runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
        else:
            sys.argv = ["-c", *argv[3:]]
            exec(compile(argv[2], "<string>", "exec"), {"__name__": "__main__"})
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr, flush=True)
    return 1


def _process_name(argv: list[str]) -> str:
    """`python -m talos apid ...` -> "apid"; `python -m pkg.mod` -> "mod"; -c: ""."""
    if argv[1] != "-m":
        return ""
    if argv[2] == "talos" and len(argv) > 3:
        return argv[3]
    return argv[2].rsplit(".", 1)[-1]


def _retitle(argv: list[str]) -> None:
    """Show `argv` as this process's command line (/proc/PID/cmdline, ps): written over the
    original one in place, cut to its room (the server is started with spare room), the rest
    NUL-filled. Best effort."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end (fields 48, 49)
        room = end - start
        data = b"\0".join(a.encode() for a in argv)[:room - 1]
        ctypes.memmove(start, data + b"\0" * (room - len(data)), room)
    except (OSError, ValueError, IndexError):
        pass


def _child(req: dict[str, object], logfd: int, inherited: list[int], server: int,
           settled: int) -> None:
    """In the forked child: become the service process, run it, never return. `settled`
    is closed once the child leads its own process group (machined signals the group)."""
    code = 1
    argv = req["argv"]
    assert isinstance(argv, list)
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for fd in inherited:
            with contextlib.suppress(OSError):
                os.close(fd)
        os.setsid()
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        _retitle([str(a) for a in argv])
        name = _process_name([str(a) for a in argv])
        if name:  # what ps and /proc/PID/comm show (the command line stays the server's)
            libc.prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)
        os.close(settled)
        if os.getppid() != server:  # the server died before the signal was armed
            os._exit(1)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(logfd, 1)
        os.dup2(logfd, 2)
        os.close(devnull)
        os.close(logfd)
        env = req["env"]
        assert isinstance(env, dict)
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in env.items()})
        if isinstance(req.get("cwd"), str):
            os.chdir(str(req["cwd"]))
        code = _run_child([str(a) for a in argv])
    except BaseException:
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        os._exit(code)


def serve(sock: socket.socket, preload: list[str]) -> int:
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception as exc:  # the child imports it again and reports the error itself
            print(f"forkserver: cannot preload {name}: {exc}", file=sys.stderr, flush=True)
    gc.collect()
    gc.freeze()
    rsig, wsig = os.pipe()
    os.set_blocking(rsig, False)
    os.set_blocking(wsig, False)
    signal.set_wakeup_fd(wsig)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    children: set[int] = set()
    me = os.getpid()

    def reap() -> None:
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            children.discard(pid)
            _send(sock, {"op": "exit", "pid": pid, "code": os.waitstatus_to_exitcode(status)})

    while True:
        try:
            ready, _, _ = select.select([sock.fileno(), rsig], [], [])
        except InterruptedError:
            continue
        if rsig in ready:
            with contextlib.suppress(OSError):
                os.read(rsig, 4096)
            reap()
        if sock.fileno() not in ready:
            continue
        try:
            data, fds, _flags, _addr = socket.recv_fds(sock, MAX_MESSAGE, 4)
        except InterruptedError:
            continue
        except OSError:
            data, fds = b"", []
        if not data:  # machined closed the socket (or is gone): the children go with us
            for pid in children:
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
            return 0
        try:
            req = json.loads(data)
            logfd = fds[0]
        except (ValueError, IndexError):
            for fd in fds:
                os.close(fd)
            continue
        for fd in fds[1:]:
            os.close(fd)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        try:
            settled_r, settled_w = os.pipe()
            pid = os.fork()
        except OSError as exc:
            os.close(logfd)
            _send(sock, {"op": "failed", "id": req.get("id"), "error": str(exc)})
            continue
        if pid == 0:
            _child(req, logfd, [sock.fileno(), rsig, wsig, settled_r], me, settled_w)
        os.close(logfd)
        os.close(settled_w)
        # report the pid only once it names the child's process group (EOF: setsid done,
        # or the child died)
        while True:
            try:
                if not os.read(settled_r, 1):
                    break
            except InterruptedError:
                continue
        os.close(settled_r)
        children.add(pid)
        _send(sock, {"op": "started", "id": req.get("id"), "pid": pid})


#: spare command-line room of the server, so a child can show its own (long) command line
TITLE_ROOM = 2048


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 4 or args[0] != "--fd" or args[2] != "--room":
        print("usage: python -m talos.machined.system.forkserver --fd N --room PAD "
              "[module...]", file=sys.stderr)
        return 2
    sock = socket.socket(fileno=int(args[1]))
    _retitle([sys.executable, "-m", "talos.machined.system.forkserver"])
    return serve(sock, args[4:])


# -- machined's side ------------------------------------------------------------------------


class ForkServerError(OSError):
    """The fork server could not start a process (the caller spawns it instead)."""


class ForkServer:
    """machined's handle on its fork server; everything runs on the event loop thread."""

    def __init__(self, register: RegisterExit, guard: GroupGuard | None = None,
                 preload: tuple[str, ...] = PRELOAD) -> None:
        self._register = register
        self._guard = guard
        self._preload = preload
        self._sock: socket.socket | None = None
        self.pid: int | None = None
        self._next = 0
        self._pending: dict[int, asyncio.Future[tuple[int, asyncio.Future[int]]]] = {}
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def alive(self) -> bool:
        return self._sock is not None

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            argv = (sys.executable, "-m", "talos.machined.system.forkserver",
                    "--fd", str(theirs.fileno()), "--room", " " * TITLE_ROOM,
                    *self._preload)
            proc = subprocess.Popen(list(with_parent_death_signal(argv)),
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    pass_fds=(theirs.fileno(),), close_fds=True, cwd="/",
                                    env=process_environment(), start_new_session=True)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        proc.returncode = 0  # machined's reaper waits for it, never Popen
        self.pid = proc.pid
        if self._guard is not None:
            self._guard.watch(proc.pid)
        self._register(proc.pid).add_done_callback(self._on_server_exit)
        ours.setblocking(False)
        self._sock = ours
        self._loop = loop
        loop.add_reader(ours.fileno(), self._on_message)
        log.info("fork server started (pid %d)", proc.pid)

    async def spawn(self, argv: tuple[str, ...], env: dict[str, str], cwd: str | None,
                    logfd: int) -> tuple[int, asyncio.Future[int]]:
        """Fork `argv` with its output on `logfd` (which stays open here: the caller closes
        it). Returns its pid and a future with its exit code. ForkServerError if the
        server cannot do it."""
        if not forkable(argv):
            raise ForkServerError(f"{argv[0]} is not this interpreter with -m or -c")
        if self._sock is None:
            try:
                self._start()
            except OSError as exc:
                raise ForkServerError(f"cannot start the fork server: {exc}") from None
        assert self._sock is not None and self._loop is not None
        self._next += 1
        rid = self._next
        fut: asyncio.Future[tuple[int, asyncio.Future[int]]] = self._loop.create_future()
        self._pending[rid] = fut
        msg = json.dumps({"op": "spawn", "id": rid, "argv": list(argv), "env": env,
                          "cwd": cwd}).encode()
        try:
            socket.send_fds(self._sock, [msg], [logfd])
        except OSError as exc:
            self._pending.pop(rid, None)
            self.close()
            raise ForkServerError(f"fork server unreachable: {exc}") from None
        return await fut

    def _on_message(self) -> None:
        assert self._sock is not None
        while self._sock is not None:
            try:
                data = self._sock.recv(MAX_MESSAGE)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._lost("the fork server closed its socket")
                return
            try:
                msg = json.loads(data)
            except ValueError:
                continue
            self._handle(msg)

    def _handle(self, msg: dict[str, object]) -> None:
        assert self._loop is not None
        op = msg.get("op")
        if op == "exit":
            pid = int(str(msg["pid"]))
            exit_fut = self._exits.pop(pid, None)
            if exit_fut is not None and not exit_fut.done():
                exit_fut.set_result(int(str(msg["code"])))
            return
        fut = self._pending.pop(int(str(msg.get("id"))), None)
        if op == "started":
            pid = int(str(msg["pid"]))
            exit_fut = self._loop.create_future()
            self._exits[pid] = exit_fut
            if fut is None or fut.done():  # the caller gave up (cancelled): do not leak it
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
                return
            fut.set_result((pid, exit_fut))
        elif fut is not None and not fut.done():
            fut.set_exception(ForkServerError(f"the fork server cannot fork: {msg.get('error')}"))

    def _on_server_exit(self, fut: asyncio.Future[int]) -> None:
        if fut.cancelled():
            return
        self._lost(f"the fork server exited ({fut.result()})")

    def _lost(self, why: str) -> None:
        """The server is gone: its children died with it (parent-death signal)."""
        if self._sock is not None:
            log.warning("%s; forked services are restarted by their supervisors", why)
        self.close()

    def close(self) -> None:
        """Stop the server (it kills its children); pending and running ones fail/exit."""
        sock, self._sock = self._sock, None
        if sock is not None:
            if self._loop is not None and not self._loop.is_closed():
                with contextlib.suppress(Exception):
                    self._loop.remove_reader(sock.fileno())
            sock.close()
        if self._guard is not None and self.pid is not None:
            self._guard.release(self.pid)
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(ForkServerError("the fork server is gone"))
        self._pending.clear()
        for pid, exit_fut in self._exits.items():
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            if not exit_fut.done():
                exit_fut.set_result(-signal.SIGKILL)
        self._exits.clear()


if __name__ == "__main__":
    sys.exit(main())
