"""SPKI fingerprints, checked against openssl's own computation."""

import base64
import hashlib
import subprocess

import pytest

from talos.machined.maintenance.cert import self_signed
from talos.machinery.errors import InvalidArgument
from talos.machinery.pki.fingerprint import parse_fingerprint, spki_fingerprint


def test_fingerprint_is_base64_sha256_of_the_public_key_info() -> None:
    pem = self_signed(["127.0.0.1"], "node-1").crt
    der = subprocess.run("openssl x509 -pubkey -noout | openssl pkey -pubin -outform der",
                         shell=True, input=pem, capture_output=True, check=True,
                         timeout=60).stdout
    assert spki_fingerprint(pem) == base64.b64encode(hashlib.sha256(der).digest()).decode()


def test_parse_checks_the_shape() -> None:
    good = base64.b64encode(bytes(32)).decode()
    assert parse_fingerprint(f" {good} ") == good
    for bad in ("nope", base64.b64encode(bytes(20)).decode(), "!" * 44):
        with pytest.raises(InvalidArgument, match="expected the base64 of a SHA-256"):
            parse_fingerprint(bad)
