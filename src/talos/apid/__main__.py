"""Entry point of apid. Not implemented yet (issue 8): only argument parsing exists."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m talos apid",
                                     description="apid: the node's mTLS API gateway")
    parser.add_argument("--listen", default="0.0.0.0:50000", help="address to listen on")
    parser.parse_args(argv)
    print("apid: not implemented yet (see issue 8)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
