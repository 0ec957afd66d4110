"""Live per-node progress of long operations (reboot, shutdown, reset, an apply that
reboots), from each node's Events stream, ending with a per-node result.

Each node gets its own one-to-one Events stream (subscribed before the action is sent, so
no event is missed). When the node's API goes away the tracker says so, and for a reboot it
reconnects until the node's boot sequence has finished again. A reset node that comes back
without its config is found in maintenance mode: its stage through the usual API (apid still
routes to it), or its insecure maintenance API answering on the node's address (apid gone,
as on a sandbox or a real node). A node that cannot be reached at all fails on its own line
before anything is sent to it; the others go ahead.

What the trackers see goes to a view (progress_view.py): a live per-node table on a terminal,
`<node>: <what>` lines on stderr otherwise. The result is said once: the view's result lines
on a terminal, else the result table on stdout.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import click

from talos.machinery.errors import TalosError
from talos.talosctl.events import decode_event
from talos.talosctl.nodeapi import Session, echo_table
from talos.talosctl.progress_view import PlainView, ProgressView, choose_view

RETRY = 0.3
#: seconds for one probe of a node's maintenance API (connect, then Version)
MAINTENANCE_PROBE = 2.0
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
        #: the labels the node is wiping (its reset sequence's wipe tasks, which follow the
        #: stopServices phase); known once that phase was seen to end: a node whose API is
        #: one of the services it stops (a sandbox, a real node) goes quiet before that
        self.wiped: list[str] = []
        self.wipes_known = False

    async def subscribe(self) -> None:
        from talos.api.machine import machine_pb2 as m
        self.call = self.s.machine().Events(m.EventsRequest(tail_events=1),
                                            metadata=_md(self.node))
        await self.call.read()  # the last past event: the subscription is live

    def _show(self, ev: Any) -> tuple[str, str, Any]:
        from talos.api.machine import machine_pb2 as m
        v = decode_event(self.label, ev)
        self.view.event(self.label, v)
        kind = v.type.rsplit(".", 1)[-1]
        if kind == "TaskEvent" and v.source.startswith("wipe") \
                and v.payload.action == m.TaskEvent.START:
            self.wiped.append(v.source.removeprefix("wipe").upper())
        if kind == "PhaseEvent" and v.source == "stopServices" \
                and v.payload.action == m.PhaseEvent.STOP:
            self.wipes_known = True
        return kind, v.source, v.payload

    def _reset_done(self, where: str) -> Outcome:
        took = time.monotonic() - self.started
        what = "reset"
        if self.wipes_known:
            what += f" (wiped {', '.join(self.wiped)})" if self.wiped else " (nothing wiped)"
        return Outcome(self.label, True, f"{what}, back {where} ({took:.1f}s)")

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
                    if kind != "SequenceEvent" or payload.action != m.SequenceEvent.STOP:
                        continue
                    if payload.sequence == "initialize" and payload.error.message:
                        return Outcome(self.label, False,
                                       f"initialize failed: {payload.error.message}")
                    if self.expect == "reset" and payload.sequence == "initialize" \
                            and await self._stage() == "maintenance":
                        # STATE was wiped: the node waits for a new config
                        self.view.note(self.label, "back in maintenance mode")
                        return self._reset_done("in maintenance mode")
                    if payload.sequence == "boot":
                        took = time.monotonic() - self.started
                        if payload.error.message:
                            return Outcome(self.label, False,
                                           f"boot failed: {payload.error.message}")
                        if self.expect == "reset":
                            return self._reset_done("up with its config")
                        return Outcome(self.label, True, f"rebooted ({took:.1f}s)")
            except grpc.RpcError:
                if self.expect == "reset" and await self._maintenance_answers():
                    self.view.note(self.label, "back in maintenance mode (its insecure "
                                               "maintenance API answers)")
                    return self._reset_done("in maintenance mode")
                await asyncio.sleep(RETRY)
            except TimeoutError:
                return Outcome(self.label, False, "timed out waiting for the node to boot")
            finally:
                call.cancel()

    async def _stage(self) -> str:
        """The node's MachineStatus stage once it has one (`maintenance`, `booting`, ...)."""
        import grpc

        from talos.api.v1alpha1 import state_pb2, state_pb2_grpc
        from talos.machinery.resources.runtime import MACHINE_STATUS
        state = state_pb2_grpc.StateStub(self.s.conn.channel)
        req = state_pb2.GetRequest(namespace=MACHINE_STATUS.default_namespace,
                                   type=MACHINE_STATUS.type, id="machine")
        while True:
            try:
                reply = await asyncio.wait_for(
                    state.Get(req, metadata=_md(self.node)), self._left())
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.NOT_FOUND:
                    raise
            else:
                stage = _stage_of(reply.resource.spec.yaml_spec)
                if stage:
                    return stage
            await asyncio.sleep(RETRY)  # published a moment after initialize ends

    async def _maintenance_answers(self) -> bool:
        """Whether the node's insecure maintenance API answers on its own address (what
        `talosctl --insecure -n <node>` reaches), as upstream's reset --reboot checks."""
        import grpc
        from google.protobuf import empty_pb2

        from talos.api.machine import machine_pb2_grpc
        from talos.machinery.client.connection import ConnectionOptions, connect
        from talos.machinery.errors import TalosError
        host = self.node or self.s.endpoint_host
        try:
            conn = await asyncio.wait_for(connect(ConnectionOptions(
                (host,), insecure=True, port=self.s.conn.options.port)), MAINTENANCE_PROBE)
        except (TalosError, TimeoutError):
            return False
        try:
            api = machine_pb2_grpc.MachineServiceStub(conn.channel)
            await api.Version(empty_pb2.Empty(), timeout=MAINTENANCE_PROBE)
            return True
        except grpc.RpcError:
            return False
        finally:
            await conn.close()


