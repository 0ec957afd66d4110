"""Failed-authentication limiter: after N failures from one peer within a window, that peer
is refused for a lockout period. The clock is injectable (tests use a fake one)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class FailureLimiter:
    max_failures: int = 5
    window: float = 60.0
    lockout: float = 60.0
    clock: Callable[[], float] = time.monotonic
    #: peers tracked at most (oldest forgotten first), so spoofed sources cannot exhaust memory
    max_peers: int = 65536
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _locked_until: dict[str, float] = field(default_factory=dict)

    def retry_after(self, peer: str) -> float:
        """Seconds until `peer` may try again (0 when it may now)."""
        until = self._locked_until.get(peer)
        if until is None:
            return 0.0
        left = until - self.clock()
        if left <= 0:
            del self._locked_until[peer]
            return 0.0
        return left

    def failed(self, peer: str) -> None:
        now = self.clock()
        q = self._failures.get(peer)
        if q is None:
            if len(self._failures) >= self.max_peers:
                self._failures.pop(next(iter(self._failures)))
            q = self._failures[peer] = deque()
        q.append(now)
        while q and q[0] <= now - self.window:
            q.popleft()
        if len(q) >= self.max_failures:
            self._locked_until[peer] = now + self.lockout
            q.clear()

    def succeeded(self, peer: str) -> None:
        self._failures.pop(peer, None)
