"""`python -m talos trustd`: sign node certificates for holders of the trust token."""

from __future__ import annotations

import argparse
import sys

from talos.machinery.constants import TRUSTD_PORT
from talos.machinery.pki import CertificateAndKey, CertificateAuthority
from talos.nodeserver import process
from talos.nodeserver.process import read_file
from talos.nodeserver.tls import CertificateFiles
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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def prepare() -> tuple[TrustdServer, str]:
        ca = CertificateAuthority.from_pem(CertificateAndKey(
            read_file(args.ca_cert, "CA certificate"), read_file(args.ca_key, "CA key")))
        serving = CertificateAndKey(read_file(args.cert, "certificate"),
                                    read_file(args.key, "key"))
        serving.check(path="trustd certificate")
        token = read_file(args.token_file, "token file").decode().strip()
        files = CertificateFiles(args.cert, args.key)
        return (TrustdServer(TrustdSettings(ca, serving, token, listen=args.listen,
                                            serving_files=files)), args.listen)

    return process.main("trustd", prepare)


if __name__ == "__main__":
    sys.exit(main())
