"""The state's commit path: cached subscriber fan-out, lazily built history events and the
in-memory update fast path keep the semantics of the plain path."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from talos.cosi.resource import Phase, Resource
from talos.cosi.state import Event, EventType, LabelQuery, Query, State, equal
from talos.machinery.errors import Conflict, NotFound
from tests.unit.cosi.conftest import NS, TYPE


@dataclass(frozen=True)
class Spec:
    value: int = 0


def item(id: str, value: int = 0, **labels: str) -> Resource:
    return Resource.new(NS, TYPE, id, Spec(value), labels=labels)


def values(evs: list[Event]) -> list[tuple[EventType, int]]:
    return [(e.type, e.resource.spec.value) for e in evs if e.resource is not None]


async def test_subscribers_added_and_removed_between_commits(state: State) -> None:
    r = await state.create(item("a", 0))
    r = await state.update(r.with_spec(Spec(1)))  # committed with nobody listening
    seen_kind: list[Event] = []
    seen_type: list[Event] = []
    stop_kind = state.subscribe(NS, TYPE, seen_kind.append)
    stop_type = state.subscribe_type(TYPE, seen_type.append)
    with state.watch_namespace(NS, bootstrap=False) as ns_watch, \
            state.watch(NS, TYPE, bootstrap=False) as kind_watch:
        r = await state.update(r.with_spec(Spec(2)))
        stop_kind()
        r = await state.update(r.with_spec(Spec(3)))
        stop_type()
        kind_watch.close()
        r = await state.update(r.with_spec(Spec(4)))
        assert values(ns_watch.drain()) == [(EventType.UPDATED, 2), (EventType.UPDATED, 3),
                                            (EventType.UPDATED, 4)]
    r = await state.update(r.with_spec(Spec(5)))
    assert values(seen_kind) == [(EventType.UPDATED, 2)]
    assert values(seen_type) == [(EventType.UPDATED, 2), (EventType.UPDATED, 3)]
    # a subscriber on another namespace's kind of the same type hears nothing from NS
    other: list[Event] = []
    state.subscribe("elsewhere", TYPE, other.append)
    await state.update(r.with_spec(Spec(6)))
    assert other == []


async def test_a_callback_may_unsubscribe_others_while_an_event_fans_out(state: State) -> None:
    order: list[str] = []
    stops: dict[str, object] = {}

    def first(ev: Event) -> None:
        order.append("first")
        stop = stops.pop("second", None)
        if callable(stop):
            stop()

    def second(ev: Event) -> None:
        order.append("second")

    stops["first"] = state.subscribe(NS, TYPE, first)
    stops["second"] = state.subscribe(NS, TYPE, second)
    r = await state.create(item("a"))
    # second was removed while the first event was being handed out: it may still get that
    # one (the fan-out is a snapshot) but nothing after it
    await state.update(r.with_spec(Spec(1)))
    assert order[0] == "first" and order[-1] == "first"
    assert order.count("first") == 2 and order.count("second") <= 1


async def test_history_replays_events_committed_without_subscribers(state: State) -> None:
    r = await state.create(item("a", 0, app="web"))
    r = await state.update(r.with_spec(Spec(1)))
    r = await state.update(r.with_metadata(labels={"app": "db"}))
    with state.watch(NS, TYPE, tail_events=3) as w:
        evs = w.drain()
    assert all(isinstance(e, Event) for e in evs)
    assert [e.type for e in evs] == [EventType.CREATED, EventType.UPDATED, EventType.UPDATED]
    assert evs[1].old is not None and evs[1].old.spec == Spec(0)
    assert evs[2].resource is not None and evs[2].resource.metadata.labels == {"app": "db"}
    # the label query is applied to replayed entries too: leaving the query is a DESTROYED
    web = Query((LabelQuery((equal("app", "web"),)),))
    with state.watch(NS, TYPE, tail_events=3, query=web) as w:
        assert [e.type for e in w.drain()] == [EventType.CREATED, EventType.UPDATED,
                                               EventType.DESTROYED]


async def test_update_keeps_identity_fields_and_takes_labels_from_the_request() -> None:
    clock = itertools.count(1_000)
    state = State(now=lambda: next(clock))
    v1 = await state.create(item("a", 0, keep="x"), owner="ctrl")
    v2 = await state.update(v1.with_spec(Spec(7)).with_metadata(labels={"new": "y"},
                                                                 annotations={"n": "1"}),
                            owner="ctrl")
    md1, md2 = v1.metadata, v2.metadata
    assert (md2.namespace, md2.type, md2.id, md2.owner, md2.phase) == (
        NS, TYPE, "a", "ctrl", Phase.RUNNING)
    assert (md2.version, md2.created_ns, md2.updated_ns) == (2, md1.created_ns, 1_001)
    assert dict(md2.labels) == {"new": "y"} and dict(md2.annotations) == {"n": "1"}
    assert v2.spec == Spec(7) and await state.get(NS, TYPE, "a") == v2


async def test_update_checks_phase_owner_version_and_existence(state: State) -> None:
    r = await state.create(item("a"), owner="ctrl")
    await state.add_finalizer(r.pointer, "hold")
    assert not await state.teardown(r.pointer, owner="ctrl")
    torn = await state.get(NS, TYPE, "a")
    with pytest.raises(Conflict, match="phase tearingDown"):
        await state.update(torn.with_spec(Spec(1)), owner="ctrl")
    done = await state.update(torn.with_spec(Spec(1)), owner="ctrl", expected_phase=None)
    assert done.metadata.phase is Phase.TEARING_DOWN and done.version == torn.version + 1
    with pytest.raises(Conflict, match="owned by 'ctrl'"):
        await state.update(done.with_spec(Spec(2)), expected_phase=None)
    with pytest.raises(Conflict, match="update conflict"):
        await state.update(torn.with_spec(Spec(2)), owner="ctrl", expected_phase=None)
    with pytest.raises(NotFound):
        await state.update(Resource.new(NS, "Unknown.test.talos.dev", "a", Spec()))
    assert (await state.get(NS, TYPE, "a")) == done
