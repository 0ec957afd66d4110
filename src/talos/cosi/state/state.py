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
Subscribers = list[Subscriber]  # (inside State, `list` names the method)

T = TypeVar("T")

DEFAULT_WATCH_BUFFER = 10_000
DEFAULT_HISTORY = 1_000

_tuple_new = tuple.__new__  # builds Metadata/Resource/Event tuples without their Python __new__
_CREATED, _UPDATED, _DESTROYED = EventType.CREATED, EventType.UPDATED, EventType.DESTROYED
_RUNNING = Phase.RUNNING


class _Kind:
    """Everything a commit to one (namespace, type) touches, behind one dict lookup:
    its resources, its recent events and the subscribers an event fans out to (cached
    until any subscription changes; `gen` is the subscription generation it was built at).

    A history entry is an Event, or while nobody subscribes the same four fields as a
    plain tuple (making the Event is skipped on the hot path); read it with Event._make.
    """

    __slots__ = ("fanout", "gen", "history", "items")

    def __init__(self, history_len: int) -> None:
        self.items: dict[str, Resource] = {}
        self.history: deque[tuple[Any, ...]] = deque(maxlen=history_len)
        self.fanout: tuple[Subscriber, ...] = ()
        self.gen = -1


class State:
    def __init__(self, *, persist_dir: Path | None = None, persist: Iterable[str] = (),
                 watch_buffer: int = DEFAULT_WATCH_BUFFER, history: int = DEFAULT_HISTORY,
                 now: Callable[[], int] = time.time_ns) -> None:
        self._kinds: dict[Kind, _Kind] = {}
        self._subs: dict[Kind, list[Subscriber]] = {}
        self._type_subs: dict[str, list[Subscriber]] = {}
        self._ns_subs: dict[str, list[Subscriber]] = {}
        self._gen = 0  # bumped on every (un)subscribe: invalidates each _Kind.fanout
        self._history_len = history
        self._watch_buffer = watch_buffer
        self._now = now
        # invariant: non-empty only with a store (so `ns in _persist` alone means "on disk")
        self._persist = frozenset(persist)
        if self._persist and persist_dir is None:
            raise InvalidArgument("persisted namespaces need a persist_dir")
        self._store = FileStore(persist_dir) if persist_dir is not None else None
        self._locks: dict[str, asyncio.Lock] = {}
        #: (namespace, type, its _Kind) of the last in-memory update (see update)
        self._last_kind: tuple[str, str, _Kind | None] = ("", "", None)

    @classmethod
    async def open(cls, **kw: Any) -> State:
        """A state with its persisted namespaces loaded from disk."""
        st = cls(**kw)
        if st._store is not None:
            store = st._store
            for ns in sorted(st._persist):
                for r in await asyncio.to_thread(store.load, ns):
                    st._kind((ns, r.metadata.type)).items[r.id] = r
        return st

    # ---- reads ------------------------------------------------------------------------
    def get_nowait(self, ns: str, type: str, id: str) -> Resource | None:
        k = self._kinds.get((ns, type))
        return k.items.get(id) if k is not None else None

    async def get(self, ns: str, type: str, id: str) -> Resource:
        r = self.get_nowait(ns, type, id)
        if r is None:
            raise NotFound(f"resource {ns}/{type}/{id} doesn't exist")
        return r

    def list_nowait(self, ns: str, type: str, query: Query = EVERYTHING) -> list[Resource]:
        k = self._kinds.get((ns, type))
        if k is None:
            return []
        return [r for _, r in sorted(k.items.items())
                if query.empty or query.matches(r.id, r.metadata.labels)]

    async def list(self, ns: str, type: str, query: Query = EVERYTHING) -> list[Resource]:
        return self.list_nowait(ns, type, query)

    def kinds(self) -> Iterator[Kind]:
        return iter(sorted(kind for kind, k in self._kinds.items() if k.items))

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
        # The hot path (in-memory namespaces): _prepare_update + _apply inlined, with tuple
        # unpacking (indexing a tuple subclass is slow). Nothing here awaits, so no lock.
        # Any failed check goes through _prepare_update, which raises the precise error.
        md = resource[0]
        ns, type, id, version, cur_owner, phase, created, _, finalizers, labels, annotations = md
        if self._persist and ns in self._persist:
            return await self._commit(
                ns, lambda: self._prepare_update(resource, owner, expected_phase))
        # the kind written last, when this is the same (namespace, type) strings again (a
        # resource built from a stored one carries them): no key tuple to build and hash.
        # Kinds are never removed, so a cached one stays the right one.
        last = self._last_kind
        if last[0] is ns and last[1] is type:
            k: _Kind | None = last[2]
        else:
            k = self._kinds.get((ns, type))
            if k is not None:
                self._last_kind = (ns, type, k)
        cur = k.items.get(id) if k is not None else None
        if cur is None:
            self._prepare_update(resource, owner, expected_phase)  # raises NotFound
        assert k is not None and cur is not None
        cur_md = cur[0]
        if cur_md is not md:  # (a resource built from the stored one keeps its metadata:
            # owner, phase, created, finalizers and version are already the current ones)
            _, _, _, cur_version, cur_owner, phase, created, _, finalizers, _, _ = cur_md
            if version != cur_version:
                self._prepare_update(resource, owner, expected_phase)  # raises Conflict
        if cur_owner != owner or (expected_phase is not None and phase is not expected_phase):
            self._prepare_update(resource, owner, expected_phase)  # raises
        new = _tuple_new(Resource, (
            _tuple_new(Metadata, (ns, type, id, version + 1, owner, phase, created,
                                  self._now(), finalizers, labels, annotations)),
            resource[1]))
        k.items[id] = new
        if k.gen != self._gen:
            self._refresh_fanout(k, ns, type)
        if k.fanout:
            ev = _tuple_new(Event, (_UPDATED, new, cur, None))
            k.history.append(ev)
            for cb in k.fanout:
                cb(ev)
        else:
            k.history.append((_UPDATED, new, cur, None))
        return new

    def _prepare_update(self, resource: Resource, owner: str,
                        expected_phase: Phase | None) -> tuple[Resource, Event]:
        # hot path: index the metadata tuple directly (see Metadata field order)
        md = resource[0]
        cur = self.get_nowait(md[0], md[1], md[2])
        if cur is None:
            raise NotFound(f"resource {md.pointer} doesn't exist")
        cmd = cur[0]
        if cmd[4] != owner:
            self._check_owner(cur, owner)
        if md[3] != cmd[3]:
            raise Conflict(
                f"resource {cur.pointer} update conflict: expected version "
                f"{cmd[3]}, got {md[3]}")
        if expected_phase is not None and cmd[5] is not expected_phase:
            raise Conflict(f"resource {cur.pointer} is in phase {cmd[5]}, "
                           f"expected {expected_phase}")
        new_md = _tuple_new(Metadata, (cmd[0], cmd[1], cmd[2], cmd[3] + 1, cmd[4], cmd[5],
                                       cmd[6], self._now(), cmd[8], md[9], md[10]))
        new = _tuple_new(Resource, (new_md, resource[1]))
        return new, _tuple_new(Event, (_UPDATED, new, cur, None))

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
        return self._subscribe(self._subs.setdefault((ns, type), []), callback)

    def subscribe_type(self, type: str, callback: Subscriber) -> Callable[[], None]:
        """Like `subscribe`, for a type in every namespace."""
        return self._subscribe(self._type_subs.setdefault(type, []), callback)

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
        w._attach(self._subscribe(self._ns_subs.setdefault(ns, []), w._push))
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
            k = self._kinds.get((ns, type))
            seen = (_filter(Event._make(e), None, query)
                    for e in (k.history if k is not None else ()))
            hist = [ev for ev in seen if ev is not None]
            initial.extend(hist[-tail_events:])
        elif bootstrap:
            initial.extend(Event(EventType.CREATED, r) for r in self.list_nowait(ns, type, query))
            initial.append(Event(EventType.BOOTSTRAPPED))
        w = Watch(buffer or self._watch_buffer, initial)
        push = w._push
        callback: Subscriber
        if id is not None:
            def callback(ev: Event) -> None:
                r = ev[1]
                if r is None or r[0][2] == id:
                    push(ev)
        elif query.empty:
            callback = push  # every event of the kind, as is
        else:
            def callback(ev: Event) -> None:
                out = _filter(ev, None, query)
                if out is not None:
                    push(out)
        w._attach(self.subscribe(ns, type, callback))
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

    async def _commit(self, ns: str, prepare: Callable[[], tuple[T, Event | None]]) -> T:
        if ns not in self._persist:
            result, ev = prepare()
            if ev is not None:
                self._apply(ev)
            return result
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

    def _kind(self, kind: Kind) -> _Kind:
        k = self._kinds.get(kind)
        if k is None:
            k = self._kinds[kind] = _Kind(self._history_len)
        return k

    def _apply(self, ev: Event) -> None:
        """Commit an event to memory and the history, then hand it to every subscriber
        (kind subscribers, then type-wide, then namespace-wide; each in subscription order).
        State.update inlines this for in-memory namespaces: keep the two in step."""
        r = ev[1]
        assert r is not None
        md = r[0]
        k = self._kind((md[0], md[1]))
        if ev[0] is _DESTROYED:
            k.items.pop(md[2], None)
        else:
            k.items[md[2]] = r
        k.history.append(ev)
        if k.gen != self._gen:
            self._refresh_fanout(k, md[0], md[1])
        # the cached tuple is a snapshot: callbacks may (un)subscribe while it is walked
        for cb in k.fanout:
            cb(ev)

    def _refresh_fanout(self, k: _Kind, ns: str, type: str) -> None:
        k.fanout = (*self._subs.get((ns, type), ()), *self._type_subs.get(type, ()),
                    *self._ns_subs.get(ns, ()))
        k.gen = self._gen

    def _subscribe(self, subs: Subscribers, callback: Subscriber) -> Callable[[], None]:
        subs.append(callback)
        self._gen += 1

        def unsubscribe() -> None:
            try:
                subs.remove(callback)
            except ValueError:
                return
            self._gen += 1
        return unsubscribe


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
