"""The node's META key-value store (keys uint8, as upstream v1.13.9's ADV): a file in STATE
(`STATE/meta.json`, key `0x0a` -> base64 value) replaced atomically on every change, so it
survives reboots and is wiped with STATE by `reset`, as upstream's META partition would be.
Capacity is upstream's: the values and their headers must fit the 256 KiB ADV block (else
ResourceExhausted, "meta write failed"); deleting a key that is not there is NotFound ("meta
key not found"). The node owns one store; the keys are published after every change (and at
boot by `load`) for `runtime.MetaKeyController`, which keeps the `MetaKey` resources."""

from __future__ import annotations

import asyncio
import base64
import json

from talos.machined.controllers.runtime.meta_key import MetaKeys, key_id
from talos.machinery.atomic import write_atomic
from talos.machinery.errors import FailedPrecondition, NotFound, TalosError

FILENAME = "meta.json"
#: upstream's Talos ADV: a 256 KiB block less its 40-byte header and trailer
DATA_LENGTH = 256 * 1024 - 40


class MetaFull(TalosError):
    """The values do not fit META (upstream answers ResourceExhausted)."""

    code = "RESOURCE_EXHAUSTED"


class MetaStore:
    """The META keys in one file; every change is read-modify-write under one lock."""

    def __init__(self, path: str, published: MetaKeys | None = None) -> None:
        self.path = path
        self.published = published
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

    async def _publish(self, tags: dict[int, bytes]) -> None:
        if self.published is not None:
            await self.published.publish(dict(tags))

    async def load(self) -> None:
        """Read the store and publish its keys (at boot, once STATE is there)."""
        async with self._lock:
            await self._publish(await asyncio.to_thread(self._load))

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
            await self._publish(tags)

    async def delete(self, key: int) -> None:
        async with self._lock:
            tags = await asyncio.to_thread(self._load)
            if tags.pop(key, None) is None:
                raise NotFound("meta key not found")
            await asyncio.to_thread(self._save, tags)
            await self._publish(tags)
