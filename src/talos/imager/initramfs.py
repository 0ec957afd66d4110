"""The initramfs: the init (compiled here from init/init.c with the build machine's
`gcc -static`), the kernel modules it loads in `modules.order`, /dev/console, the empty
mount points it uses, and the root filesystem as /rootfs.sqsh; compressed with zstd."""

from __future__ import annotations

import os

from talos.imager import cpio, tools
from talos.imager.cpio import S_IFCHR, S_IFDIR, S_IFREG, Member

INIT_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "init", "init.c")


def build_init(out: str, workdir: str) -> None:
    """A static, stripped init; no build id and no source paths, so it is reproducible."""
    tools.run(["gcc", "-static", "-Os", "-Wall", "-Wextra", "-Werror", "-s",
               "-Wl,--build-id=none", f"-ffile-prefix-map={os.path.dirname(INIT_SOURCE)}=.",
               "-o", out, INIT_SOURCE], cwd=workdir)


def members(init: str, modules: list[tuple[str, str]], squashfs: str) -> list[Member]:
    out = [Member(d, S_IFDIR | 0o755) for d in ("dev", "lib", "lib/modules", "newroot",
                                                  "proc", "sys")]
    out.append(Member("dev/console", S_IFCHR | 0o600, rdev=(5, 1)))
    out.append(Member("init", S_IFREG | 0o755, source=init))
    out.append(Member("modules.order", S_IFREG | 0o644,
                      data="".join(f"{name}\n" for name, _ in modules).encode()))
    out.extend(Member(f"lib/modules/{name}", S_IFREG | 0o644, source=path)
               for name, path in modules)
    out.append(Member("rootfs.sqsh", S_IFREG | 0o644, source=squashfs))
    return out


def make(out: str, init: str, modules: list[tuple[str, str]], squashfs: str,
         epoch: int) -> None:
    raw = out + ".cpio"
    with open(raw, "wb") as f:
        cpio.write(f, members(init, modules, squashfs), epoch)
    # the squashfs inside is compressed already: a fast level costs little size
    tools.run(["zstd", "-q", "-f", "-3", "-T1", raw, "-o", out])
    os.unlink(raw)
