"""Entry point of machined, the node's PID 1 (`python -m talos machined`)."""

from __future__ import annotations

import sys

from talos.machined.pid1 import main

if __name__ == "__main__":
    sys.exit(main())

__all__ = ["main"]
