"""Live per-node progress of long operations (reboot, shutdown, reset, an apply that
reboots), from each node's Events stream, ending with a per-node result.

Each node gets its own one-to-one Events stream (subscribed before the action is sent, so
no event is missed). When the node's API goes away the tracker says so, and for a reboot it
reconnects until the node's boot sequence has finished again. What the trackers see goes to
a view (progress_view.py): a live per-node table on a terminal, `<node>: <what>` lines on
stderr otherwise. The result table goes to stdout.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import click

from talos.talosctl.events import decode_event
from talos.talosctl.nodeapi import Session, echo_table
from talos.talosctl.progress_view import PlainView, ProgressView, choose_view

RETRY = 0.3
#: kernel log lines kept per node with --debug (the newest; older ones are dropped)
CONSOLE_LINES = 5000


def go_bool(name: str, *, default: bool, help: str) -> Callable[[Any], Any]:
    """A boolean flag like cobra's: `--flag`, `--flag=true` or `--flag=false`."""
    return click.option(name, type=click.BOOL, default=default, is_flag=False,
                        flag_value=True, show_default=True, help=help)


@dataclass
class Outcome:
    node: str
    ok: bool
    message: str


def _md(node: str) -> tuple[tuple[str, str], ...]:
    return (("node", node),) if node else ()


class Tracker:
    """Follow one node through an operation: `subscribe()` before the action, then
    `follow()` until `done` (rebooted / powered off) or the timeout."""

    def __init__(self, s: Session, node: str, *, expect: str, timeout: float,
                 view: ProgressView | None = None) -> None:
        self.s = s
        self.view: ProgressView = view if view is not None else PlainView()
        self.node = node
        self.label = node or s.endpoint_host
        self.expect = expect          # "reboot" | "reset" | "poweroff" | "none"
        self.deadline = time.monotonic() + timeout
        self.call: Any = None
        self.started = time.monotonic()

    async def subscribe(self) -> None:
        from talos.api.machine import machine_pb2 as m
        self.call = self.s.machine().Events(m.EventsRequest(tail_events=1),
                                            metadata=_md(self.node))
        await self.call.read()  # the last past event: the subscription is live

    def _show(self, ev: Any) -> tuple[str, str, Any]:
        v = decode_event(self.label, ev)
        self.view.event(self.label, v)
        return v.type.rsplit(".", 1)[-1], v.source, v.payload

    async def follow(self) -> Outcome:
        """Until the operation's end on this node; the view is told the outcome."""
        outcome = await self._follow()
        self.view.finish(outcome.node, outcome.ok, outcome.message)
        return outcome

    async def _follow(self) -> Outcome:
        import grpc

        from talos.api.machine import machine_pb2 as m
        try:
            while True:
                ev = await asyncio.wait_for(self.call.read(), self._left())
                if ev is grpc.aio.EOF:
                    break
                kind, _source, payload = self._show(ev)
                if kind == "SequenceEvent" and payload.action == m.SequenceEvent.STOP \
                        and payload.error.message:
                    return Outcome(self.label, False,
                                   f"sequence {payload.sequence} failed: "
                                   f"{payload.error.message}")
        except grpc.RpcError:
            pass  # the node's API went away: expected once it reboots or powers off
        except TimeoutError:
            self.call.cancel()
            return Outcome(self.label, False, "timed out waiting for the node")
        if self.expect == "poweroff":
            self.view.note(self.label, "API is down: node powered off")
            return Outcome(self.label, True, "powered off")
        if self.expect not in ("reboot", "reset"):
            return Outcome(self.label, True, "done")
        self.view.note(self.label, "API is down: waiting for the node to come back")
        return await self._wait_boot()

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    async def _wait_boot(self) -> Outcome:
        import grpc

        from talos.api.machine import machine_pb2 as m
        while True:
            try:
                self._left()
            except TimeoutError:
                return Outcome(self.label, False, "timed out waiting for the node to boot")
            call = self.s.machine().Events(m.EventsRequest(tail_events=-1),
                                           metadata=_md(self.node))
            try:
                while True:
                    ev = await asyncio.wait_for(call.read(), self._left())
                    if ev is grpc.aio.EOF:
                        break
                    kind, _source, payload = self._show(ev)
                    if self.expect == "reset" and kind == "SequenceEvent" \
                            and payload.sequence == "initialize" \
                            and payload.action == m.SequenceEvent.STOP:
                        # a reset node may wait in maintenance mode for a new config
                        took = time.monotonic() - self.started
                        if payload.error.message:
                            return Outcome(self.label, False,
                                           f"initialize failed: {payload.error.message}")
                        return Outcome(self.label, True, f"reset, back up ({took:.1f}s)")
                    if kind == "SequenceEvent" and payload.sequence == "boot" \
                            and payload.action == m.SequenceEvent.STOP:
                        took = time.monotonic() - self.started
                        if payload.error.message:
                            return Outcome(self.label, False,
                                           f"boot failed: {payload.error.message}")
                        return Outcome(self.label, True, f"rebooted ({took:.1f}s)")
            except grpc.RpcError:
                await asyncio.sleep(RETRY)
            except TimeoutError:
                return Outcome(self.label, False, "timed out waiting for the node to boot")
            finally:
                call.cancel()


