"""MachineService MetaWrite / MetaDelete (mixed into MachineServicer): the node's META
key-value store, keys are uint8 as upstream (v1.13.9).

Upstream keeps META in a partition of the system disk (and refuses the methods in container
mode). A node here has no META partition: the store is a file in STATE (`STATE/meta.json`,
key `0x0a` -> base64 value), replaced atomically on every change, so it survives reboots
and is wiped with STATE by `reset`, as the partition would be. Capacity is upstream's: the
values and their headers must fit the 256 KiB ADV block (else ResourceExhausted, "meta write
failed"); deleting a key that is not there is NotFound ("meta key not found").

Not done yet: the `MetaKey` resources (`talosctl get meta`) upstream publishes from META;
publishing them needs a controller registered in machined's controller list.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from typing import Any, TypeAlias

import grpc

from talos.api.common import common_pb2
from talos.api.machine import machine_pb2 as m
from talos.machined.server.context import NodeAPI
from talos.machinery.atomic import write_atomic
from talos.machinery.errors import FailedPrecondition, InvalidArgument, NotFound, TalosError

Ctx: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"

FILENAME = "meta.json"
#: upstream's Talos ADV: a 256 KiB block less its 40-byte header and trailer
DATA_LENGTH = 256 * 1024 - 40


class MetaFull(TalosError):
    """The values do not fit META (upstream answers ResourceExhausted)."""

    code = "RESOURCE_EXHAUSTED"


def key_id(key: int) -> str:
    """The id upstream gives a META key (`MetaKeyTagToID`): 0x0a."""
    return f"0x{key:02x}"


def check_key(key: int) -> int:
    if key > 0xFF:
        raise InvalidArgument(f"key must be a uint8, got {key}")
    return key


class MetaStore:
    """The META keys in one file; every change is read-modify-write under one lock."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = asyncio.Lock()

    def _load(self) -> dict[int, bytes]:
        try:
            with open(self.path, "rb") as f:
                raw = json.load(f)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise FailedPrecondition(f"META store {self.path} is unreadable: {exc}") from None
        if not isinstance(raw, dict):
            raise FailedPrecondition(f"META store {self.path}: expected an object of keys")
        return {int(k, 16): base64.b64decode(v) for k, v in raw.items()}

    def _save(self, tags: dict[int, bytes]) -> None:
        doc = {key_id(k): base64.b64encode(v).decode() for k, v in sorted(tags.items())}
        write_atomic(self.path, json.dumps(doc, indent=1) + "\n")

    def read(self) -> dict[int, bytes]:
        return self._load()

    async def write(self, key: int, value: bytes) -> None:
        async with self._lock:
            tags = await asyncio.to_thread(self._load)
            # upstream's size rule (talos ADV SetTagBytes), the same bytes fit the same way
            size = 20 + sum(len(v) + 8 for v in tags.values()) + len(value) \
                - len(tags.get(key, b""))
            if size > DATA_LENGTH:
                raise MetaFull("meta write failed")
            tags[key] = value
            await asyncio.to_thread(self._save, tags)

    async def delete(self, key: int) -> None:
        async with self._lock:
            tags = await asyncio.to_thread(self._load)
            if tags.pop(key, None) is None:
                raise NotFound("meta key not found")
            await asyncio.to_thread(self._save, tags)


class MetaMethods:
    node: NodeAPI
    _meta: MetaStore | None = None

    def _meta_store(self) -> MetaStore:
        if self._meta is None:
            self._meta = MetaStore(os.path.join(self.node.paths.state, FILENAME))
        return self._meta

    async def MetaWrite(self, request: m.MetaWriteRequest, context: Ctx
                        ) -> m.MetaWriteResponse:
        await self._meta_store().write(check_key(request.key), request.value)
        return m.MetaWriteResponse(messages=[m.MetaWrite(
            metadata=common_pb2.Metadata(hostname=self.node.hostname))])

    async def MetaDelete(self, request: m.MetaDeleteRequest, context: Ctx
                         ) -> m.MetaDeleteResponse:
        await self._meta_store().delete(check_key(request.key))
        return m.MetaDeleteResponse(messages=[m.MetaDelete(
            metadata=common_pb2.Metadata(hostname=self.node.hostname))])
