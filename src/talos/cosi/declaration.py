"""What a controller declares to the runtime: its name, the inputs it reads and the outputs it
writes (cosi-project's `controller.Input` / `controller.Output`).

Both the controller protocol (`talos.cosi.controller`) and the context a running controller
gets (`talos.cosi.context`) build on this module; it imports neither of them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from talos.machinery.resources.definition import ResourceType


class InputKind(enum.Enum):
    #: woken on any change; the input may go away at any time
    WEAK = "weak"
    #: woken on any change; the controller holds a finalizer on what it uses
    STRONG = "strong"
    #: woken only when a torn-down resource has no finalizers left (ready to destroy)
    DESTROY_READY = "destroyReady"


class OutputKind(enum.Enum):
    #: only this controller writes this type
    EXCLUSIVE = "exclusive"
    #: several controllers write this type, each only the resources it owns
    SHARED = "shared"


@dataclass(frozen=True)
class Input:
    namespace: str
    type: str
    id: str | None = None
    kind: InputKind = InputKind.WEAK

    @classmethod
    def of(cls, rt: ResourceType, id: str | None = None, kind: InputKind = InputKind.WEAK,
           namespace: str | None = None) -> Input:
        """An input on a declared type, in its default namespace unless given."""
        return cls(namespace or rt.default_namespace, rt.type, id, kind)


@dataclass(frozen=True)
class Output:
    type: str
    kind: OutputKind = OutputKind.EXCLUSIVE

    @classmethod
    def of(cls, rt: ResourceType, kind: OutputKind = OutputKind.EXCLUSIVE) -> Output:
        return cls(rt.type, kind)


class Declaration(Protocol):
    """The static part of a controller: what the runtime checks and the context enforces."""

    name: str
    inputs: tuple[Input, ...]
    outputs: tuple[Output, ...]
