"""`python -m talos trustd`: sign node certificates for holders of the trust token."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from talos.machinery.constants import TRUSTD_PORT
from talos.machinery.errors import InvalidArgument, TalosError
from talos.machinery.pki import CertificateAndKey, CertificateAuthority
from talos.trustd.server import TrustdServer, TrustdSettings


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m talos trustd",
                                description="trustd: signs node certificates")
    p.add_argument("--listen", default=f"0.0.0.0:{TRUSTD_PORT}", help="address to listen on")
    p.add_argument("--ca-cert", required=True, help="PEM file: the OS CA certificate")
    p.add_argument("--ca-key", required=True, help="PEM file: the OS CA key (signs CSRs)")
    p.add_argument("--cert", required=True, help="PEM file: trustd's serving certificate")
    p.add_argument("--key", required=True, help="PEM file: trustd's serving key")
    p.add_argument("--token-file", required=True,
                   help="file holding the cluster trust token (machine.token)")
    return p


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise InvalidArgument(f"{what} {path!r}: {e.strerror}") from None


async def _run(settings: TrustdSettings) -> None:
    server = TrustdServer(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    port = await server.start()
    print(f"trustd: serving on port {port}", file=sys.stderr, flush=True)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        ca = CertificateAuthority.from_pem(CertificateAndKey(
            _read(args.ca_cert, "CA certificate"), _read(args.ca_key, "CA key")))
        serving = CertificateAndKey(_read(args.cert, "certificate"), _read(args.key, "key"))
        serving.check(path="trustd certificate")
        token = _read(args.token_file, "token file").decode().strip()
        asyncio.run(_run(TrustdSettings(ca, serving, token, listen=args.listen)))
    except TalosError as e:
        print(f"trustd: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
