"""Upstream Talos's own method -> roles table, to check apid's authorization against (not
against itself): tests/unit/apid/test_authz_upstream.py calls `authorize()` for every
method and role, tests/integration/apid/test_security.py calls every method through a real
apid with a certificate of each role.

UPSTREAM is transcribed by hand (as data) from siderolabs/talos
internal/app/machined/pkg/system/services/machined.go, `var rules = map[string]role.Set{...}`
with `FallbackRoles: role.MakeSet(role.Admin)`, at commit
ad8823176e75b9cd07647ddde13c34f2ab77c663 (main, v1.14.0-beta.1-84). Release v1.13.9
(3ebd10a7c1bd0f81742bdcd0c3fe56d727db7401) has the same table without the entries marked
"(main)", which fall back to admin-only there. Role names: pkg/machinery/role/role.go.

Our apid must allow exactly the roles upstream allows, except for the methods in
DIFFERENCES, each with its reason.
"""

from __future__ import annotations

from talos.apid.authz import RULES
from talos.apid.methods import known_methods

ADMIN, OPERATOR, READER = "os:admin", "os:operator", "os:reader"
ETCD_BACKUP, IMAGE_VERIFIER = "os:etcd:backup", "os:image:verifier"
META_WRITER, IMPERSONATOR = "os:meta:writer", "os:impersonator"
#: role.All
UPSTREAM_ROLES = frozenset({ADMIN, OPERATOR, READER, ETCD_BACKUP, IMAGE_VERIFIER, META_WRITER,
                            IMPERSONATOR})
UPSTREAM_FALLBACK = frozenset({ADMIN})

A = frozenset({ADMIN})
AO = frozenset({ADMIN, OPERATOR})
AOR = frozenset({ADMIN, OPERATOR, READER})
AORE = frozenset({ADMIN, OPERATOR, READER, ETCD_BACKUP})
AOE = frozenset({ADMIN, OPERATOR, ETCD_BACKUP})
AR = frozenset({ADMIN, READER})  # upstream: "for maintenance only, verified in the handler"
AM = frozenset({ADMIN, META_WRITER})

M = "/machine.MachineService/"
UPSTREAM: dict[str, frozenset[str]] = {
    "/cluster.ClusterService/HealthCheck": AOR,
    "/inspect.InspectService/ControllerRuntimeDependencies": AOR,
    "/machine.ImageService/Import": A,
    "/machine.ImageService/List": AOR,
    "/machine.ImageService/Pull": AO,
    "/machine.ImageService/Remove": A,
    "/machine.ImageService/Verify": AOR | {IMAGE_VERIFIER},
    "/machine.DebugService/ContainerRun": A,
    "/machine.LifecycleService/Install": A,
    "/machine.LifecycleService/Upgrade": A,
    "/machine.StorageService/Statfs": AOR,  # (main)
    M + "ApplyConfiguration": AR,
    M + "Bootstrap": A,
    M + "CPUInfo": AOR,
    M + "CPUFreqStats": AOR,
    M + "Containers": AOR,
    M + "Copy": A,
    M + "DiskStats": AOR,
    M + "DiskUsage": AOR,
    M + "Dmesg": AOR,
    M + "EtcdAlarmList": AORE,
    M + "EtcdAlarmDisarm": AO,
    M + "EtcdDefragment": AO,
    M + "EtcdForfeitLeadership": A,
    M + "EtcdLeaveCluster": A,
    M + "EtcdMemberList": AORE,
    M + "EtcdRecover": A,
    M + "EtcdRemoveMemberByID": A,
    M + "EtcdSnapshot": AOE,
    M + "EtcdStatus": AORE,
    M + "EtcdDowngradeCancel": A,
    M + "EtcdDowngradeEnable": A,
    M + "EtcdDowngradeValidate": A,
    M + "Events": AOR,
    M + "GenerateClientConfiguration": A,
    M + "Hostname": AOR,
    M + "ImageList": AOR,
    M + "ImagePull": AO,
    M + "Kubeconfig": A,
    M + "List": AOR,
    M + "LoadAvg": AOR,
    M + "Logs": AOR,
    M + "LogsContainers": AOR,
    M + "Memory": AOR,
    M + "MetaWrite": AM,
    M + "MetaDelete": AM,
    M + "Mounts": AOR,
    M + "NetworkDeviceStats": AOR,
    M + "Netstat": AOR,
    M + "PacketCapture": AO,
    M + "Processes": AOR,
    M + "Read": A,
    M + "Reboot": AO,
    M + "Reset": A,
    M + "Restart": AO,
    M + "Rollback": A,
    M + "ServiceList": AOR,
    M + "ServiceRestart": AO,
    M + "ServiceStart": AO,
    M + "ServiceStop": AO,
    M + "Shutdown": AO,
    M + "Stats": AOR,
    M + "SystemStat": AOR,
    M + "Upgrade": A,
    M + "Version": AOR,
    "/cosi.resource.State/Create": A,
    "/cosi.resource.State/Destroy": A,
    "/cosi.resource.State/Teardown": A,  # (main)
    "/cosi.resource.State/TeardownAndDestroy": A,  # (main)
    "/cosi.resource.State/Get": AOR,
    "/cosi.resource.State/List": AOR,
    "/cosi.resource.State/Update": A,
    "/cosi.resource.State/Watch": AOR,
    "/storage.StorageService/Disks": AOR,
    "/storage.StorageService/BlockDeviceWipe": AR,
    "/machine.LVMService/LogicalVolumeRemove": AR,  # (main)
    "/machine.LVMService/VolumeGroupRemove": AR,  # (main)
    "/machine.LVMService/PhysicalVolumeRemove": AR,  # (main)
    "/machine.MDService/Destroy": AR,  # (main)
    "/time.TimeService/Time": AOR,
    "/time.TimeService/TimeCheck": AOR,
}

MAINTENANCE_ONLY = ("upstream lets os:reader through only so the handler can accept it in "
                     "maintenance mode; here maintenance mode is served by machined's own "
                     "insecure listener, never through apid, so apid refuses os:reader outright "
                     "(what upstream's handler does outside maintenance)")
NOT_SERVED = ("not implemented here (no such service in this API): apid keeps its admin-only "
               "fallback, so non-admins get PERMISSION_DENIED where upstream would pass them on")

#: method -> (roles our apid allows, why it differs from upstream)
DIFFERENCES: dict[str, tuple[frozenset[str], str]] = {
    M + "ApplyConfiguration": (A, MAINTENANCE_ONLY),
    "/storage.StorageService/BlockDeviceWipe": (A, MAINTENANCE_ONLY),
    **{m: (A, NOT_SERVED) for m in (
        "/machine.StorageService/Statfs",
        "/machine.LVMService/LogicalVolumeRemove", "/machine.LVMService/VolumeGroupRemove",
        "/machine.LVMService/PhysicalVolumeRemove", "/machine.MDService/Destroy")},
}

METHODS = sorted(set(UPSTREAM) | set(known_methods()) | set(RULES))


def expected_roles(method: str) -> frozenset[str]:
    if method in DIFFERENCES:
        return DIFFERENCES[method][0]
    return UPSTREAM.get(method, UPSTREAM_FALLBACK)
