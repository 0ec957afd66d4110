"""A sandbox node's own view of the file system, set up by machined as PID 1 at boot.

Runs only in a fresh mount namespace (the launcher passes the host's mount-namespace id and
this refuses to touch anything if we are still in it): private propagation, a tmpfs new root
holding read-only bind mounts of the host's top-level directories, the node's STATE at
/system/state and EPHEMERAL at /var, fresh /proc, tmpfs /run, /tmp and /system/run, then
pivot_root into it. /sys is a fresh sysfs (so it shows the node's own network devices)
with the host's cgroup hierarchy bound in. Every remount carries MS_BIND, so it changes
only our copy of a mount, never the host's file system.

A node booted from the OS image (`cluster create --image`; its firmware sets
TALOS_SANDBOX_IMAGE to the chosen slot's squashfs) gets the same mounts with the image in
place of the host: this host-side "stage 0" attaches the squashfs to a loop device
(read-only, autoclear: util-linux `mount -o loop,ro`) at the node directory's `image/`, binds
its top-level entries read-only into the new root instead of the host's, adds the node's
boot directory read-write at /boot (`SANDBOX_BOOT_MOUNT`: the boot record and the A/B slots),
and after pivot_root `image_machined()` names the image's own machined to exec, in the clean
node environment (talos.machinery.environment) with nothing of the host's Python.
"""

from __future__ import annotations

import ctypes
import errno
import os
import subprocess
import sys

from talos.machinery import constants
from talos.machinery.environment import TALOS_VARS, process_environment

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
SYS_PIVOT_ROOT = 155  # x86_64

#: host top-level entries the node does not get (it mounts its own or has no use for them)
SKIP = {"proc", "sys", "dev", "run", "tmp", "var", "system", "lost+found", "mnt", "media",
        "boot", "old_root", "srv"}

ENV_HOST_MNTNS = constants.SANDBOX_ENV_HOST_MNTNS
ENV_ROOTFS = constants.SANDBOX_ENV_ROOTFS
ENV_STATE = constants.SANDBOX_ENV_STATE
ENV_EPHEMERAL = constants.SANDBOX_ENV_EPHEMERAL
ENV_IMAGE = constants.SANDBOX_ENV_IMAGE
ENV_BOOT = constants.SANDBOX_ENV_BOOT

#: the image's interpreter and PATH (as its initramfs init starts machined on a machine)
IMAGE_PYTHON = "/usr/bin/python3"
IMAGE_PATH = "/usr/bin:/usr/sbin"
#: node-directory entry where stage 0 mounts the squashfs before binding its entries
IMAGE_STAGING = "image"

_libc = ctypes.CDLL(None, use_errno=True)


class MountError(RuntimeError):
    pass


def _mount(src: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    rc = _libc.mount(src.encode() if src else None, target.encode(),
                     fstype.encode() if fstype else None, ctypes.c_ulong(flags),
                     data.encode() if data else None)
    if rc != 0:
        err = ctypes.get_errno()
        raise MountError(f"mount {src} on {target} ({fstype}, flags {flags:#x}): "
                         f"{os.strerror(err)}")


def _bind_ro(src: str, target: str, recursive: bool = False) -> None:
    _mount(src, target, None, MS_BIND | (MS_REC if recursive else 0))
    _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY)


def code_paths_hidden_by_node_mounts() -> list[str]:
    """Directories machined runs from that the node's own mounts would hide.

    The node gets fresh /tmp, /run, /mnt … and none of the host's; when the project or its
    Python lives under one of them (a CI checkout in /tmp, a virtualenv in /mnt), the node
    could no longer import its own code or re-exec itself. Those directories, and only
    those, are bound read-only at the same path.
    """
    import talos

    candidates = {os.path.dirname(os.path.dirname(os.path.abspath(talos.__file__))),
                  sys.prefix, sys.base_prefix, os.path.dirname(sys.executable)}
    candidates.update(p for p in sys.path if p and os.path.isdir(p))
    hidden = sorted({os.path.realpath(p) for p in candidates
                     if os.path.realpath(p).split("/")[1] in SKIP - {"proc", "sys", "dev"}})
    # keep only the outermost of nested paths
    return [p for i, p in enumerate(hidden)
            if not any(p.startswith(q + "/") for q in hidden[:i])]


def mount_namespace_id() -> str:
    return os.readlink("/proc/self/ns/mnt")


def already_set_up() -> bool:
    """True after a re-exec of machined in a node whose mounts exist."""
    return os.path.ismount(constants.STATE_MOUNT) and os.path.ismount(constants.EPHEMERAL_MOUNT)


def image_stage0() -> bool:
    """True in the host's machined of an image node before the image's machined runs."""
    return bool(os.environ.get(ENV_IMAGE)) and not already_set_up()


def image_node() -> bool:
    """True in machined of a node booted from the image (stage 0 and the image's own)."""
    return bool(os.environ.get(ENV_IMAGE))


