"""cluster.NodeIdentityController: this node's random discovery id (`Identities.cluster.
talos.dev`, id `local`), made once and kept in STATE (`node-identity.yaml`) so that it
survives reboots and upgrades, as Talos keeps it; a reset that wipes STATE makes a new one."""

from __future__ import annotations

import asyncio
import os
import secrets
import string

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machinery.atomic import write_atomic
from talos.machinery.resources.cluster import IDENTITY, LOCAL_IDENTITY, IdentitySpec

FILENAME = "node-identity.yaml"
_ALPHABET = string.digits + string.ascii_letters


def new_node_id() -> str:
    """32 random bytes in base62 (43 characters, like Talos's ids)."""
    n = int.from_bytes(secrets.token_bytes(32), "big")
    out = []
    for _ in range(43):
        n, r = divmod(n, 62)
        out.append(_ALPHABET[r])
    return "".join(out)


def load_or_create(state_dir: str) -> str:
    path = os.path.join(state_dir, FILENAME)
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "nodeId" and value.strip():
                    return value.strip()
    except FileNotFoundError:
        pass
    node_id = new_node_id()
    os.makedirs(state_dir, exist_ok=True)
    write_atomic(path, f"nodeId: {node_id}\n")
    return node_id


class NodeIdentityController:
    name = "cluster.NodeIdentityController"
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = (Output.of(IDENTITY),)

    def __init__(self, state_dir: str) -> None:
        self.state_dir = state_dir

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            node_id = await asyncio.to_thread(load_or_create, self.state_dir)
            await r.put(IDENTITY.default_namespace, IDENTITY.type, LOCAL_IDENTITY,
                        IdentitySpec(node_id))
