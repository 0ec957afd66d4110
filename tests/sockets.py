"""Sockets the tests open themselves, to find them again in the node's socket tables."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator


@contextlib.contextmanager
def tcp_pair() -> Iterator[tuple[socket.socket, socket.socket, socket.socket]]:
    """A listener on 127.0.0.1 and one established connection to it: (listener, client,
    accepted server side); all closed afterwards."""
    with socket.socket() as lst:
        lst.bind(("127.0.0.1", 0))
        lst.listen()
        with socket.create_connection(lst.getsockname()) as cli:
            srv, _ = lst.accept()
            with srv:
                yield lst, cli, srv
