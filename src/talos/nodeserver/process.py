"""The life of a node server process (`python -m talos apid|trustd`).

`main(name, prepare)`: `prepare()` reads and checks everything (files, certificates) and
returns the server; it then serves until SIGTERM or SIGINT, saying
`<name>: serving on <host>:<port>` on stderr once it listens (tests and supervisors wait for
that line), and stops gracefully. Any TalosError, before or while serving, is one line
`<name>: <message>` on stderr and exit status 1: never a traceback.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from talos.machinery.errors import InvalidArgument, TalosError


class NodeServer(Protocol):
    async def start(self) -> int: ...

    async def stop(self, grace: float | None = ...) -> None: ...


def read_file(path: str | Path, what: str) -> bytes:
    """A file's bytes; a missing or unreadable file is InvalidArgument naming it."""
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise InvalidArgument(f"{what} {str(path)!r}: {e.strerror}") from None


def listen_host(listen: str) -> str:
    return listen.rsplit(":", 1)[0]


async def serve_until_signalled(name: str, server: NodeServer, listen: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        port = await server.start()
        print(f"{name}: serving on {listen_host(listen)}:{port}", file=sys.stderr, flush=True)
        try:
            await stop.wait()
        finally:
            await server.stop()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


def main(name: str, prepare: Callable[[], tuple[NodeServer, str]]) -> int:
    """`prepare()` -> (server, listen address); serve it until signalled. Exit status."""
    try:
        server, listen = prepare()
        asyncio.run(serve_until_signalled(name, server, listen))
    except TalosError as e:
        print(f"{name}: {e}", file=sys.stderr)
        return 1
    return 0
