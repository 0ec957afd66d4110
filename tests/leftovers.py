"""What tests leave behind on the host: processes, mounts, links, network namespaces.

A fixture that starts processes or nodes takes a `Snapshot` before and calls
`assert_nothing_left(before)` after its teardown: the test fails naming every process, mount,
link or network namespace that appeared meanwhile and is still there. Processes are counted
only among the descendants of this test process and the orphans it made (re-parented to the
host's init, recognised by a start time after the snapshot and a marker in their environment
or command line when one is given), so other helpers' and other tests' processes on a shared
host never count.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

_CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Proc:
    pid: int
    #: start time in clock ticks since boot: a pid with another start time is another process
    start: int
    cmdline: str

    def describe(self) -> str:
        return f"pid {self.pid} ({self.cmdline[:120]})"


def _stat(pid: int) -> tuple[int, int, str] | None:
    """(ppid, start time, state) of `pid`; None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2:].split()
    return int(rest[1]), int(rest[19]), rest[0].decode()


def proc_info(pid: int) -> Proc | None:
    st = _stat(pid)
    if st is None:
        return None
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").strip().decode(errors="replace")
    except OSError:
        return None
    return Proc(pid, st[1], cmd)


def alive(p: Proc) -> bool:
    """Is `p` (that very process, not a reuse of its pid) still there and not a zombie?"""
    st = _stat(p.pid)
    return st is not None and st[1] == p.start and st[2] != "Z"


def children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return out


def descendants(pid: int) -> list[Proc]:
    """Every living descendant of `pid` (not `pid` itself), parents before children."""
    out: list[Proc] = []
    todo = children(pid)
    seen: set[int] = set()
    while todo:
        c = todo.pop(0)
        if c in seen:
            continue
        seen.add(c)
        info = proc_info(c)
        if info is not None and alive(info):
            out.append(info)
            todo += children(c)
    return out


def _boot_ticks_now() -> int:
    with open("/proc/uptime") as f:
        return int(float(f.read().split()[0]) * _CLK_TCK)


def _marked(pid: int, markers: Iterable[bytes]) -> bool:
    for name in ("environ", "cmdline"):
        try:
            with open(f"/proc/{pid}/{name}", "rb") as f:
                data = f.read()
        except OSError:
            continue
        if any(m in data for m in markers):
            return True
    return False


def mounts() -> set[str]:
    with open("/proc/self/mountinfo") as f:
        return {line.split()[4] for line in f}


def links() -> set[str]:
    return set(os.listdir("/sys/class/net"))


def netns() -> set[str]:
    """Network namespaces held by any process on the host, plus the named ones."""
    out: set[str] = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                out.add(os.readlink(f"/proc/{entry}/ns/net"))
            except OSError:
                continue
    if os.path.isdir("/run/netns"):
        out |= {f"named {n}" for n in os.listdir("/run/netns")}
    return out


@dataclass(frozen=True)
class Snapshot:
    ticks: int
    procs: frozenset[Proc]
    mounts: frozenset[str]
    netns: frozenset[str]
    #: paths that mark what the fixture made: orphans with one in their environment or
    #: command line, mounts under one
    markers: tuple[str, ...] = ()
    #: names of links the fixture may make (other links come and go with other users)
    link_names: frozenset[str] = field(default=frozenset())


def snapshot(*markers: str | os.PathLike[str], link_names: Iterable[str] = ()) -> Snapshot:
    """The state to compare with after the fixture's teardown (see `leftovers`)."""
    return Snapshot(ticks=_boot_ticks_now(),
                    procs=frozenset(descendants(os.getpid())),
                    mounts=frozenset(mounts()), netns=frozenset(netns()),
                    markers=tuple(os.fspath(m) for m in markers),
                    link_names=frozenset(link_names))


def _orphans(before: Snapshot) -> list[Proc]:
    """Processes started after the snapshot, carrying one of its markers, that are not
    descendants of this process any more (their parent died)."""
    if not before.markers:
        return []
    marks = [os.fsencode(m) for m in before.markers]
    mine = {p.pid for p in descendants(os.getpid())}
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in mine or int(entry) == os.getpid():
            continue
        info = proc_info(int(entry))
        if info is None or info.start < before.ticks or not alive(info):
            continue
        if _marked(info.pid, marks):
            out.append(info)
    return out


def _under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _netns_of(procs: Iterable[Proc]) -> set[str]:
    out = set()
    for p in procs:
        try:
            out.add(os.readlink(f"/proc/{p.pid}/ns/net"))
        except OSError:
            continue
    return out


def leftovers(before: Snapshot, *, settle: float = 10.0) -> list[str]:
    """What the fixture made since `before` and is still there, described: processes
    (descendants of this process, and marked orphans), network namespaces they hold or new
    named ones, mounts under a marker, links among `link_names`. Processes that were just
    killed may take a moment to go: they get up to `settle` seconds (a bound on waiting,
    not a timing requirement)."""
    deadline = time.monotonic() + settle
    while True:
        procs = [p for p in descendants(os.getpid()) if p not in before.procs]
        procs += _orphans(before)
        if not procs or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    resolved = [os.path.realpath(m) for m in before.markers]
    left = [f"process {p.describe()}" for p in procs]
    left += [f"mount {m}" for m in sorted(mounts() - before.mounts)
             if any(_under(m, d) for d in resolved)]
    left += [f"link {name}" for name in sorted(links() & before.link_names)]
    spaces = (_netns_of(procs) | {n for n in netns() if n.startswith("named ")})
    left += [f"network namespace {ns}" for ns in sorted(spaces - before.netns)]
    return left


def assert_nothing_left(before: Snapshot, what: str = "the test") -> None:
    left = leftovers(before)
    assert not left, f"{what} left behind: " + "; ".join(left)


def _check(before: Snapshot, what: str, failure: BaseException | None,
           settle: float = 10.0) -> None:
    left = leftovers(before, settle=settle)
    if not left:
        return
    message = f"{what} left behind: " + "; ".join(left)
    if failure is not None:  # keep the test's own failure; name the leftovers with it
        failure.add_note(message)
        return
    raise AssertionError(message)


@contextmanager
def nothing_left(*markers: str | os.PathLike[str], what: str = "the test",
                 link_names: Iterable[str] = (), settle: float = 10.0) -> Iterator[Snapshot]:
    """Fail (after the block, its teardown included) naming what the block left behind."""
    before = snapshot(*markers, link_names=link_names)
    try:
        yield before
    except BaseException as exc:
        _check(before, what, exc, settle)
        raise
    _check(before, what, None, settle)


@asynccontextmanager
async def nothing_left_async(*markers: str | os.PathLike[str], what: str = "the test",
                             link_names: Iterable[str] = ()) -> AsyncIterator[Snapshot]:
    """`nothing_left` for async fixtures (the check runs off the event loop)."""
    before = await asyncio.to_thread(snapshot, *markers, link_names=link_names)
    try:
        yield before
    except BaseException as exc:
        await asyncio.to_thread(_check, before, what, exc)
        raise
    await asyncio.to_thread(_check, before, what, None)
