"""Behaviour every State implementation must show (in-memory and persisted alike)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from talos.cosi.resource import Phase, Pointer, Resource
from talos.cosi.state import EventType, LabelOp, LabelQuery, LabelTerm, Query, State, equal
from talos.machinery.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from talos.machinery.resources.definition import ResourceType, declare
from tests.unit.cosi.conftest import NS, TYPE


@dataclass(frozen=True)
class ThingSpec:
    value: int = 0
    name: str = ""


declare(ResourceType(TYPE, NS, ThingSpec))


def thing(id: str, value: int = 0, **labels: str) -> Resource:
    return Resource.new(NS, TYPE, id, ThingSpec(value, id), labels=labels)


async def test_create_assigns_version_one_and_owner(state: State) -> None:
    r = await state.create(thing("a", 1), owner="ctrl")
    assert (r.version, r.metadata.owner, r.metadata.phase) == (1, "ctrl", Phase.RUNNING)
    got = await state.get(NS, TYPE, "a")
    assert got == r and got.spec == ThingSpec(1, "a")
    with pytest.raises(AlreadyExists):
        await state.create(thing("a", 2))


async def test_update_bumps_version_and_stale_version_conflicts(state: State) -> None:
    v1 = await state.create(thing("a", 1))
    v2 = await state.update(v1.with_spec(ThingSpec(2)))
    assert v2.version == 2 and v2.metadata.created == v1.metadata.created
    with pytest.raises(Conflict, match="expected version 2, got 1"):
        await state.update(v1.with_spec(ThingSpec(3)))
    assert (await state.get(NS, TYPE, "a")).spec == ThingSpec(2)


async def test_missing_resources_are_not_found(state: State) -> None:
    with pytest.raises(NotFound):
        await state.get(NS, TYPE, "nope")
    with pytest.raises(NotFound):
        await state.update(thing("nope").with_metadata(version=1))
    with pytest.raises(NotFound):
        await state.destroy(Pointer(NS, TYPE, "nope"))


async def test_only_the_owner_writes_or_destroys(state: State) -> None:
    r = await state.create(thing("a"), owner="ctrl-a")
    with pytest.raises(Conflict, match="owned by 'ctrl-a'"):
        await state.update(r.with_spec(ThingSpec(5)), owner="ctrl-b")
    with pytest.raises(Conflict):
        await state.update(r.with_spec(ThingSpec(5)))
    with pytest.raises(Conflict):
        await state.destroy(r.pointer, owner="ctrl-b")
    with pytest.raises(Conflict):
        await state.teardown(r.pointer)
    await state.update(r.with_spec(ThingSpec(5)), owner="ctrl-a")
    await state.destroy(r.pointer, owner="ctrl-a")
    assert await state.list(NS, TYPE) == []


async def test_finalizers_block_destroy_until_removed(state: State) -> None:
    r = await state.create(thing("a"))
    await state.add_finalizer(r.pointer, "consumer")
    assert await state.teardown(r.pointer) is False
    torn = await state.get(NS, TYPE, "a")
    assert torn.metadata.phase is Phase.TEARING_DOWN
    with pytest.raises(Conflict, match="phase"):
        await state.update(torn)
    with pytest.raises(Conflict, match="pending finalizers: consumer"):
        await state.destroy(r.pointer)
    with pytest.raises(Conflict, match="torn down"):
        await state.add_finalizer(r.pointer, "late")
    await state.remove_finalizer(r.pointer, "consumer")
    assert await state.teardown(r.pointer) is True
    await state.destroy(r.pointer)
    with pytest.raises(NotFound):
        await state.get(NS, TYPE, "a")


async def test_teardown_and_destroy_waits_for_finalizers(state: State) -> None:
    r = await state.create(thing("a"))
    await state.add_finalizer(r.pointer, "f1")
    with state.watch(NS, TYPE, "a") as w:
        await w.next()  # current state
        task = asyncio.create_task(state.teardown_and_destroy(r.pointer))
        torn = await w.next()
    assert torn.resource is not None and torn.resource.metadata.phase is Phase.TEARING_DOWN
    assert not task.done()
    await state.remove_finalizer(r.pointer, "f1")
    await task
    assert await state.list(NS, TYPE) == []


async def test_label_and_id_queries(state: State) -> None:
    await state.create(thing("a1", app="web", tier="front"))
    await state.create(thing("a2", app="db"))
    await state.create(thing("b1"))
    ids = lambda rs: [r.id for r in rs]  # noqa: E731
    assert ids(await state.list(NS, TYPE, Query((LabelQuery((equal("app", "web"),)),)))) == ["a1"]
    assert ids(await state.list(NS, TYPE, Query((LabelQuery((LabelTerm("app"),)),)))) == [
        "a1", "a2"]
    not_app = LabelQuery((LabelTerm("app", LabelOp.NOT_EXISTS),))
    assert ids(await state.list(NS, TYPE, Query((not_app,)))) == ["b1"]
    assert ids(await state.list(NS, TYPE, Query(id_regexp="^a"))) == ["a1", "a2"]
    with pytest.raises(InvalidArgument, match="regexp"):
        Query(id_regexp="(")


async def test_watch_kind_bootstraps_then_streams_in_order(state: State) -> None:
    await state.create(thing("a"))
    with state.watch(NS, TYPE) as w:
        assert (await w.next()).type is EventType.CREATED
        assert (await w.next()).type is EventType.BOOTSTRAPPED
        b = await state.create(thing("b"))
        b2 = await state.update(b.with_spec(ThingSpec(9)))
        await state.destroy(b.pointer)
        evs = [await w.next() for _ in range(3)]
    assert [e.type for e in evs] == [EventType.CREATED, EventType.UPDATED, EventType.DESTROYED]
    assert evs[1].resource == b2 and evs[1].old is not None and evs[1].old.version == 1


async def test_watch_single_resource_starts_with_current_state(state: State) -> None:
    with state.watch(NS, TYPE, "a") as w:
        first = await w.next()
        assert first.type is EventType.DESTROYED
        await state.create(thing("b"))
        await state.create(thing("a", 3))
        ev = await w.next()
    assert ev.type is EventType.CREATED and ev.resource is not None and ev.resource.id == "a"


async def test_watch_tail_events_replays_history(state: State) -> None:
    r = await state.create(thing("a"))
    for v in range(2, 6):
        r = await state.update(r.with_spec(ThingSpec(v)))
    with state.watch(NS, TYPE, tail_events=2) as w:
        evs = w.drain()
    assert [e.resource.spec.value for e in evs if e.resource] == [4, 5]
    with pytest.raises(InvalidArgument, match="tail_events"):
        state.watch(NS, TYPE, tail_events=10**9)


async def test_watch_with_label_query_sees_resources_enter_and_leave(state: State) -> None:
    r = await state.create(thing("a", app="web"))
    q = Query((LabelQuery((equal("app", "web"),)),))
    with state.watch(NS, TYPE, query=q, bootstrap=False) as w:
        r = await state.update(r.with_metadata(labels={"app": "db"}))
        await state.update(r.with_metadata(labels={"app": "web"}))
        evs = w.drain()
    assert [e.type for e in evs] == [EventType.DESTROYED, EventType.CREATED]


async def test_watch_order_holds_under_concurrent_writers(state: State) -> None:
    writers, per_writer = 8, 25
    with state.watch(NS, TYPE, bootstrap=False, buffer=10_000) as w:
        async def writer(i: int) -> None:
            r = await state.create(thing(f"w{i}"))
            for v in range(1, per_writer):
                r = await state.update(r.with_spec(ThingSpec(v)))
                await asyncio.sleep(0)
        async with asyncio.TaskGroup() as tg:
            for i in range(writers):
                tg.create_task(writer(i))
        evs = w.drain()
    assert len(evs) == writers * per_writer
    for i in range(writers):
        versions = [e.resource.version for e in evs if e.resource and e.resource.id == f"w{i}"]
        assert versions == list(range(1, per_writer + 1))


async def test_slow_watcher_overflows_with_error_and_never_blocks_writers(state: State) -> None:
    with state.watch(NS, TYPE, bootstrap=False, buffer=5) as slow, \
            state.watch(NS, TYPE, bootstrap=False, buffer=1000) as fast:
        for i in range(20):
            await state.create(thing(f"r{i}"))
        got = [ev async for ev in slow]
        assert [e.type for e in got[:5]] == [EventType.CREATED] * 5
        assert got[5].type is EventType.ERRORED and "overflow" in (got[5].error or "")
        assert len(got) == 6 and slow.overflowed
        assert len(fast.drain()) == 20
    assert len(await state.list(NS, TYPE)) == 20


async def test_watch_namespace_sees_every_type_in_commit_order(state: State) -> None:
    other = "Others.test.talos.dev"
    await state.create(thing("a"))
    with state.watch_namespace(NS) as w:
        assert [e.type for e in w.drain()] == [EventType.CREATED, EventType.BOOTSTRAPPED]
        await state.create(Resource.new(NS, other, "o", ThingSpec()))
        await state.create(thing("b"))
        await state.create(Resource.new("elsewhere", other, "x", ThingSpec()))
        evs = w.drain()
    assert [(e.resource.metadata.type, e.resource.id) for e in evs if e.resource] == [
        (other, "o"), (TYPE, "b")]
