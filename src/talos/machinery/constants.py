"""Constants shared by every component (ports, paths, role names), as Talos has them."""

from __future__ import annotations

APID_PORT = 50000
TRUSTD_PORT = 50001

# Paths inside a node (sandboxes mount the node's own directories there).
STATE_MOUNT = "/system/state"
EPHEMERAL_MOUNT = "/var"
SYSTEM_RUN = "/system/run"
MACHINED_SOCKET = "/system/run/machined/machine.sock"
CONFIG_FILENAME = "config.yaml"

# Roles carried in the client certificate's Subject Organization.
ROLE_ADMIN = "os:admin"
ROLE_OPERATOR = "os:operator"
ROLE_READER = "os:reader"
ROLE_ETCD_BACKUP = "os:etcd:backup"
ROLE_IMPERSONATOR = "os:impersonator"

# Local cluster defaults (talosctl cluster create).
DEFAULT_CLUSTER_NAME = "talos-default"
DEFAULT_CIDR = "10.5.0.0/24"
