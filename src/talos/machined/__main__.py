"""Entry point of machined, the node's PID 1.

Not implemented yet (issue 6): only argument parsing exists, and starting it says so.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m talos machined",
                                     description="machined: the node's PID 1")
    parser.add_argument("--root", help="run as a plain process with this node root directory")
    parser.add_argument("--config", help="machine config file to boot with")
    parser.parse_args(argv)
    print("machined: not implemented yet (see issue 6)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
