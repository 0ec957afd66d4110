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

# A sandbox node booted from the OS image's root squashfs (`cluster create --image`): the
# per-node firmware (talos.provision.firmware) chooses a boot slot and hands stage 0 (the
# host's machined, still outside the image) the slot's squashfs and the node's boot
# directory; stage 0 makes the squashfs the node's root and execs the image's machined.
SANDBOX_ENV_IMAGE = "TALOS_SANDBOX_IMAGE"
SANDBOX_ENV_BOOT = "TALOS_SANDBOX_BOOT"
#: where the node's boot directory (boot.json and the A/B slots) is mounted read-write
SANDBOX_BOOT_MOUNT = "/boot"
#: machined of an image node exits with this on reboot: its firmware boots it again (a
#: power-off exits 0, which ends the firmware; any other exit is a crash)
REBOOT_EXIT_CODE = 10
