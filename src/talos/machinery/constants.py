"""Constants shared by every component (ports, paths), as Talos has them."""

from __future__ import annotations

from talos.machinery import role

APID_PORT = 50000
TRUSTD_PORT = 50001

#: gRPC message size limit of every server and client (Talos: constants.GRPCMaxMessageSize)
GRPC_MAX_MESSAGE_SIZE = 32 << 20
GRPC_MESSAGE_SIZE_OPTIONS = (("grpc.max_receive_message_length", GRPC_MAX_MESSAGE_SIZE),
                             ("grpc.max_send_message_length", GRPC_MAX_MESSAGE_SIZE))

# Paths inside a node (sandboxes mount the node's own directories there).
STATE_MOUNT = "/system/state"
EPHEMERAL_MOUNT = "/var"
SYSTEM_RUN = "/system/run"
MACHINED_SOCKET = "/system/run/machined/machine.sock"
CONFIG_FILENAME = "config.yaml"

# Roles live in talos.machinery.role.
# TODO(issue 16): machined/services/identity.py still imports this name; drop it once machined
# (being restructured) imports talos.machinery.role.
ROLE_IMPERSONATOR = role.IMPERSONATOR

# Local cluster defaults (talosctl cluster create).
DEFAULT_CLUSTER_NAME = "talos-default"
DEFAULT_CIDR = "10.5.0.0/24"

# Environment the sandbox launcher hands to machined (PID 1 of the node) so it can build its
# mounts, and so it can refuse to touch mounts while still in the host's mount namespace.
SANDBOX_ENV_HOST_MNTNS = "TALOS_HOST_MNTNS"
SANDBOX_ENV_ROOTFS = "TALOS_SANDBOX_ROOTFS"
SANDBOX_ENV_STATE = "TALOS_SANDBOX_STATE"
SANDBOX_ENV_EPHEMERAL = "TALOS_SANDBOX_EPHEMERAL"
