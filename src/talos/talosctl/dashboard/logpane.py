"""The live log pane: one bounded buffer per node, the selected node's on screen.

Every node's log is followed all the time (as upstream keeps one log viewer per node), so
switching nodes shows what came in meanwhile. A stream error is a red line in the pane.
"""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.events import Resize
from textual.widgets import RichLog

#: lines kept per node (upstream: maxLogLines = 1000)
MAX_LINES = 1000


class LogPane(RichLog):
    """A RichLog that shows one of several per-node buffers."""

    def __init__(self, nodes: list[str], *, id: str | None = None) -> None:
        super().__init__(max_lines=MAX_LINES, wrap=False, markup=False, highlight=False,
                         auto_scroll=True, id=id)
        self._buffers: dict[str, deque[Text]] = {n: deque(maxlen=MAX_LINES) for n in nodes}
        self._shown = nodes[0] if nodes else ""

    def add(self, node: str, line: str, *, error: bool = False) -> None:
        text = Text(line, style="red" if error else "")
        self._buffers.setdefault(node, deque(maxlen=MAX_LINES)).append(text)
        if node == self._shown:
            self.write(text)

    def reset(self, node: str) -> None:
        """Forget `node`'s lines (its stream restarted and replays its tail)."""
        self._buffers.setdefault(node, deque(maxlen=MAX_LINES)).clear()
        if node == self._shown:
            self.clear()

    def on_resize(self, event: Resize) -> None:
        """Lines written before the pane had its size are drawn again once it has one (and
        after every resize, so the end of the log stays in view)."""
        self.call_after_refresh(self.show, self._shown)

    def show(self, node: str) -> None:
        """Put `node`'s buffer on screen, scrolled to its end."""
        self._shown = node
        self.clear()
        for text in self._buffers.setdefault(node, deque(maxlen=MAX_LINES)):
            self.write(text)
        self.scroll_end(animate=False)
