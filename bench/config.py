#!/usr/bin/env python3
"""Machine config benchmark; prints one JSON object.

* load+validate of a generated controlplane config (`talos.machinery.config.generate`, the
  layout of `talosctl gen config`), falling back to a representative fixture;
* applying 10 patches (strategic merge and JSON 6902, each step validated);
* floor: a bare ruamel `YAML(typ="safe").load` of the same file (no round trip, no model).

Times are medians in milliseconds; `ratio` = measured / floor. Default deadline 300 s
(`--deadline`, `$BENCH_DEADLINE`; see _harness.py).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from _harness import Bench, run
from ruamel.yaml import YAML

from talos.machinery.config import apply_patches, load_config

ROUNDS = 30

PATCHES = [
    "machine:\n  network:\n    hostname: cp-1\n",
    '[{"op": "add", "path": "/machine/certSANs/-", "value": "10.0.0.10"}]',
    "machine:\n  network:\n    interfaces:\n      - interface: eth0\n        dhcp: true\n",
    "machine:\n  network:\n    interfaces:\n      - interface: eth0\n        vip:\n"
    "          ip: 10.5.0.50\n",
    "cluster:\n  network:\n    podSubnets: [10.200.0.0/16]\n",
    '[{"op": "replace", "path": "/cluster/clusterName", "value": "bench2"}]',
    "machine:\n  sysctls:\n    net.core.somaxconn: 65535\n",
    "cluster:\n  apiServer:\n    admissionControl:\n      - name: PodSecurity\n"
    "        configuration:\n          exemptions:\n            namespaces: [rook-ceph]\n",
    "machine:\n  kubelet:\n    nodeIP:\n      validSubnets: [10.5.0.0/24]\n",
    "machine:\n  install:\n    disk: /dev/vda\n",
]


def controlplane() -> tuple[str, str]:
    try:
        from talos.machinery.config.generate import GenerateOptions, generate

        gen = generate(GenerateOptions(cluster_name="bench", endpoint="https://10.5.0.2:6443"),
                       with_talosconfig=False)
        return gen.controlplane, "generated"
    except ImportError:
        fixture = Path(__file__).resolve().parent.parent / "tests" / "unit" / "config" / \
            "fixtures" / "configs" / "machine-network.yaml"
        return fixture.read_text(), "fixture"


def median_ms(fn: Callable[[], object]) -> float:
    fn()  # warm up
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(samples), 3)


def main(bench: Bench) -> dict[str, object]:
    bench.waiting_for("load, validate and patch timings")
    text, origin = controlplane()
    safe = YAML(typ="safe")
    floor = median_ms(lambda: safe.load(text))
    load_validate = median_ms(lambda: load_config(text).validate("metal"))
    patches = median_ms(lambda: apply_patches(text, PATCHES))
    return {
        "config": origin,
        "config_bytes": len(text),
        "floor_yaml_safe_load_ms": floor,
        "load_validate_ms": load_validate,
        "load_validate_ratio": round(load_validate / floor, 1),
        "apply_10_patches_ms": patches,
        "apply_10_patches_ratio": round(patches / floor, 1),
    }


if __name__ == "__main__":
    run(main, deadline=300)