def _stage_of(yaml_spec: str) -> str:
    import io

    from ruamel.yaml import YAML
    spec = YAML(typ="safe").load(io.StringIO(yaml_spec)) if yaml_spec else None
    return str(spec.get("stage") or "") if isinstance(spec, dict) else ""


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


Action = Callable[[tuple[tuple[str, str], ...]], Awaitable[Any]]


async def run_tracked(s: Session, action: Action, *, expect: str, wait_seconds: float,
                      view: ProgressView | None = None, debug: bool = False
                      ) -> list[Outcome]:
    """Subscribe to every node's events, run `action(metadata)` (the fan-out RPC aimed at
    the nodes whose subscription worked), follow each node.

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


def _routed_failure(details: str) -> bool:
    """apid's words for a node (or its machined) it could not reach, as opposed to the
    endpoint itself failing (apid/proxy.py)."""
    return details.startswith(("node '", "machined (")) and " is unavailable: " in details


def _unreachable(e: Any) -> str:
    details = str(e.details() or e.code().name)
    low = details.lower()
    if "connection refused" in low:
        return (f"{details.split(' is unavailable: ')[0]} is unreachable: connection refused "
                "(is the node up? -n takes node addresses as the endpoint reaches them)")
    return details


async def _subscribe(s: Session, t: Tracker) -> str | TalosError | None:
    """None once subscribed; else why this node cannot be followed: a message for this node,
    or, when the endpoint itself failed (not one routed node), the explained error for the
    whole command."""
    import grpc
    try:
        await t.subscribe()
    except grpc.RpcError as e:
        if not _routed_failure(str(e.details() or "")):
            err: TalosError = s.conn.explain(e)
            return err
        return _unreachable(e)
    return None


async def _run_tracked(s: Session, action: Action, *, expect: str,
                       wait_seconds: float, view: ProgressView | None) -> list[Outcome]:
    from talos.machinery.client.connection import nodes_metadata
    view = view if view is not None else choose_view()
    targets = s.nodes or [""]
    trackers = [Tracker(s, n, expect=expect, timeout=wait_seconds, view=view)
                for n in targets]
    outcomes: dict[str, Outcome] = {}
    try:
        async with asyncio.TaskGroup() as tg:
            subs = [tg.create_task(_subscribe(s, t)) for t in trackers]
        live = []
        for t, sub in zip(trackers, subs, strict=True):
            why = sub.result()
            if isinstance(why, TalosError):
                raise why
            if why is None:
                live.append(t)
            else:
                outcomes[t.label] = Outcome(t.label, False, why)
        reply = await action(nodes_metadata([t.node for t in live if t.node])) \
            if live else None
    except BaseException:
        for t in trackers:
            if t.call is not None:
                t.call.cancel()
        raise
    failed = {s.node_of(msg): msg.metadata.error for msg in reply.messages
              if msg.metadata.error} if reply is not None else {}
    followed = []
    for t in live:
        if t.label in failed or (len(live) == 1 and failed):
            err = failed.get(t.label) or next(iter(failed.values()))
            t.call.cancel()
            outcomes[t.label] = Outcome(t.label, False, err)
        else:
            followed.append(t)
    for outcome in await follow_all(followed, view):
        outcomes[outcome.node] = outcome
    return [outcomes[t.label] for t in trackers]


def report(outcomes: list[Outcome], view: ProgressView | None = None) -> None:
    """The per-node result, said once: the result table on stdout, unless `view` already
    printed its result lines on the terminal stdout also writes to; a non-zero exit if any
    node failed."""
    import sys

    from talos.talosctl.progress_view import LiveView
    if not (isinstance(view, LiveView) and sys.stdout.isatty()):
        echo_table([("NODE", "RESULT"),
                    *((o.node, o.message if o.ok else f"FAILED: {o.message}")
                      for o in outcomes)])
    bad = [o for o in outcomes if not o.ok]
    if bad:
        raise click.ClickException(
            f"{len(bad)} of {len(outcomes)} node(s) failed: "
            + "; ".join(f"{o.node}: {o.message}" for o in bad))