def _mount_squashfs(image: str, target: str) -> None:
    """Attach `image` to a loop device (read-only, autoclear) and mount it at `target`."""
    try:
        out = subprocess.run(["mount", "-t", "squashfs", "-o", "loop,ro,nodev", image, target],
                             capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MountError(f"mounting the image {image}: {exc}") from None
    if out.returncode != 0:
        raise MountError(f"mounting the image {image}: "
                         f"{(out.stderr or out.stdout).strip() or f'exit {out.returncode}'}")


def _populate_from(source: str, rootfs: str, skip: set[str]) -> None:
    """Read-only binds (and symlinks) of `source`'s top-level entries in `rootfs`."""
    for name in sorted(os.listdir(source)):
        if name in skip or name.startswith("."):
            continue
        src = os.path.join(source, name)
        dst = os.path.join(rootfs, name)
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        elif os.path.isdir(src):
            os.mkdir(dst)
            _bind_ro(src, dst)


def setup_sandbox_root() -> None:
    host_ns = os.environ.get(ENV_HOST_MNTNS)
    rootfs = os.environ.get(ENV_ROOTFS)
    state = os.environ.get(ENV_STATE)
    ephemeral = os.environ.get(ENV_EPHEMERAL)
    image = os.environ.get(ENV_IMAGE)
    boot = os.environ.get(ENV_BOOT)
    if not (host_ns and rootfs and state and ephemeral):
        raise MountError("sandbox mode needs the launcher's environment "
                         f"({ENV_HOST_MNTNS}, {ENV_ROOTFS}, {ENV_STATE}, {ENV_EPHEMERAL})")
    if image and not boot:
        raise MountError(f"{ENV_IMAGE} needs {ENV_BOOT} (the node's boot directory)")
    if mount_namespace_id() == host_ns:
        raise MountError("refusing to set up mounts: still in the host's mount namespace")
    if os.getpid() != 1:
        raise MountError("sandbox mode needs machined to be PID 1 of its own PID namespace")

    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    if image:
        staging = os.path.join(os.path.dirname(rootfs), IMAGE_STAGING)
        os.makedirs(staging, mode=0o700, exist_ok=True)
        _mount_squashfs(image, staging)
    _mount("tmpfs", rootfs, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
    if image:
        _populate_from(staging, rootfs, SKIP)
    else:
        _populate_from("/", rootfs, SKIP)
    for d in ("proc", "sys", "dev", "run", "tmp", "var", "system"):
        os.mkdir(os.path.join(rootfs, d))
    _mount("/dev", os.path.join(rootfs, "dev"), None, MS_BIND | MS_REC)
    # a fresh sysfs shows this network namespace's devices; cgroups come from the host
    _mount("sysfs", os.path.join(rootfs, "sys"), "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV)
    cgroup = os.path.join(rootfs, "sys", "fs", "cgroup")
    if os.path.isdir("/sys/fs/cgroup") and os.path.isdir(cgroup):
        _mount("/sys/fs/cgroup", cgroup, None, MS_BIND | MS_REC)
    _mount("proc", os.path.join(rootfs, "proc"), "proc", MS_NOSUID | MS_NODEV)
    _mount("tmpfs", os.path.join(rootfs, "run"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
    _mount("tmpfs", os.path.join(rootfs, "tmp"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    _mount("tmpfs", os.path.join(rootfs, "system"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
    for d in ("state", "run"):
        os.mkdir(os.path.join(rootfs, "system", d))
    _mount(state, os.path.join(rootfs, "system", "state"), None, MS_BIND)
    _mount("tmpfs", os.path.join(rootfs, "system", "run"), "tmpfs", MS_NOSUID | MS_NODEV,
           "mode=0755")
    _mount(ephemeral, os.path.join(rootfs, "var"), None, MS_BIND)
    if image and boot:
        target = os.path.join(rootfs, constants.SANDBOX_BOOT_MOUNT.lstrip("/"))
        os.mkdir(target)
        _mount(boot, target, None, MS_BIND)
    else:
        for path in code_paths_hidden_by_node_mounts():
            target = os.path.join(rootfs, path.lstrip("/"))
            os.makedirs(target, exist_ok=True)
            _bind_ro(path, target, recursive=True)

    os.chdir(rootfs)
    if _libc.syscall(SYS_PIVOT_ROOT, b".", b".") != 0:
        err = ctypes.get_errno()
        raise MountError(f"pivot_root: {os.strerror(err)}")
    # the old root is stacked under the new one: detach it
    if _libc.umount2(b".", MNT_DETACH) != 0:
        err = ctypes.get_errno()
        if err != errno.EINVAL:
            raise MountError(f"detaching the old root: {os.strerror(err)}")
    os.chdir("/")
    _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    for var in (ENV_ROOTFS, ENV_STATE, ENV_EPHEMERAL):
        os.environ.pop(var, None)


def image_machined() -> tuple[list[str], dict[str, str]]:
    """argv and environment of the image's machined, for stage 0 to exec once the image is
    the root: the clean node environment with the image's PATH and none of the host's
    Python settings (the image's interpreter finds its own packages);
    TALOS_SANDBOX_IMAGE stays to say the node runs from an image (machined then exits
    with REBOOT_EXIT_CODE on reboot for its firmware to boot it again)."""
    starter = {"PATH": IMAGE_PATH, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1",
               **{k: os.environ[k] for k in TALOS_VARS if os.environ.get(k)}}
    env = process_environment({ENV_IMAGE: os.environ.get(ENV_IMAGE, "")}, starter=starter)
    env.pop("PYTHONPATH", None)  # the host's code path: the image has its own copy
    return [IMAGE_PYTHON, "-m", "talos", "machined", "--sandbox"], env
