"""Named sequences of phases and tasks, one at a time."""

from talos.machined.sequencer.sequencer import Phase, Sequence, Sequencer, Task

__all__ = ["Phase", "Sequence", "Sequencer", "Task"]
