"""Services whose process other issues provide: apid, trustd (issue 8), etcd (cluster issue),
cri and kubelet (Kubernetes binaries, absent here).

Until a slot is filled it reports Skipped with the reason, never a fake process.
"""

from __future__ import annotations

import shutil

from talos.machined.system.service import ServiceSpec

KUBELET_MISSING = "kubelet binary not available on this node"


def apid_service() -> ServiceSpec:
    return ServiceSpec(id="apid", user_controlled=True,
                       skip_reason="apid is not implemented yet (issue 8)")


def trustd_service() -> ServiceSpec:
    return ServiceSpec(id="trustd", user_controlled=True,
                       skip_reason="trustd is not implemented yet (issue 8)")


def etcd_service(machine_type: str) -> ServiceSpec:
    if machine_type not in ("controlplane", "init"):
        reason = "etcd runs only on control-plane nodes"
    else:
        reason = "etcd is not wired to the machine config yet (cluster issue)"
    return ServiceSpec(id="etcd", user_controlled=True, skip_reason=reason)


def cri_service() -> ServiceSpec:
    reason = None if shutil.which("kubelet") else KUBELET_MISSING
    return ServiceSpec(id="cri", depends_on=("containerd",),
                       skip_reason=reason or "cri is not implemented yet")


def kubelet_service() -> ServiceSpec:
    reason = None if shutil.which("kubelet") else KUBELET_MISSING
    return ServiceSpec(id="kubelet", depends_on=("cri",), user_controlled=True,
                       skip_reason=reason or "kubelet is not implemented yet")
