"""Per-service configuration: which config fields each service is built from, and the
reconciler that restarts, starts or stops services when an in-place apply changes them.

Each `ServiceConfigRule` names the v1alpha1 paths a service's spec depends on and how to
build the spec from a config. After a config changes without a reboot, every rule whose paths
changed gets a fresh spec: a running service is restarted with it, a service that becomes
skippable (or runnable) is stopped (or started). Services no rule covers are left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from talos.machined.apply.reboot_fields import changed_paths, v1alpha1_tree
from talos.machined.config import NodeConfig
from talos.machined.paths import NodePaths
from talos.machined.services.apid import apid_service
from talos.machined.services.trustd import trustd_service
from talos.machined.system.service import ServiceSpec
from talos.machined.system.supervisor import ServiceRunner, Supervisor
from talos.machinery.errors import NotFound

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceConfigRule:
    service_id: str
    #: v1alpha1 paths (and everything under them) the service's spec is built from
    paths: tuple[str, ...]
    build: Callable[[NodeConfig], ServiceSpec]

    def affected(self, old: NodeConfig, new: NodeConfig) -> list[str]:
        changed = changed_paths(v1alpha1_tree(old.config), v1alpha1_tree(new.config))
        return [c for c in changed
                if any(c == p or c.startswith(p + ".") for p in self.paths)]


def default_rules(paths: NodePaths, hostname: Callable[[], str], *,
                  sandbox: bool) -> list[ServiceConfigRule]:
    """apid and trustd carry the node's identity (CA, SANs, hostname, token); `hostname()`
    is the node's name when the config names none. etcd is reconfigured by
    `etcd.SpecController` (its member manager keeps cluster state)."""
    identity = ("machine.ca", "machine.acceptedCAs", "machine.certSANs",
                "machine.network.hostname")
    return [
        ServiceConfigRule("apid", identity, lambda c: apid_service(
            c, paths, c.hostname or hostname(), sandbox=sandbox)),
        ServiceConfigRule("trustd", (*identity, "machine.token"), lambda c: trustd_service(
            c, paths, c.hostname or hostname(), sandbox=sandbox)),
    ]


def _touched(supervisor: Supervisor, rules: list[ServiceConfigRule], old: NodeConfig,
             new: NodeConfig) -> Iterator[tuple[ServiceConfigRule, list[str], ServiceRunner]]:
    """Each rule whose fields differ between `old` and `new`, with those fields and the
    supervised service it configures (rules of services not supervised here are left out).
    Lazy: a service is looked up only when the caller gets to its rule."""
    for rule in rules:
        fields = rule.affected(old, new)
        if not fields:
            continue
        try:
            runner = supervisor.get(rule.service_id)
        except NotFound:
            continue
        yield rule, fields, runner


def planned_changes(supervisor: Supervisor, rules: list[ServiceConfigRule],
                    old: NodeConfig, new: NodeConfig) -> list[str]:
    """What `reconcile` will do, one line per service it will touch (services skipped
    before and after the change are not touched)."""
    out = []
    for rule, fields, runner in _touched(supervisor, rules, old, new):
        if runner.spec.skip_reason and rule.build(new).skip_reason:
            continue
        out.append(f"{rule.service_id} reconfigured ({', '.join(fields)} changed)")
    return out


async def reconcile(supervisor: Supervisor, rules: list[ServiceConfigRule],
                    old: NodeConfig, new: NodeConfig) -> list[str]:
    """Bring services in line with `new`; returns what was done, one line per service."""
    done: list[str] = []
    for rule, fields, runner in _touched(supervisor, rules, old, new):
        spec = rule.build(new)
        was_active = runner.active and not runner.spec.skip_reason
        if spec.skip_reason and runner.spec.skip_reason:
            runner.spec = spec  # still skipped: nothing runs, nothing to report
            continue
        await runner.stop()
        runner.spec = spec
        if spec.skip_reason:
            what = "stopped" if was_active else "skipped"
            supervisor.start(rule.service_id)  # records Skipped with the new reason
        elif was_active or spec.autostart:
            supervisor.start(rule.service_id)
            what = "restarted" if was_active else "started"
        else:
            what = "reconfigured"
        line = f"{rule.service_id}: {what} ({', '.join(fields)} changed)"
        log.info("config change: service %s", line)
        done.append(line)
    return done


#: the fields the etcd service is built from (through the EtcdConfig resource and its
#: CA/cluster name); `etcd.SpecController` restarts etcd when they change in place
ETCD_PATHS = ("cluster.etcd", "cluster.clusterName", "cluster.controlPlane.endpoint")


def etcd_planned_change(supervisor: Supervisor, old: NodeConfig, new: NodeConfig) -> str:
    """The line for `mode_details` when an in-place change reaches a running etcd ("" when
    it does not): the restart itself is done by the controllers."""
    changed = [c for c in changed_paths(v1alpha1_tree(old.config), v1alpha1_tree(new.config))
               if any(c == p or c.startswith(p + ".") for p in ETCD_PATHS)
               and c != "cluster.etcd.image"]  # informational: Debian's etcd runs
    if not changed:
        return ""
    try:
        runner = supervisor.get("etcd")
    except NotFound:
        return ""
    if not runner.active or runner.spec.skip_reason:
        return ""
    return f"etcd reconfigured ({', '.join(changed)} changed)"
