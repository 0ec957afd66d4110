"""Bytecode of the node code, written on the host before nodes start.

A node sees the host's directories read-only, so the interpreters inside it (machined, apid
and trustd on every node) cannot cache what they compile. Without `.pyc` files next to the
sources (an editable install whose host never imported the node code) each of them compiles
the ~200 talos modules again at every start: ~0.3 s of CPU per process, more on a busy host,
on the path to a healthy cluster. `ensure_compiled()` writes the missing or stale ones from
the host (~30 ms when they are up to date). It honours a disabled bytecode cache
(`PYTHONDONTWRITEBYTECODE`, `python -B`) and never fails a create: where the package is
read-only the nodes simply keep compiling.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys

import talos


def ensure_compiled() -> bool:
    """Compile the talos package's missing or stale bytecode; False when skipped or when
    some file could not be written."""
    if sys.dont_write_bytecode:
        return False
    import compileall

    root = os.path.dirname(os.path.abspath(talos.__file__))
    try:
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            return bool(compileall.compile_dir(root, quiet=2))
    except OSError:
        return False
