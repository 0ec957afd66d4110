"""The project's small exception hierarchy.

Each error knows the gRPC status code it maps to; the servers map them once at their
boundary (an interceptor turns a TalosError into `context.abort(err.code, str(err))`) and
nothing else catches broadly. The codes are names of `grpc.StatusCode` members, so this
module does not import grpc (machinery stays importable without it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class TalosError(Exception):
    """Base of every error the project raises on purpose."""

    #: name of the grpc.StatusCode member this error maps to
    code: str = "INTERNAL"


class InvalidArgument(TalosError):
    code = "INVALID_ARGUMENT"


class FailedPrecondition(TalosError):
    code = "FAILED_PRECONDITION"


class PermissionDenied(TalosError):
    code = "PERMISSION_DENIED"


class Unauthenticated(TalosError):
    code = "UNAUTHENTICATED"


class NotFound(TalosError):
    code = "NOT_FOUND"


class AlreadyExists(TalosError):
    code = "ALREADY_EXISTS"


class Unavailable(TalosError):
    code = "UNAVAILABLE"


class Conflict(TalosError):
    """Optimistic-concurrency conflict (stale version, wrong owner, phase mismatch)."""

    code = "FAILED_PRECONDITION"


class Busy(FailedPrecondition):
    """A sequence is already running; the message names it."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located by a field path (`machine.network.hostname`)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InvalidConfig(InvalidArgument):
    """A config (or patch) that cannot be used. Carries every problem found, not the first."""

    def __init__(self, problems: Iterable[Problem | str], *, source: str = "") -> None:
        self.problems: Sequence[Problem] = tuple(
            p if isinstance(p, Problem) else Problem("", p) for p in problems)
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        head = f"{self.source}: " if self.source else ""
        if len(self.problems) == 1:
            return f"{head}{self.problems[0]}"
        lines = [f"{head}{len(self.problems)} errors occurred:"]
        lines += [f"  * {p}" for p in self.problems]
        return "\n".join(lines)
