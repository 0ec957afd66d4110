"""cluster.NodeIdentityController: a random node id made once and kept in STATE, so the
same node has the same id after a restart; a wiped STATE makes a new one."""

from __future__ import annotations

import shutil
from pathlib import Path

from talos.cosi.testing import ControllerHarness
from talos.machined.controllers.cluster.node_identity import FILENAME, NodeIdentityController
from talos.machinery.resources.cluster import IDENTITY, LOCAL_IDENTITY


async def identity(state_dir: Path) -> str:
    async with ControllerHarness(NodeIdentityController(str(state_dir))) as h:
        r = await h.until_output(IDENTITY, LOCAL_IDENTITY)
        await h.settled()
        assert list(h.outputs(IDENTITY)) == [LOCAL_IDENTITY]
    node_id: str = r.spec.node_id
    return node_id


async def test_identity_is_kept_across_restarts_and_new_after_a_wipe(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = await identity(state)
    assert len(first) == 43 and first.isalnum()
    assert (state / FILENAME).read_text() == f"nodeId: {first}\n"

    assert await identity(state) == first  # "reboot": same STATE, same id

    shutil.rmtree(state)  # reset wiping STATE
    assert await identity(state) not in ("", first)
