"""The HTTP server that hands each VM its machine config (`talos.config=URL`).

It listens on the bridge gateway, on a port the kernel picks, and serves
`/<node name>.yaml` to that node's address only (a config holds the node's keys: another
VM on the bridge asking for it gets 404). It runs in a thread of `talosctl cluster create`
for as long as the create waits; `fetched` tells which nodes have their config.
No name resolution anywhere (a server that calls getfqdn stalls without DNS).
"""

from __future__ import annotations

import http.server
import socketserver
import threading
from dataclasses import dataclass, field


@dataclass
class _Served:
    #: path -> (the only client address allowed, body)
    configs: dict[str, tuple[str, bytes]]
    fetched: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: set once every config has been downloaded
    all_fetched: threading.Event = field(default_factory=threading.Event)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        served = self.server.served
        entry = served.configs.get(self.path)
        if entry is None or entry[0] != self.client_address[0]:
            self.send_error(404)
            return
        body = entry[1]
        self.send_response(200)
        self.send_header("Content-Type", "application/yaml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with served.lock:
            served.fetched.add(self.path)
            if served.fetched >= served.configs.keys():
                served.all_fetched.set()

    def log_message(self, format: str, *args: object) -> None:
        pass  # the create's own progress says what matters


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    served: _Served


class ConfigServer:
    """Serves `configs` ({node name: (node address, config)}) on `host`; a context manager
    (the thread stops and the socket closes on exit)."""

    def __init__(self, host: str, configs: dict[str, tuple[str, bytes]]) -> None:
        self._server = _Server((host, 0), _Handler)
        self._server.served = _Served({f"/{name}.yaml": entry
                                       for name, entry in configs.items()})
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="config-server", daemon=True)
        self.host = host

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, node: str) -> str:
        return f"http://{self.host}:{self.port}/{node}.yaml"

    def fetched(self, node: str) -> bool:
        served = self._server.served
        with served.lock:
            return f"/{node}.yaml" in served.fetched

    def wait_all_fetched(self, timeout: float | None = None) -> bool:
        """Block until every node has its config (run it in a thread from async code)."""
        return self._server.served.all_fetched.wait(timeout)

    def start(self) -> ConfigServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> ConfigServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
