"""Shared CLI plumbing for commands that write files: existing-file checks, atomic writes,
and turning library errors into one clear line (never a traceback)."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import click

from talos.machinery.atomic import write_atomic
from talos.machinery.errors import TalosError

P = ParamSpec("P")
R = TypeVar("R")

STDOUT = "-"


def clear_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Library errors (TalosError) and file-system errors become a ClickException."""
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except TalosError as e:
            raise click.ClickException(str(e)) from None
        except OSError as e:
            where = f": {e.filename!r}" if e.filename else ""
            raise click.ClickException(f"{e.strerror or e}{where}") from None
    return wrapper


def check_not_exists(path: str | os.PathLike[str], force: bool) -> None:
    """Talos's rule: refuse to overwrite unless --force."""
    if not force and str(path) != STDOUT and os.path.lexists(path):
        raise click.ClickException(f"file {str(path)!r} already exists, use --force to overwrite")


def write_output(path: str | os.PathLike[str], data: str | bytes, *, mode: int = 0o600,
                 announce: bool = False) -> None:
    """Write atomically (or to stdout for "-"); `announce` prints Talos's `Created <path>`."""
    if str(path) == STDOUT:
        out = data.encode() if isinstance(data, str) else data
        sys.stdout.buffer.write(out)
        sys.stdout.flush()
        return
    write_atomic(Path(path), data, mode)
    if announce:
        click.echo(f"Created {path}", err=True)