class ConsoleLog:
    """`--debug`: one node's kernel log (Dmesg, followed across reboots) kept in memory, to
    be printed if the operation fails on that node (as Talos does)."""

    def __init__(self, s: Session, node: str) -> None:
        self.s = s
        self.node = node
        self.lines: deque[str] = deque(maxlen=CONSOLE_LINES)
        self._partial = b""

    async def follow(self) -> None:
        """Until cancelled; a node that goes away is read again once it is back."""
        import grpc

        from talos.api.machine import machine_pb2 as m
        while True:
            try:
                async for chunk in self.s.machine().Dmesg(
                        m.DmesgRequest(follow=True), metadata=_md(self.node)):
                    if chunk.metadata.error:
                        break
                    self._add(chunk.bytes)
            except grpc.RpcError:
                pass
            await asyncio.sleep(RETRY)

    def _add(self, data: bytes) -> None:
        *done, self._partial = (self._partial + data).split(b"\n")
        self.lines.extend(ln.decode(errors="replace") for ln in done)

    def text(self) -> str:
        tail = [self._partial.decode(errors="replace")] if self._partial else []
        return "".join(f"{ln}\n" for ln in [*self.lines, *tail])


async def follow_all(trackers: list[Tracker], view: ProgressView) -> list[Outcome]:
    """Follow the (subscribed) trackers concurrently while `view` shows them."""
    if not trackers:
        return []
    with view.showing([t.label for t in trackers]):
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(t.follow()) for t in trackers]
    return [task.result() for task in tasks]


async def run_tracked(s: Session, action: Callable[[], Awaitable[Any]], *, expect: str,
                      wait_seconds: float, view: ProgressView | None = None,
                      debug: bool = False) -> list[Outcome]:
    """Subscribe to every node's events, run `action` (the fan-out RPC), follow each node.

    With `debug`, each node's kernel log is captured meanwhile and printed (stderr) for the
    nodes where the operation failed.
    """
    if not debug:
        return await _run_tracked(s, action, expect=expect, wait_seconds=wait_seconds,
                                  view=view)
    logs = {n: ConsoleLog(s, n) for n in (s.nodes or [""])}
    async with asyncio.TaskGroup() as tg:
        readers = [tg.create_task(log.follow()) for log in logs.values()]
        try:
            outcomes = await _run_tracked(s, action, expect=expect,
                                          wait_seconds=wait_seconds, view=view)
        finally:
            for reader in readers:
                reader.cancel()
    failed = [o.node for o in outcomes if not o.ok]
    if failed:
        click.echo(f"console logs for nodes {failed}:", err=True)
        by_label = {log.node or s.endpoint_host: log for log in logs.values()}
        for node in failed:
            if node in by_label:
                click.echo(by_label[node].text(), err=True, nl=False)
    return outcomes


async def _run_tracked(s: Session, action: Callable[[], Awaitable[Any]], *, expect: str,
                       wait_seconds: float, view: ProgressView | None) -> list[Outcome]:
    view = view if view is not None else choose_view()
    targets = s.nodes or [""]
    trackers = [Tracker(s, n, expect=expect, timeout=wait_seconds, view=view)
                for n in targets]
    async with asyncio.TaskGroup() as tg:
        for t in trackers:
            tg.create_task(t.subscribe())
    reply = await action()
    failed = {s.node_of(msg): msg.metadata.error for msg in reply.messages
              if msg.metadata.error}
    outcomes: dict[str, Outcome] = {}
    followed = []
    for t in trackers:
        if t.label in failed or (len(trackers) == 1 and failed):
            err = failed.get(t.label) or next(iter(failed.values()))
            t.call.cancel()
            outcomes[t.label] = Outcome(t.label, False, err)
        else:
            followed.append(t)
    for outcome in await follow_all(followed, view):
        outcomes[outcome.node] = outcome
    return [outcomes[t.label] for t in trackers]


def report(outcomes: list[Outcome]) -> None:
    """The per-node result table; a non-zero exit if any node failed."""
    echo_table([("NODE", "RESULT"),
                *((o.node, o.message if o.ok else f"FAILED: {o.message}") for o in outcomes)])
    bad = [o for o in outcomes if not o.ok]
    if bad:
        raise click.ClickException(
            f"{len(bad)} of {len(outcomes)} node(s) failed: "
            + "; ".join(f"{o.node}: {o.message}" for o in bad))
