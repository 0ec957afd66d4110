"""What an in-place config change will do to services, for `mode_details`: one line per
service it reaches. The changes themselves are made by the controllers
(`v1alpha1.ServiceLifecycleController` for apid/trustd/containerd, `etcd.SpecController`
for etcd) once the new config is the running one; this only predicts them, from the same
table of paths each service is built from."""

from __future__ import annotations

from collections.abc import Mapping

from talos.machined.apply.reboot_fields import changed_paths, v1alpha1_tree
from talos.machined.config import NodeConfig
from talos.machined.controllers.v1alpha1.service_config import SERVICE_PATHS, Paths
from talos.machined.controllers.v1alpha1.service_lifecycle import Builder
from talos.machined.system.supervisor import Supervisor
from talos.machinery.errors import NotFound

#: the fields the etcd service is built from (through the EtcdConfig resource and its
#: CA/cluster name); `etcd.SpecController` restarts etcd when they change in place
ETCD_PATHS = ("cluster.etcd", "cluster.clusterName", "cluster.controlPlane.endpoint")


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + ".") for p in roots)


def service_changes(supervisor: Supervisor, builders: Mapping[str, Builder],
                    old: NodeConfig, new: NodeConfig, paths: Paths = SERVICE_PATHS) -> list[str]:
    """One line per supervised service whose fields changed (services skipped before and
    after the change are not touched), then etcd's when it runs."""
    changed = list(changed_paths(v1alpha1_tree(old.config), v1alpha1_tree(new.config)))
    out = []
    for sid, roots in paths.items():
        fields = [c for c in changed if _under(c, roots)]
        if not fields or sid not in builders:
            continue
        try:
            runner = supervisor.get(sid)
        except NotFound:
            continue
        if runner.spec.skip_reason and builders[sid](new).skip_reason:
            continue
        out.append(f"{sid} reconfigured ({', '.join(fields)} changed)")
    etcd = [c for c in changed if _under(c, ETCD_PATHS)
            and c != "cluster.etcd.image"]  # informational: Debian's etcd runs
    if etcd:
        try:
            runner = supervisor.get("etcd")
        except NotFound:
            return out
        if runner.active and not runner.spec.skip_reason:
            out.append(f"etcd reconfigured ({', '.join(etcd)} changed)")
    return out
