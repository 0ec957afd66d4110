"""The imager refuses to ship an executable that is not on its allowlist."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from talos.imager import executables
from talos.imager.errors import ImageBuildError


def _tree(tmp_path):
    (tmp_path / "usr" / "bin").mkdir(parents=True)
    (tmp_path / "usr" / "lib").mkdir(parents=True)
    python = tmp_path / "usr" / "bin" / "python3.11"
    python.write_bytes(b"#!fake\n")
    python.chmod(0o755)
    lib = tmp_path / "usr" / "lib" / "libc.so.6"
    lib.write_bytes(b"\x7fELF")
    lib.chmod(0o644)
    data = tmp_path / "usr" / "lib" / "os.py"
    data.write_text("#!/usr/bin/env python3\n")
    data.chmod(0o644)
    return tmp_path


def test_only_files_with_an_exec_bit_or_elf_programs_count(tmp_path):
    root = _tree(tmp_path)
    assert executables.scan(str(root)) == ["/usr/bin/python3.11"]
    executables.check(executables.scan(str(root)))


def test_a_shell_in_the_image_fails_the_build_naming_it(tmp_path):
    root = _tree(tmp_path)
    sh = root / "usr" / "bin" / "sh"
    sh.write_bytes(b"\x7fELF")
    os.chmod(sh, 0o755)
    with pytest.raises(ImageBuildError, match="/usr/bin/sh"):
        executables.check(executables.scan(str(root)))


def test_an_elf_program_without_an_exec_bit_still_counts(tmp_path):
    root = _tree(tmp_path)
    copied = root / "usr" / "bin" / "busybox"
    copied.write_bytes(Path(os.path.realpath(sys.executable)).read_bytes())
    copied.chmod(0o644)
    assert "/usr/bin/busybox" in executables.scan(str(root))
