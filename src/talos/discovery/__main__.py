"""`python -m talos discovery --listen HOST:PORT`: run the cluster discovery service."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from talos.discovery.server import serve


async def _run(listen: str) -> None:
    task = asyncio.ensure_future(serve(listen))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m talos discovery",
                                description="cluster discovery service (sidero.discovery."
                                            "server.Cluster, plaintext gRPC, in memory)")
    p.add_argument("--listen", default="0.0.0.0:3000", help="HOST:PORT to serve on")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s discovery: %(message)s")
    try:
        asyncio.run(_run(args.listen))
    except OSError as e:
        print(f"discovery: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
