"""The imager: builds the boot assets of one talos-py version from the build machine's
Debian packages (`python -m talos imager`).

One concept per module: `sources` (what the build machine provides), `kmod` (kernel modules
and their dependencies), `elf` (programs and their shared libraries), `plan` (the root
filesystem as a sorted list of entries, and the digest of every input), `rootfs` (what goes
into it), `executables` (the allowlist), `pyc` (checked-hash bytecode), `squashfs`, `cpio`,
`initramfs`, `uki`, `oci` (the installer image), `disk` (the metal image), `cache` and
`build` (the whole build). docs/image.md describes the result.
"""
