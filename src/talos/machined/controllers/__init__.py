"""machined's controllers, one per file under `<namespace>/`; `register_all` wires them."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from talos.machined.node import Node


def register_all(node: Node) -> None:
    from talos.machined.controllers.network.hostname_status import HostnameStatusController
    from talos.machined.controllers.network.node_address import NodeAddressController
    from talos.machined.controllers.network.time_server_status import (
        TimeServerStatusController,
    )
    from talos.machined.controllers.time.sync import SyncController
    from talos.machined.ntp import query

    set_hostname = socket.sethostname if node.sandbox else None
    node.runtime.register(HostnameStatusController(default=socket.gethostname(),
                                                   set_hostname=set_hostname))
    node.runtime.register(NodeAddressController())
    node.runtime.register(TimeServerStatusController())
    node.runtime.register(SyncController(query))
