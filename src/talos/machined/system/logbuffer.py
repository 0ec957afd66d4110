"""A bounded in-memory log of one service (about 1 MiB) that readers tail and follow."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

DEFAULT_CAPACITY = 1 << 20


class LogBuffer:
    """Append-only byte ring: the oldest bytes are dropped past `capacity`.

    Positions are absolute byte offsets since the buffer was created, so a follower knows
    what it has already seen even after the front has been dropped.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._data = bytearray()
        self._start = 0  # absolute offset of _data[0]
        self._waiters: list[asyncio.Future[None]] = []
        self._closed = False

    @property
    def end(self) -> int:
        return self._start + len(self._data)

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._data += chunk
        excess = len(self._data) - self.capacity
        if excess > 0:
            # drop whole lines when possible so tails start at a line boundary
            cut = self._data.find(b"\n", excess)
            cut = excess if cut < 0 or cut - excess > 4096 else cut + 1
            del self._data[:cut]
            self._start += cut
        self._notify()

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    def snapshot(self) -> bytes:
        return bytes(self._data)

    def tail_offset(self, lines: int) -> int:
        """Absolute offset where the last `lines` lines start (-1 or 0 lines: see below).

        lines < 0: everything kept; lines == 0: the current end.
        """
        if lines < 0:
            return self._start
        if lines == 0:
            return self.end
        data = self._data
        pos = len(data)
        if pos and data[pos - 1] == 0x0A:
            pos -= 1
        for _ in range(lines):
            nl = data.rfind(b"\n", 0, pos)
            if nl < 0:
                return self._start
            pos = nl
        return self._start + pos + 1

    def read_from(self, offset: int, limit: int = 64 * 1024) -> tuple[bytes, int]:
        """Bytes from absolute `offset` (clamped to what is kept) and the next offset."""
        offset = max(offset, self._start)
        rel = offset - self._start
        chunk = bytes(self._data[rel:rel + limit])
        return chunk, offset + len(chunk)

    async def wait_beyond(self, offset: int) -> None:
        """Return once there are bytes past `offset` (or the buffer is closed)."""
        while self.end <= offset and not self._closed:
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters = [*self._waiters, fut]
            await fut

    def close(self) -> None:
        self._closed = True
        self._notify()

    async def read(self, tail_lines: int = -1, follow: bool = False,
                   chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
        """Yield the tail, then (with `follow`) every new chunk until cancelled."""
        pos = self.tail_offset(tail_lines)
        while True:
            data, pos = self.read_from(pos, chunk)
            if data:
                yield data
                continue
            if not follow or self._closed:
                return
            await self.wait_beyond(pos)
