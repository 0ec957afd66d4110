#!/usr/bin/env python3
"""PKI and config-generation benchmark; prints one JSON object.

Figures, each beside a floor measured in the same run:

* `bundle_generate_ms`: a whole secrets bundle (4 CAs + service-account key + tokens);
  floor: the same number of bare ECDSA P-256 keygens + minimal self-signed certificates.
* `client_cert_ms`: one API client certificate from the OS CA; floor: one bare keygen + a
  minimal signed certificate.
* `gen_config_ms`: controlplane + worker + talosconfig from an existing bundle, then loaded
  and validated; floor: a bare ruamel safe load of the two generated files.

`ratio` is measured/floor (higher is slower). Default deadline 300 s (`--deadline`,
`$BENCH_DEADLINE`; see _harness.py).
"""

from __future__ import annotations

import datetime as dt
import io
import statistics
import time
from collections.abc import Callable

from _harness import Bench, run
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ruamel.yaml import YAML

from talos.machinery.config import load_config
from talos.machinery.config.generate import GenerateOptions, machine_config, talosconfig
from talos.machinery.secrets import SecretsBundle

ROUNDS = 30


def median_ms(fn: Callable[[], object], rounds: int = ROUNDS) -> float:
    fn()
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def bare_cert() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "x")])
    now = dt.datetime.now(dt.UTC)
    (x509.CertificateBuilder().subject_name(name).issuer_name(name)
     .public_key(key.public_key()).serial_number(1).not_valid_before(now)
     .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))


def main(bench: Bench) -> dict[str, object]:
    bench.waiting_for("the secrets bundle and config generation timings")
    bundle = SecretsBundle.generate()
    options = GenerateOptions(cluster_name="bench", endpoint="https://10.5.0.2:6443")

    def gen_config() -> None:
        for t in ("controlplane", "worker"):
            load_config(machine_config(options, bundle, t)).validate("metal")
        talosconfig(options, bundle).to_yaml()

    texts = [machine_config(options, bundle, t) for t in ("controlplane", "worker")]

    def bare_load() -> None:
        for text in texts:
            YAML(typ="safe").load(io.StringIO(text))

    figures = {
        "bundle_generate_ms": (median_ms(SecretsBundle.generate),
                               median_ms(lambda: [bare_cert() for _ in range(5)])),
        "client_cert_ms": (median_ms(bundle.client_certificate), median_ms(bare_cert)),
        "gen_config_ms": (median_ms(gen_config), median_ms(bare_load)),
    }
    return {name: {"value": round(v, 3), "floor": round(f, 3), "ratio": round(v / f, 2)}
            for name, (v, f) in figures.items()}


if __name__ == "__main__":
    run(main, deadline=300)
