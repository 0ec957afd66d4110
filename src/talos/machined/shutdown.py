"""The shutdown that the API asks for: Talos's shutdown sequence with its `force` option.

As Talos (v1.13/v1.14 `Sequencer.Shutdown`), a shutdown first cordons and drains the
Kubernetes node unless `force` is set; services are stopped either way. The kubelet is not
run on these nodes, so the drain phase has nothing to cordon or evict and says so; `force`
leaves the phase out. (A SIGTERM to machined, a power cut, runs `Node.shutdown_sequence`
without the drain.)
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from talos.machined.sequencer import Phase, Sequence, Task

if TYPE_CHECKING:
    from talos.machined.node import Node

log = logging.getLogger(__name__)


async def _drain() -> None:
    log.info("drain: no Kubernetes node to cordon and drain (the kubelet is not run here): "
             "nothing to do")


def shutdown_sequence(node: Node, *, force: bool) -> Sequence:
    seq = node.shutdown_sequence()
    if force:
        log.info("shutdown with force: the cordon/drain phase is skipped")
        return seq
    drain = Phase("drain", (Task("cordonAndDrainNode", _drain),))
    return dataclasses.replace(seq, phases=(drain, *seq.phases))
