#!/usr/bin/env bash
# Install everything the project and its tests need on Debian 12, as root. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(etcd-server etcd-client containerd runc util-linux iproute2 tmux bash-completion
                 tcpdump)
# the imager (python -m talos imager) and the VM tests: kernel, Debian's python3.11, the tools
# that make the squashfs, initramfs, UKI and disk image, and qemu with OVMF to boot them
DEBIAN_PACKAGES+=(linux-image-amd64 python3.11-minimal libpython3.11-stdlib gcc libc6-dev
                  binutils squashfs-tools zstd systemd-boot-efi fdisk dosfstools mtools
                  qemu-system-x86 ovmf busybox-static cpio xfsprogs)
# the local cluster's OCI registry (provision/registry.py; started by `cluster create`)
DEBIAN_PACKAGES+=(docker-registry)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's etcd-server package may start a system etcd on :2379; our nodes run their own.
if command -v service >/dev/null 2>&1; then service etcd stop >/dev/null 2>&1 || true; fi

python3 -m pip install -q --disable-pip-version-check -e '.[dev]' 2>&1 \
  | grep -v -E "Running pip as the 'root' user|is ignored: it is neither" || true
