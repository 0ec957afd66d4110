"""runtime.MetaKeyController: one MetaKey resource per META key, id `0x0a` as upstream
v1.13.9 (`MetaKeyTagToID`), following every write and delete of the node's store (a file
in STATE), and the keys already in STATE when the node starts."""

from __future__ import annotations

from pathlib import Path

from talos.cosi.testing import ControllerHarness
from talos.machined.controllers.runtime.meta_key import MetaKeyController
from talos.machined.observed import Observed
from talos.machined.server.metastore import MetaStore
from talos.machinery.resources.definition import resolve
from talos.machinery.resources.runtime import META_KEY


def _keys(h: ControllerHarness) -> dict[str, str]:
    return {r.metadata.id: r.spec.value
            for r in h.state.list_nowait(META_KEY.default_namespace, META_KEY.type)}


async def test_every_key_written_is_a_resource_and_a_deleted_one_is_gone(
        tmp_path: Path) -> None:
    keys = Observed(None)
    store = MetaStore(str(tmp_path / "meta.json"), keys)
    async with ControllerHarness(MetaKeyController(keys)) as h:
        await store.load()
        assert _keys(h) == {}
        await store.write(0x0A, b"hello world")
        await store.write(200, b"\xffnot utf-8")
        assert _keys(h) == {"0x0a": "hello world", "0xc8": "\ufffdnot utf-8"}
        r = h.get(META_KEY, "0x0a")
        assert r is not None and r.metadata.owner == "runtime.MetaKeyController"
        await store.write(0x0A, b"replaced")
        await store.delete(200)
        assert _keys(h) == {"0x0a": "replaced"}


async def test_keys_already_in_state_are_published_when_the_store_is_loaded(
        tmp_path: Path) -> None:
    await MetaStore(str(tmp_path / "meta.json")).write(7, b"from the last boot")
    keys = Observed(None)
    store = MetaStore(str(tmp_path / "meta.json"), keys)
    async with ControllerHarness(MetaKeyController(keys)) as h:
        await h.settled()
        assert _keys(h) == {}  # nothing until the node read STATE
        await store.load()
        assert _keys(h) == {"0x07": "from the last boot"}


def test_the_type_is_upstreams_and_get_meta_resolves_to_it() -> None:
    assert META_KEY.type == "MetaKeys.runtime.talos.dev"
    assert META_KEY.default_namespace == "runtime"
    assert [(c.name, c.json_path) for c in META_KEY.print_columns] == [("Value", "{.value}")]
    for name in ("meta", "metakeys", "metakey", "MetaKey", "MetaKeys.runtime.talos.dev"):
        assert resolve(name) is META_KEY
