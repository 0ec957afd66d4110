"""`python -m talos apid`: run the node's mTLS API gateway."""

from __future__ import annotations

import argparse
import sys

from talos.apid.server import ApidServer, ApidSettings
from talos.machinery.constants import APID_PORT, MACHINED_SOCKET
from talos.nodeserver import process


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m talos apid",
                                description="apid: the node's mTLS API gateway")
    p.add_argument("--listen", default=f"0.0.0.0:{APID_PORT}", help="address to listen on")
    p.add_argument("--backend", default=MACHINED_SOCKET,
                   help="machined's unix socket (calls without node metadata go there)")
    p.add_argument("--remote-port", type=int, default=APID_PORT,
                   help="port of other nodes' apids (for node/nodes routing)")
    p.add_argument("--ca", required=True, help="PEM file: the OS CA certificate")
    p.add_argument("--cert", required=True,
                   help="PEM file: this node's apid certificate (O=os:impersonator)")
    p.add_argument("--key", required=True, help="PEM file: the apid certificate's key")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def prepare() -> tuple[ApidServer, str]:
        settings = ApidSettings.from_files(
            ca=args.ca, cert=args.cert, key=args.key, listen=args.listen,
            backend_socket=args.backend, remote_port=args.remote_port)
        return ApidServer(settings), settings.listen

    return process.main("apid", prepare)


if __name__ == "__main__":
    sys.exit(main())
