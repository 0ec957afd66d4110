"""Wake a controller when the kernel reports a network change (rtnetlink multicast groups).

A controller that mirrors kernel state (links, addresses, routes) subscribes here while it
runs: a non-blocking `NETLINK_ROUTE` socket bound to the groups it cares about, watched by
the event loop (`add_reader`), never read in a thread and never blocking. The messages are
only a signal: the controller re-reads the whole table in a thread and converges on it, so a
dropped message (`ENOBUFS` when the socket overflows) costs nothing but one more pass.

The socket belongs to the network namespace machined runs in: a sandbox node sees its own
links, a plain-mode node the host's.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Iterator

NETLINK_ROUTE = 0
RTMGRP_LINK = 0x1
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV4_ROUTE = 0x40
RTMGRP_IPV6_IFADDR = 0x100
RTMGRP_IPV6_ROUTE = 0x400

LINKS = RTMGRP_LINK
ADDRESSES = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR
ROUTES = RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE


@contextlib.contextmanager
def netlink_events(groups: int, wake: Callable[[], None]) -> Iterator[None]:
    """Call `wake()` on the running loop whenever a message arrives for `groups`."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK
                         | socket.SOCK_CLOEXEC, NETLINK_ROUTE)
    try:
        sock.bind((0, groups))

        def drain() -> None:
            try:
                while sock.recv(65536):
                    pass
            except BlockingIOError:
                pass
            except OSError:
                pass  # ENOBUFS: messages were dropped; the full re-read covers them
            wake()

        loop.add_reader(sock.fileno(), drain)
        try:
            yield
        finally:
            loop.remove_reader(sock.fileno())
    finally:
        sock.close()
