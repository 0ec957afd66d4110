"""The initramfs archive: newc format the kernel reads, the same bytes for the same entries."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest

from talos.imager import cpio, initramfs


def _archive(tmp_path) -> bytes:
    init = tmp_path / "init"
    init.write_bytes(b"\x7fELF-not-really")
    mods = tmp_path / "loop.ko"
    mods.write_bytes(b"module")
    sqsh = tmp_path / "rootfs.sqsh"
    sqsh.write_bytes(b"hsqs" + b"\0" * 1000)
    buf = io.BytesIO()
    cpio.write(buf, initramfs.members(str(init), [("loop.ko", str(mods))], str(sqsh)), 1234)
    return buf.getvalue()


def test_the_same_entries_give_the_same_bytes(tmp_path):
    assert _archive(tmp_path) == _archive(tmp_path)


def test_the_archive_is_newc_padded_to_whole_blocks(tmp_path):
    data = _archive(tmp_path)
    assert data.startswith(b"070701")
    assert b"TRAILER!!!" in data
    assert len(data) % 512 == 0


@pytest.mark.requires("cpio")
def test_cpio_lists_the_init_the_console_and_the_squashfs(tmp_path):
    data = _archive(tmp_path)
    out = subprocess.run([shutil.which("cpio") or "cpio", "-itv"], input=data,
                         capture_output=True, check=True).stdout.decode()
    lines = out.splitlines()
    names = [line.split()[-1] for line in lines]
    assert names == sorted(names)
    assert {"init", "dev/console", "rootfs.sqsh", "modules.order",
            "lib/modules/loop.ko"} <= set(names)
    console = next(line for line in lines if line.endswith("dev/console"))
    assert console.startswith("crw-------") and "5,   1" in console
    assert all(" root " in line or " 0 " in line for line in lines)
