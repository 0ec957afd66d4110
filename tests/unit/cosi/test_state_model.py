"""Property: for any sequence of writes, a watcher replaying its events rebuilds the state."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from talos.cosi.resource import Pointer, Resource
from talos.cosi.spec import RawSpec
from talos.cosi.state import EventType, State
from talos.machinery.errors import TalosError

NS, TYPE = "model", "Models.test.talos.dev"
ops = st.lists(st.tuples(st.sampled_from(["create", "update", "destroy"]),
                         st.sampled_from(["a", "b", "c"]), st.integers(0, 9)), max_size=40)


async def run(state: State, script: list[tuple[str, str, int]]) -> None:
    with state.watch(NS, TYPE) as w:
        model: dict[str, tuple[int, str]] = {}
        for op, id, n in script:
            try:
                if op == "create":
                    await state.create(Resource.new(NS, TYPE, id, RawSpec(f"n: {n}\n")))
                elif op == "update":
                    cur = await state.get(NS, TYPE, id)
                    await state.update(cur.with_spec(RawSpec(f"n: {n}\n")))
                else:
                    await state.destroy(Pointer(NS, TYPE, id))
            except TalosError:
                pass
        for ev in w.drain():
            if ev.type is EventType.BOOTSTRAPPED:
                continue
            assert ev.resource is not None
            if ev.type is EventType.DESTROYED:
                del model[ev.resource.id]
            else:
                prev = model.get(ev.resource.id, (0, ""))[0]
                assert ev.resource.version == prev + 1
                model[ev.resource.id] = (ev.resource.version, ev.resource.spec.yaml)
    actual = {r.id: (r.version, r.spec.yaml) for r in await state.list(NS, TYPE)}
    assert model == actual


@settings(max_examples=40, deadline=None)
@given(script=ops, persisted=st.booleans())
def test_watch_replay_rebuilds_state(script: list[tuple[str, str, int]],
                                     persisted: bool) -> None:
    async def main() -> None:
        if not persisted:
            await run(State(), script)
            return
        with tempfile.TemporaryDirectory() as d:
            st_ = await State.open(persist_dir=Path(d), persist=[NS])
            await run(st_, script)
            reopened = await State.open(persist_dir=Path(d), persist=[NS])
            assert await reopened.list(NS, TYPE) == await st_.list(NS, TYPE)
    asyncio.run(main())
