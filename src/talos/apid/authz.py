"""Who may call what: ONE table from gRPC method to the roles allowed to call it.

Follows Talos's published role descriptions and its machined rule table:
- `os:admin`: everything;
- `os:operator`: reads (except secrets) plus operations: reboot, shutdown, service
  start/stop/restart, etcd defragment/alarms/snapshot, image pull, packet capture;
- `os:reader`: reads only, never secrets (no file Read/Copy, no kubeconfig, no sensitive
  resources; the machine config only redacted);
- `os:etcd:backup`: etcd snapshots and etcd status/member reads;
- `os:meta:writer`: META key writes and deletes;
- `os:image:verifier`: image verification only (ImageService.Verify);
- `os:impersonator`: no method of its own; lets another apid carry the caller's roles.
A method missing from the table is admin-only.

tests/unit/apid/test_authz_upstream.py checks this table against upstream's own
(internal/app/machined/pkg/system/services/machined.go) and lists every deliberate difference.
"""

from __future__ import annotations

from collections.abc import Mapping

from talos.machinery import role
from talos.machinery.errors import PermissionDenied

_A = frozenset({role.ADMIN})
_AO = frozenset({role.ADMIN, role.OPERATOR})
_AOR = frozenset({role.ADMIN, role.OPERATOR, role.READER})
_AORE = frozenset({role.ADMIN, role.OPERATOR, role.READER, role.ETCD_BACKUP})
_AOE = frozenset({role.ADMIN, role.OPERATOR, role.ETCD_BACKUP})
_AM = frozenset({role.ADMIN, role.META_WRITER})

_M = "/machine.MachineService/"

#: method -> roles allowed. Anything not here is admin-only.
RULES: Mapping[str, frozenset[str]] = {
    "/cluster.ClusterService/HealthCheck": _AOR,
    "/inspect.InspectService/ControllerRuntimeDependencies": _AOR,

    _M + "ApplyConfiguration": _A,
    _M + "Bootstrap": _A,
    _M + "CPUInfo": _AOR,
    _M + "CPUFreqStats": _AOR,
    _M + "Containers": _AOR,
    _M + "Copy": _A,
    _M + "DiskStats": _AOR,
    _M + "DiskUsage": _AOR,
    _M + "Dmesg": _AOR,
    _M + "EtcdAlarmList": _AORE,
    _M + "EtcdAlarmDisarm": _AO,
    _M + "EtcdDefragment": _AO,
    _M + "EtcdForfeitLeadership": _A,
    _M + "EtcdLeaveCluster": _A,
    _M + "EtcdMemberList": _AORE,
    _M + "EtcdRecover": _A,
    _M + "EtcdRemoveMember": _A,
    _M + "EtcdRemoveMemberByID": _A,
    _M + "EtcdSnapshot": _AOE,
    _M + "EtcdStatus": _AORE,
    _M + "EtcdDowngradeValidate": _A,
    _M + "EtcdDowngradeEnable": _A,
    _M + "EtcdDowngradeCancel": _A,
    _M + "Events": _AOR,
    _M + "GenerateClientConfiguration": _A,
    _M + "Hostname": _AOR,
    _M + "ImageList": _AOR,
    _M + "ImagePull": _AO,
    "/machine.ImageService/List": _AOR,
    "/machine.ImageService/Pull": _AO,
    "/machine.ImageService/Import": _A,
    "/machine.ImageService/Remove": _A,
    "/machine.ImageService/Verify": _AOR | {role.IMAGE_VERIFIER},
    "/machine.DebugService/ContainerRun": _A,
    "/machine.LifecycleService/Install": _A,
    "/machine.LifecycleService/Upgrade": _A,
    _M + "Kubeconfig": _A,
    _M + "List": _AOR,
    _M + "LoadAvg": _AOR,
    _M + "Logs": _AOR,
    _M + "LogsContainers": _AOR,
    _M + "Memory": _AOR,
    _M + "MetaWrite": _AM,
    _M + "MetaDelete": _AM,
    _M + "Mounts": _AOR,
    _M + "NetworkDeviceStats": _AOR,
    _M + "Netstat": _AOR,
    _M + "PacketCapture": _AO,
    _M + "Processes": _AOR,
    _M + "Read": _A,
    _M + "Reboot": _AO,
    _M + "Reset": _A,
    _M + "Restart": _AO,
    _M + "Rollback": _A,
    _M + "ServiceList": _AOR,
    _M + "ServiceRestart": _AO,
    _M + "ServiceStart": _AO,
    _M + "ServiceStop": _AO,
    _M + "Shutdown": _AO,
    _M + "Stats": _AOR,
    _M + "SystemStat": _AOR,
    _M + "Upgrade": _A,
    _M + "Version": _AOR,

    # Per-type rules (sensitive types, the secrets namespace) are applied on top: see
    # talos.apid.cosi_filter.
    "/cosi.resource.State/Create": _A,
    "/cosi.resource.State/Destroy": _A,
    "/cosi.resource.State/Get": _AOR,
    "/cosi.resource.State/List": _AOR,
    "/cosi.resource.State/Update": _A,
    "/cosi.resource.State/Watch": _AOR,
    "/cosi.resource.State/Teardown": _A,
    "/cosi.resource.State/TeardownAndDestroy": _A,

    "/storage.StorageService/Disks": _AOR,
    "/storage.StorageService/BlockDeviceWipe": _A,

    "/time.TimeService/Time": _AOR,
    "/time.TimeService/TimeCheck": _AOR,
}

FALLBACK = _A


def allowed_roles(method: str) -> frozenset[str]:
    return RULES.get(method, FALLBACK)


def authorize(method: str, roles: frozenset[str]) -> None:
    """Raise PermissionDenied unless one of `roles` may call `method`."""
    allowed = allowed_roles(method)
    if roles & allowed:
        return
    have = ", ".join(sorted(roles)) or "no roles"
    need = ", ".join(sorted(allowed))
    raise PermissionDenied(f"{method}: not authorized (caller has {have}; needs one of {need})")


def may_read_secrets(roles: frozenset[str]) -> bool:
    """Only administrators see sensitive resources and secret fields."""
    return role.ADMIN in roles
