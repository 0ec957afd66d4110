"""What a controller declares: its name, inputs and outputs, and one `run` coroutine.

    class HostnameController:
        name = "network.HostnameController"
        inputs = (Input.of(MACHINE_CONFIG, id="v1alpha1"),)
        outputs = (Output.of(HOSTNAME_STATUS),)

        async def run(self, r: ControllerContext) -> None:
            async for _ in r.wake_ups():
                ...
"""

from __future__ import annotations

from typing import Protocol

from talos.cosi.context import ControllerContext
from talos.cosi.declaration import Declaration, Input, InputKind, Output, OutputKind

__all__ = ["Controller", "Input", "InputKind", "Output", "OutputKind"]


class Controller(Declaration, Protocol):
    """A controller: its declaration plus the one coroutine the runtime runs (and restarts
    with back-off when it fails)."""

    async def run(self, r: ControllerContext) -> None: ...
