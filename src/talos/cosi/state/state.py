"""The resource state: versioned, owned, finalized resources with watch.

All resources live in memory; namespaces named in `persist` are also written to disk
(atomically, see FileStore) before a write returns and before any watcher sees it, and
are loaded back by `State.open`. Every mutation of one namespace is ordered: watchers see
events in commit order, and a slow watcher never blocks a writer (see Watch).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from talos.cosi.resource import Metadata, Phase, Pointer, Resource
from talos.cosi.state.events import Event, EventType
from talos.cosi.state.query import EVERYTHING, Query
from talos.cosi.state.store import FileStore
from talos.cosi.state.watch import Watch
from talos.machinery.errors import AlreadyExists, Conflict, InvalidArgument, NotFound

Kind = tuple[str, str]  # (namespace, type)
Subscriber = Callable[[Event], None]

T = TypeVar("T")

DEFAULT_WATCH_BUFFER = 10_000
DEFAULT_HISTORY = 1_000


def _now() -> int:
    return time.time_ns()


class State:
    def __init__(self, *, persist_dir: Path | None = None, persist: Iterable[str] = (),
                 watch_buffer: int = DEFAULT_WATCH_BUFFER, history: int = DEFAULT_HISTORY,
                 now: Callable[[], int] = _now) -> None:
        self._data: dict[Kind, dict[str, Resource]] = {}
        self._subs: dict[Kind, list[Subscriber]] = {}
        self._type_subs: dict[str, list[Subscriber]] = {}
        self._ns_subs: dict[str, list[Subscriber]] = {}
        self._history: dict[Kind, deque[Event]] = {}
        self._history_len = history
        self._watch_buffer = watch_buffer
        self._now = now
        self._persist = frozenset(persist)
        if self._persist and persist_dir is None:
            raise InvalidArgument("persisted namespaces need a persist_dir")
        self._store = FileStore(persist_dir) if persist_dir is not None else None
        self._locks: dict[str, asyncio.Lock] = {}

    @classmethod
    async def open(cls, **kw: Any) -> State:
        """A state with its persisted namespaces loaded from disk."""
        st = cls(**kw)
        if st._store is not None:
            store = st._store
            for ns in sorted(st._persist):
                for r in await asyncio.to_thread(store.load, ns):
                    st._data.setdefault((ns, r.metadata.type), {})[r.id] = r
        return st

    # ---- reads ------------------------------------------------------------------------
    def get_nowait(self, ns: str, type: str, id: str) -> Resource | None:
        return self._data.get((ns, type), {}).get(id)

    async def get(self, ns: str, type: str, id: str) -> Resource:
        r = self.get_nowait(ns, type, id)
        if r is None:
            raise NotFound(f"resource {ns}/{type}/{id} doesn't exist")
        return r

    def list_nowait(self, ns: str, type: str, query: Query = EVERYTHING) -> list[Resource]:
        items = self._data.get((ns, type), {})
        return [r for _, r in sorted(items.items())
                if query.empty or query.matches(r.id, r.metadata.labels)]

    async def list(self, ns: str, type: str, query: Query = EVERYTHING) -> list[Resource]:
        return self.list_nowait(ns, type, query)

    def kinds(self) -> Iterator[Kind]:
        return iter(sorted(k for k, v in self._data.items() if v))

    # ---- writes -----------------------------------------------------------------------
    async def create(self, resource: Resource, *, owner: str = "") -> Resource:
        def prepare() -> tuple[Resource, Event]:
            md = resource.metadata
            if self.get_nowait(md.namespace, md.type, md.id) is not None:
                raise AlreadyExists(f"resource {md.pointer} already exists")
            now = self._now()
            new = Resource(md.evolve(version=1, owner=owner, phase=Phase.RUNNING,
                                   created=now, updated=now), resource.spec)
            return new, Event(EventType.CREATED, new)
        return await self._commit(resource.metadata.namespace, prepare)

    async def update(self, resource: Resource, *, owner: str = "",
                     expected_phase: Phase | None = Phase.RUNNING) -> Resource:
        """Replace spec/labels/annotations; `resource.version` must be the current version."""
        md = resource.metadata

        def prepare() -> tuple[Resource, Event]:
            # hot path: index the metadata tuple directly (see Metadata field order)
            items = self._data.get((md[0], md[1]))
            cur = items.get(md[2]) if items else None
            if cur is None:
                raise NotFound(f"resource {md.pointer} doesn't exist")
            cmd = cur.metadata
            if cmd[4] != owner:
                self._check_owner(cur, owner)
            if md[3] != cmd[3]:
                raise Conflict(
                    f"resource {cur.pointer} update conflict: expected version "
                    f"{cmd[3]}, got {md[3]}")
            if expected_phase is not None and cmd[5] is not expected_phase:
                raise Conflict(f"resource {cur.pointer} is in phase {cmd[5]}, "
                               f"expected {expected_phase}")
            vals = list(cmd)
            vals[3] += 1
            vals[7] = self._now()
            vals[9] = md[9]
            vals[10] = md[10]
            new = Resource(Metadata.unchecked(vals), resource.spec)
            return new, Event(EventType.UPDATED, new, cur)
        if self._volatile(md[0]):
            return self._commit_now(prepare)
        return await self._commit(md[0], prepare)

    async def destroy(self, ptr: Pointer, *, owner: str = "") -> None:
        def prepare() -> tuple[None, Event]:
            cur = self._current(ptr)
            self._check_owner(cur, owner)
            if cur.metadata.finalizers:
                raise Conflict(f"resource {ptr} has pending finalizers: "
                               f"{', '.join(cur.metadata.finalizers)}")
            return None, Event(EventType.DESTROYED, cur)
        await self._commit(ptr.namespace, prepare)

    async def teardown(self, ptr: Pointer, *, owner: str = "") -> bool:
        """Mark for destruction (phase tearingDown); True when no finalizers remain."""
        def prepare() -> tuple[Resource, Event | None]:
            cur = self._current(ptr)
            self._check_owner(cur, owner)
            if cur.metadata.phase is Phase.TEARING_DOWN:
                return cur, None
            new = Resource(cur.metadata.evolve(phase=Phase.TEARING_DOWN,
                                   version=cur.metadata.version + 1, updated=self._now()),
                           cur.spec)
            return new, Event(EventType.UPDATED, new, cur)
        r = await self._commit(ptr.namespace, prepare)
        return not r.metadata.finalizers

    async def teardown_and_destroy(self, ptr: Pointer, *, owner: str = "") -> None:
        """Tear down, wait until every finalizer is removed, then destroy."""
        with self.watch(ptr.namespace, ptr.type, ptr.id) as w:
            if not await self.teardown(ptr, owner=owner):
                async for ev in w:
                    if ev.type is EventType.DESTROYED:
                        raise NotFound(f"resource {ptr} was destroyed by someone else")
                    if ev.type is EventType.ERRORED:
                        raise Conflict(f"waiting for finalizers of {ptr}: {ev.error}")
                    if ev.resource is not None and not ev.resource.metadata.finalizers:
                        break
        await self.destroy(ptr, owner=owner)

    async def add_finalizer(self, ptr: Pointer, *finalizers: str) -> Resource:
        def prepare() -> tuple[Resource, Event | None]:
            cur = self._current(ptr)
            missing = [f for f in finalizers if f not in cur.metadata.finalizers]
            if not missing:
                return cur, None
            if cur.metadata.phase is Phase.TEARING_DOWN:
                raise Conflict(f"resource {ptr} is being torn down: no new finalizers")
            new = Resource(cur.metadata.evolve(finalizers=cur.metadata.finalizers
                                   + tuple(missing), version=cur.metadata.version + 1,
                                   updated=self._now()), cur.spec)
            return new, Event(EventType.UPDATED, new, cur)
        return await self._commit(ptr.namespace, prepare)

    async def remove_finalizer(self, ptr: Pointer, *finalizers: str) -> Resource:
        def prepare() -> tuple[Resource, Event | None]:
            cur = self._current(ptr)
            keep = tuple(f for f in cur.metadata.finalizers if f not in finalizers)
            if keep == cur.metadata.finalizers:
                return cur, None
            new = Resource(cur.metadata.evolve(finalizers=keep,
                                   version=cur.metadata.version + 1, updated=self._now()),
                           cur.spec)
            return new, Event(EventType.UPDATED, new, cur)
        return await self._commit(ptr.namespace, prepare)

    # ---- watch ------------------------------------------------------------------------
    def subscribe(self, ns: str, type: str, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(event)` synchronously after each commit to (ns, type)."""
        subs = self._subs.setdefault((ns, type), [])
        subs.append(callback)

        def unsubscribe() -> None:
            try:
                subs.remove(callback)
            except ValueError:
                pass
        return unsubscribe

    def subscribe_type(self, type: str, callback: Subscriber) -> Callable[[], None]:
        """Like `subscribe`, for a type in every namespace."""
        subs = self._type_subs.setdefault(type, [])
        subs.append(callback)

        def unsubscribe() -> None:
            try:
                subs.remove(callback)
            except ValueError:
                pass
        return unsubscribe

    def watch_namespace(self, ns: str, *, bootstrap: bool = True,
                        buffer: int | None = None) -> Watch:
        """Watch every type in a namespace: (with `bootstrap`) CREATED for each current
        resource, BOOTSTRAPPED, then every change in commit order."""
        initial: list[Event] = []
        if bootstrap:
            for kns, ktype in self.kinds():
                if kns == ns:
                    initial.extend(Event(EventType.CREATED, r)
                                   for r in self.list_nowait(kns, ktype))
            initial.append(Event(EventType.BOOTSTRAPPED))
        w = Watch(buffer or self._watch_buffer, initial)
        subs = self._ns_subs.setdefault(ns, [])
        subs.append(w._push)

        def unsubscribe() -> None:
            try:
                subs.remove(w._push)
            except ValueError:
                pass
        w._attach(unsubscribe)
        return w

    def watch(self, ns: str, type: str, id: str | None = None, *, bootstrap: bool = True,
              tail_events: int = 0, query: Query = EVERYTHING,
              buffer: int | None = None) -> Watch:
        """Watch one resource (`id`) or a kind.

        One resource: its current state first (CREATED, or DESTROYED when absent), then
        changes. A kind with `bootstrap`: CREATED for each current resource, then
        BOOTSTRAPPED, then changes. `tail_events` > 0 instead replays that many past events.
        """
        if tail_events < 0 or tail_events > self._history_len:
            raise InvalidArgument(
                f"tail_events: expected 0..{self._history_len}, got {tail_events}")
        initial: list[Event] = []
        if id is not None:
            cur = self.get_nowait(ns, type, id)
            initial.append(Event(EventType.CREATED, cur) if cur is not None else
                           Event(EventType.DESTROYED, Resource(Metadata(ns, type, id), None)))
        elif tail_events:
            hist = [e for e in self._history.get((ns, type), ())
                    if _filter(e, None, query) is not None]
            initial.extend(hist[-tail_events:])
        elif bootstrap:
            initial.extend(Event(EventType.CREATED, r) for r in self.list_nowait(ns, type, query))
            initial.append(Event(EventType.BOOTSTRAPPED))
        w = Watch(buffer or self._watch_buffer, initial)

        def on_event(ev: Event) -> None:
            out = _filter(ev, id, query)
            if out is not None:
                w._push(out)
        w._attach(self.subscribe(ns, type, on_event))
        return w

    # ---- internals --------------------------------------------------------------------
    def _current(self, ptr: Pointer) -> Resource:
        cur = self.get_nowait(ptr.namespace, ptr.type, ptr.id)
        if cur is None:
            raise NotFound(f"resource {ptr} doesn't exist")
        return cur

    @staticmethod
    def _check_owner(cur: Resource, owner: str) -> None:
        if cur.metadata.owner != owner:
            want = cur.metadata.owner or "no owner"
            raise Conflict(f"resource {cur.pointer} is owned by {want!r}, "
                           f"not {owner or 'no owner'!r}")

    def _volatile(self, ns: str) -> bool:
        return self._store is None or ns not in self._persist

    def _commit_now(self, prepare: Callable[[], tuple[T, Event | None]]) -> T:
        result, ev = prepare()
        if ev is not None:
            self._apply(ev)
        return result

    async def _commit(self, ns: str, prepare: Callable[[], tuple[T, Event | None]]) -> T:
        if self._volatile(ns):
            return self._commit_now(prepare)
        store = self._store
        assert store is not None
        lock = self._locks.setdefault(ns, asyncio.Lock())
        async with lock:
            result, ev = prepare()
            if ev is not None:
                assert ev.resource is not None
                if ev.type is EventType.DESTROYED:
                    io = asyncio.ensure_future(asyncio.to_thread(store.delete, ev.resource.pointer))
                else:
                    io = asyncio.ensure_future(asyncio.to_thread(store.write, ev.resource))
                try:
                    await asyncio.shield(io)
                except asyncio.CancelledError:
                    # the write cannot be called back once started: let it land, make memory
                    # and watchers agree with the disk, then let the cancellation through
                    await asyncio.wait((io,))
                    if not io.cancelled() and io.exception() is None:
                        self._apply(ev)
                    raise
                self._apply(ev)
            return result

    def _apply(self, ev: Event) -> None:
        r = ev[1]
        assert r is not None
        md = r.metadata
        kind = (md[0], md[1])
        items = self._data.get(kind)
        if items is None:
            items = self._data[kind] = {}
        if ev[0] is EventType.DESTROYED:
            items.pop(md[2], None)
        else:
            items[md[2]] = r
        hist = self._history.get(kind)
        if hist is None:
            hist = self._history[kind] = deque(maxlen=self._history_len)
        hist.append(ev)
        subs = self._subs.get(kind)
        if subs:
            for cb in tuple(subs):
                cb(ev)
        tsubs = self._type_subs.get(md[1])
        if tsubs:
            for cb in tuple(tsubs):
                cb(ev)
        nsubs = self._ns_subs.get(md[0])
        if nsubs:
            for cb in tuple(nsubs):
                cb(ev)


def _filter(ev: Event, id: str | None, query: Query) -> Event | None:
    """The event as a watcher with this filter sees it (None: not at all)."""
    r = ev.resource
    if r is None:
        return ev
    if id is not None:
        return ev if r.id == id else None
    if query.empty:
        return ev
    now_in = query.matches(r.id, r.metadata.labels)
    if ev.type is not EventType.UPDATED or ev.old is None:
        return ev if now_in else None
    was_in = query.matches(ev.old.id, ev.old.metadata.labels)
    if now_in and was_in:
        return ev
    if now_in:
        return Event(EventType.CREATED, r)
    if was_in:
        return Event(EventType.DESTROYED, ev.old)
    return None
