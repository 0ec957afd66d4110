"""Kubernetes services whose binaries this machine lacks: cri and kubelet.

Without the binaries a slot reports Skipped with the reason, never a fake process.
"""

from __future__ import annotations

import shutil

from talos.machined.system.service import ServiceSpec

KUBELET_MISSING = "kubelet binary not available on this node"


def cri_service() -> ServiceSpec:
    reason = None if shutil.which("kubelet") else KUBELET_MISSING
    return ServiceSpec(id="cri", depends_on=("containerd",),
                       skip_reason=reason or "cri is not implemented yet")


def kubelet_service() -> ServiceSpec:
    reason = None if shutil.which("kubelet") else KUBELET_MISSING
    return ServiceSpec(id="kubelet", depends_on=("cri",), user_controlled=True,
                       skip_reason=reason or "kubelet is not implemented yet")
