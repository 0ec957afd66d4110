"""Golden tables for package ``machine`` (see ``golden.py`` for the format).

Transcribed by hand from the upstream Talos definition of ``machine/machine.proto``:
siderolabs/talos ``api/machine/machine.proto`` (stored revision 020a0eb63ea3, which has
EtcdStatus/EtcdAlarm*/PacketCapture/Netstat/Meta*/Image*) plus the additions of the newest
revision as published in a client generated from it (machine.pbjson.dart: ServiceStateEvent
STARTING=8, ListRequest.report_xattrs=5, FileInfo.xattrs=12, Xattr, ContainerInfo.uid=10 and
internal_id=9, ProcessInfo.label=11, EtcdMemberStatus.storage_version=11, LogsContainers,
CPUFreqStats, EtcdDowngrade*; EtcdRemoveMember was dropped from the newest service but kept
here from 020a0eb because Talos 1.x clients still call it). Re-checked against release
v1.13.9 (3ebd10a7): RebootRequest.Mode FORCE=2; the GenerateConfiguration rpc and its
request/response messages are gone there (the config messages it used, MachineConfig,
ClusterConfig …, are still declared upstream but no rpc reaches them: we leave them out).
Never derived from our proto/.
"""

from __future__ import annotations

from golden import COMMON, Field, Method, Schema

META = (1, "msg:common.Metadata", "metadata")


def _reply(*fields: Field) -> list[Field]:
    """Per-node reply: ``metadata = 1`` then the given fields."""
    return [META, *fields]


def _envelope(item: str) -> list[Field]:
    """``XResponse { repeated X messages = 1; }``."""
    return [(1, f"repeated msg:{item}", "messages")]


_M: dict[str, list[Field]] = {
    # ApplyConfiguration
    "machine.ApplyConfigurationRequest": [
        (1, "bytes", "data"), (4, "enum:machine.ApplyConfigurationRequest.Mode", "mode"),
        (5, "bool", "dry_run"), (6, "msg:google.protobuf.Duration", "try_mode_timeout")],
    "machine.ApplyConfiguration": _reply((2, "repeated string", "warnings"),
        (3, "enum:machine.ApplyConfigurationRequest.Mode", "mode"),
        (4, "string", "mode_details")),
    "machine.ApplyConfigurationResponse": _envelope("machine.ApplyConfiguration"),
    # Reboot
    "machine.RebootRequest": [(1, "enum:machine.RebootRequest.Mode", "mode")],
    "machine.Reboot": _reply((2, "string", "actor_id")),
    "machine.RebootResponse": _envelope("machine.Reboot"),
    # Bootstrap
    "machine.BootstrapRequest": [(1, "bool", "recover_etcd"),
                                 (2, "bool", "recover_skip_hash_check")],
    "machine.Bootstrap": _reply(),
    "machine.BootstrapResponse": _envelope("machine.Bootstrap"),
    # Events and payloads
    "machine.SequenceEvent": [(1, "string", "sequence"),
                              (2, "enum:machine.SequenceEvent.Action", "action"),
                              (3, "msg:common.Error", "error")],
    "machine.PhaseEvent": [(1, "string", "phase"),
                           (2, "enum:machine.PhaseEvent.Action", "action")],
    "machine.TaskEvent": [(1, "string", "task"), (2, "enum:machine.TaskEvent.Action", "action")],
    "machine.ServiceStateEvent": [(1, "string", "service"),
                                  (2, "enum:machine.ServiceStateEvent.Action", "action"),
                                  (3, "string", "message"),
                                  (4, "msg:machine.ServiceHealth", "health")],
    "machine.RestartEvent": [(1, "int64", "cmd")],
    "machine.ConfigLoadErrorEvent": [(1, "string", "error")],
    "machine.ConfigValidationErrorEvent": [(1, "string", "error")],
    "machine.AddressEvent": [(1, "string", "hostname"), (2, "repeated string", "addresses")],
    "machine.MachineStatusEvent": [
        (1, "enum:machine.MachineStatusEvent.MachineStage", "stage"),
        (2, "msg:machine.MachineStatusEvent.MachineStatus", "status")],
    "machine.MachineStatusEvent.MachineStatus": [
        (1, "bool", "ready"),
        (2, "repeated msg:machine.MachineStatusEvent.MachineStatus.UnmetCondition",
         "unmet_conditions")],
    "machine.MachineStatusEvent.MachineStatus.UnmetCondition": [(1, "string", "name"),
                                                                (2, "string", "reason")],
    "machine.EventsRequest": [(1, "int32", "tail_events"), (2, "string", "tail_id"),
                              (3, "int32", "tail_seconds"), (4, "string", "with_actor_id")],
    "machine.Event": [META, (2, "msg:google.protobuf.Any", "data"), (3, "string", "id"),
                      (4, "string", "actor_id")],
    # Reset
    "machine.ResetPartitionSpec": [(1, "string", "label"), (2, "bool", "wipe")],
    "machine.ResetRequest": [(1, "bool", "graceful"), (2, "bool", "reboot"),
                             (3, "repeated msg:machine.ResetPartitionSpec",
                              "system_partitions_to_wipe"),
                             (4, "repeated string", "user_disks_to_wipe"),
                             (5, "enum:machine.ResetRequest.WipeMode", "mode")],
    "machine.Reset": _reply((2, "string", "actor_id")),
    "machine.ResetResponse": _envelope("machine.Reset"),
    # Shutdown
    "machine.Shutdown": _reply((2, "string", "actor_id")),
    "machine.ShutdownRequest": [(1, "bool", "force")],
    "machine.ShutdownResponse": _envelope("machine.Shutdown"),
    # Upgrade
    "machine.UpgradeRequest": [(1, "string", "image"), (2, "bool", "preserve"),
                               (3, "bool", "stage"), (4, "bool", "force"),
                               (5, "enum:machine.UpgradeRequest.RebootMode", "reboot_mode")],
    "machine.Upgrade": _reply((2, "string", "ack"), (3, "string", "actor_id")),
    "machine.UpgradeResponse": _envelope("machine.Upgrade"),
    # Services
    "machine.ServiceList": _reply((2, "repeated msg:machine.ServiceInfo", "services")),
    "machine.ServiceListResponse": _envelope("machine.ServiceList"),
    "machine.ServiceInfo": [(1, "string", "id"), (2, "string", "state"),
                            (3, "msg:machine.ServiceEvents", "events"),
                            (4, "msg:machine.ServiceHealth", "health")],
    "machine.ServiceEvents": [(1, "repeated msg:machine.ServiceEvent", "events")],
    "machine.ServiceEvent": [(1, "string", "msg"), (2, "string", "state"),
                             (3, "msg:google.protobuf.Timestamp", "ts")],
    "machine.ServiceHealth": [(1, "bool", "unknown"), (2, "bool", "healthy"),
                              (3, "string", "last_message"),
                              (4, "msg:google.protobuf.Timestamp", "last_change")],
    "machine.ServiceStartRequest": [(1, "string", "id")],
    "machine.ServiceStart": _reply((2, "string", "resp")),
    "machine.ServiceStartResponse": _envelope("machine.ServiceStart"),
    "machine.ServiceStopRequest": [(1, "string", "id")],
    "machine.ServiceStop": _reply((2, "string", "resp")),
    "machine.ServiceStopResponse": _envelope("machine.ServiceStop"),
    "machine.ServiceRestartRequest": [(1, "string", "id")],
    "machine.ServiceRestart": _reply((2, "string", "resp")),
    "machine.ServiceRestartResponse": _envelope("machine.ServiceRestart"),
    # Files
    "machine.CopyRequest": [(1, "string", "root_path")],
    "machine.ListRequest": [(1, "string", "root"), (2, "bool", "recurse"),
                            (3, "int32", "recursion_depth"),
                            (4, "repeated enum:machine.ListRequest.Type", "types"),
                            (5, "bool", "report_xattrs")],
    "machine.DiskUsageRequest": [(1, "int32", "recursion_depth"), (2, "bool", "all"),
                                 (3, "int64", "threshold"), (4, "repeated string", "paths")],
    "machine.FileInfo": [META, (2, "string", "name"), (3, "int64", "size"),
                         (4, "uint32", "mode"), (5, "int64", "modified"), (6, "bool", "is_dir"),
                         (7, "string", "error"), (8, "string", "link"),
                         (9, "string", "relative_name"), (10, "uint32", "uid"),
                         (11, "uint32", "gid"), (12, "repeated msg:machine.Xattr", "xattrs")],
    "machine.Xattr": [(1, "string", "name"), (2, "bytes", "data")],
    "machine.DiskUsageInfo": [META, (2, "string", "name"), (3, "int64", "size"),
                              (4, "string", "error"), (5, "string", "relative_name")],
    # Mounts
    "machine.Mounts": _reply((2, "repeated msg:machine.MountStat", "stats")),
    "machine.MountsResponse": _envelope("machine.Mounts"),
    "machine.MountStat": [(1, "string", "filesystem"), (2, "uint64", "size"),
                          (3, "uint64", "available"), (4, "string", "mounted_on")],
    # Version
    "machine.Version": _reply((2, "msg:machine.VersionInfo", "version"),
                              (3, "msg:machine.PlatformInfo", "platform"),
                              (4, "msg:machine.FeaturesInfo", "features")),
    "machine.VersionResponse": _envelope("machine.Version"),
    "machine.VersionInfo": [(1, "string", "tag"), (2, "string", "sha"), (3, "string", "built"),
                            (4, "string", "go_version"), (5, "string", "os"),
                            (6, "string", "arch")],
    "machine.PlatformInfo": [(1, "string", "name"), (2, "string", "mode")],
    "machine.FeaturesInfo": [(1, "bool", "rbac")],
    # Logs
    "machine.LogsRequest": [(1, "string", "namespace"), (2, "string", "id"),
                            (3, "enum:common.ContainerDriver", "driver"), (4, "bool", "follow"),
                            (5, "int32", "tail_lines")],
    "machine.ReadRequest": [(1, "string", "path")],
    "machine.LogsContainer": _reply((2, "repeated string", "ids")),
    "machine.LogsContainersResponse": _envelope("machine.LogsContainer"),
    # Rollback
    "machine.RollbackRequest": [],
    "machine.Rollback": _reply(),
    "machine.RollbackResponse": _envelope("machine.Rollback"),
    # Containers
    "machine.ContainersRequest": [(1, "string", "namespace"),
                                  (2, "enum:common.ContainerDriver", "driver")],
    "machine.ContainerInfo": [(1, "string", "namespace"), (2, "string", "id"),
                              (10, "string", "uid"), (9, "string", "internal_id"),
                              (3, "string", "image"), (4, "uint32", "pid"),
                              (5, "string", "status"), (6, "string", "pod_id"),
                              (7, "string", "name"), (8, "string", "network_namespace")],
    "machine.Container": _reply((2, "repeated msg:machine.ContainerInfo", "containers")),
    "machine.ContainersResponse": _envelope("machine.Container"),
    # Dmesg
    "machine.DmesgRequest": [(1, "bool", "follow"), (2, "bool", "tail")],
    # Processes
    "machine.ProcessesResponse": _envelope("machine.Process"),
    "machine.Process": _reply((2, "repeated msg:machine.ProcessInfo", "processes")),
    "machine.ProcessInfo": [(1, "int32", "pid"), (2, "int32", "ppid"), (3, "string", "state"),
                            (4, "int32", "threads"), (5, "double", "cpu_time"),
                            (6, "uint64", "virtual_memory"), (7, "uint64", "resident_memory"),
                            (8, "string", "command"), (9, "string", "executable"),
                            (10, "string", "args"), (11, "string", "label")],
    # Restart (container)
    "machine.RestartRequest": [(1, "string", "namespace"), (2, "string", "id"),
                               (3, "enum:common.ContainerDriver", "driver")],
    "machine.Restart": _reply(),
    "machine.RestartResponse": _envelope("machine.Restart"),
    # Stats
    "machine.StatsRequest": [(1, "string", "namespace"),
                             (2, "enum:common.ContainerDriver", "driver")],
    "machine.Stats": _reply((2, "repeated msg:machine.Stat", "stats")),
    "machine.StatsResponse": _envelope("machine.Stats"),
    "machine.Stat": [(1, "string", "namespace"), (2, "string", "id"),
                     (4, "uint64", "memory_usage"), (5, "uint64", "cpu_usage"),
                     (6, "string", "pod_id"), (7, "string", "name")],
    # Memory
    "machine.Memory": _reply((2, "msg:machine.MemInfo", "meminfo")),
    "machine.MemoryResponse": _envelope("machine.Memory"),
    "machine.MemInfo": [(i + 1, "uint64", n) for i, n in enumerate(
        "memtotal memfree memavailable buffers cached swapcached active inactive activeanon "
        "inactiveanon activefile inactivefile unevictable mlocked swaptotal swapfree dirty "
        "writeback anonpages mapped shmem slab sreclaimable sunreclaim kernelstack pagetables "
        "nfsunstable bounce writebacktmp commitlimit committedas vmalloctotal vmallocused "
        "vmallocchunk hardwarecorrupted anonhugepages shmemhugepages shmempmdmapped cmatotal "
        "cmafree hugepagestotal hugepagesfree hugepagesrsvd hugepagessurp hugepagesize "
        "directmap4k directmap2m directmap1g".split())],
    # Hostname
    "machine.HostnameResponse": _envelope("machine.Hostname"),
    "machine.Hostname": _reply((2, "string", "hostname")),
    # LoadAvg
    "machine.LoadAvgResponse": _envelope("machine.LoadAvg"),
    "machine.LoadAvg": _reply((2, "double", "load1"), (3, "double", "load5"),
                              (4, "double", "load15")),
    # SystemStat
    "machine.SystemStatResponse": _envelope("machine.SystemStat"),
    "machine.SystemStat": _reply(
        (2, "uint64", "boot_time"), (3, "msg:machine.CPUStat", "cpu_total"),
        (4, "repeated msg:machine.CPUStat", "cpu"), (5, "uint64", "irq_total"),
        (6, "repeated uint64", "irq"), (7, "uint64", "context_switches"),
        (8, "uint64", "process_created"), (9, "uint64", "process_running"),
        (10, "uint64", "process_blocked"), (11, "uint64", "soft_irq_total"),
        (12, "msg:machine.SoftIRQStat", "soft_irq")),
    "machine.CPUStat": [(i + 1, "double", n) for i, n in enumerate(
        "user nice system idle iowait irq soft_irq steal guest guest_nice".split())],
    "machine.SoftIRQStat": [(i + 1, "uint64", n) for i, n in enumerate(
        "hi timer net_tx net_rx block block_io_poll tasklet sched hrtimer rcu".split())],
    # CPUFreqStats
    "machine.CPUFreqStatsResponse": _envelope("machine.CPUsFreqStats"),
    "machine.CPUsFreqStats": _reply((2, "repeated msg:machine.CPUFreqStats", "cpu_freq_stats")),
    "machine.CPUFreqStats": [(1, "uint64", "current_frequency"),
                             (2, "uint64", "minimum_frequency"),
                             (3, "uint64", "maximum_frequency"), (4, "string", "governor")],
    # CPUInfo
    "machine.CPUInfoResponse": _envelope("machine.CPUsInfo"),
    "machine.CPUsInfo": _reply((2, "repeated msg:machine.CPUInfo", "cpu_info")),
    "machine.CPUInfo": [
        (1, "uint32", "processor"), (2, "string", "vendor_id"), (3, "string", "cpu_family"),
        (4, "string", "model"), (5, "string", "model_name"), (6, "string", "stepping"),
        (7, "string", "microcode"), (8, "double", "cpu_mhz"), (9, "string", "cache_size"),
        (10, "string", "physical_id"), (11, "uint32", "siblings"), (12, "string", "core_id"),
        (13, "uint32", "cpu_cores"), (14, "string", "apic_id"),
        (15, "string", "initial_apic_id"), (16, "string", "fpu"),
        (17, "string", "fpu_exception"), (18, "uint32", "cpu_id_level"), (19, "string", "wp"),
        (20, "repeated string", "flags"), (21, "repeated string", "bugs"),
        (22, "double", "bogo_mips"), (23, "uint32", "cl_flush_size"),
        (24, "uint32", "cache_alignment"), (25, "string", "address_sizes"),
        (26, "string", "power_management")],
    # NetworkDeviceStats
    "machine.NetworkDeviceStatsResponse": _envelope("machine.NetworkDeviceStats"),
    "machine.NetworkDeviceStats": _reply((2, "msg:machine.NetDev", "total"),
                                         (3, "repeated msg:machine.NetDev", "devices")),
    "machine.NetDev": [(1, "string", "name")] + [(i + 2, "uint64", n) for i, n in enumerate(
        "rx_bytes rx_packets rx_errors rx_dropped rx_fifo rx_frame rx_compressed rx_multicast "
        "tx_bytes tx_packets tx_errors tx_dropped tx_fifo tx_collisions tx_carrier "
        "tx_compressed".split())],
    # DiskStats
    "machine.DiskStatsResponse": _envelope("machine.DiskStats"),
    "machine.DiskStats": _reply((2, "msg:machine.DiskStat", "total"),
                                (3, "repeated msg:machine.DiskStat", "devices")),
    "machine.DiskStat": [(1, "string", "name")] + [(i + 2, "uint64", n) for i, n in enumerate(
        "read_completed read_merged read_sectors read_time_ms write_completed write_merged "
        "write_sectors write_time_ms io_in_progress io_time_ms io_time_weighted_ms "
        "discard_completed discard_merged discard_sectors discard_time_ms".split())],
    # etcd
    "machine.EtcdLeaveClusterRequest": [],
    "machine.EtcdLeaveCluster": _reply(),
    "machine.EtcdLeaveClusterResponse": _envelope("machine.EtcdLeaveCluster"),
    "machine.EtcdRemoveMemberRequest": [(1, "string", "member")],
    "machine.EtcdRemoveMember": _reply(),
    "machine.EtcdRemoveMemberResponse": _envelope("machine.EtcdRemoveMember"),
    "machine.EtcdRemoveMemberByIDRequest": [(1, "uint64", "member_id")],
    "machine.EtcdRemoveMemberByID": _reply(),
    "machine.EtcdRemoveMemberByIDResponse": _envelope("machine.EtcdRemoveMemberByID"),
    "machine.EtcdForfeitLeadershipRequest": [],
    "machine.EtcdForfeitLeadership": _reply((2, "string", "member")),
    "machine.EtcdForfeitLeadershipResponse": _envelope("machine.EtcdForfeitLeadership"),
    "machine.EtcdMemberListRequest": [(1, "bool", "query_local")],
    "machine.EtcdMember": [(2, "uint64", "id"), (3, "string", "hostname"),
                           (4, "repeated string", "peer_urls"),
                           (5, "repeated string", "client_urls"), (6, "bool", "is_learner")],
    "machine.EtcdMembers": _reply((2, "repeated string", "legacy_members"),
                                  (3, "repeated msg:machine.EtcdMember", "members")),
    "machine.EtcdMemberListResponse": _envelope("machine.EtcdMembers"),
    "machine.EtcdSnapshotRequest": [],
    "machine.EtcdRecover": _reply(),
    "machine.EtcdRecoverResponse": _envelope("machine.EtcdRecover"),
    "machine.EtcdAlarmListResponse": _envelope("machine.EtcdAlarm"),
    "machine.EtcdAlarm": _reply((2, "repeated msg:machine.EtcdMemberAlarm",
                                      "member_alarms")),
    "machine.EtcdMemberAlarm": [(1, "uint64", "member_id"),
                                (2, "enum:machine.EtcdMemberAlarm.AlarmType", "alarm")],
    "machine.EtcdAlarmDisarmResponse": _envelope("machine.EtcdAlarmDisarm"),
    "machine.EtcdAlarmDisarm": _reply((2, "repeated msg:machine.EtcdMemberAlarm",
                                            "member_alarms")),
    "machine.EtcdDefragmentResponse": _envelope("machine.EtcdDefragment"),
    "machine.EtcdDefragment": _reply(),
    "machine.EtcdStatusResponse": _envelope("machine.EtcdStatus"),
    "machine.EtcdStatus": _reply((2, "msg:machine.EtcdMemberStatus", "member_status")),
    "machine.EtcdMemberStatus": [
        (11, "string", "storage_version"), (10, "uint64", "member_id"),
        (1, "string", "protocol_version"), (2, "int64", "db_size"),
        (3, "int64", "db_size_in_use"), (4, "uint64", "leader"), (5, "uint64", "raft_index"),
        (6, "uint64", "raft_term"), (7, "uint64", "raft_applied_index"),
        (8, "repeated string", "errors"), (9, "bool", "is_learner")],
    "machine.EtcdDowngradeValidateRequest": [(1, "string", "version")],
    "machine.EtcdDowngradeValidateResponse": _envelope("machine.EtcdDowngradeValidate"),
    "machine.EtcdDowngradeValidate": _reply(
        (2, "msg:machine.EtcdClusterDowngrade", "cluster_downgrade")),
    "machine.EtcdDowngradeEnableRequest": [(1, "string", "version")],
    "machine.EtcdDowngradeEnableResponse": _envelope("machine.EtcdDowngradeEnable"),
    "machine.EtcdDowngradeEnable": _reply(
        (2, "msg:machine.EtcdClusterDowngrade", "cluster_downgrade")),
    "machine.EtcdDowngradeCancelResponse": _envelope("machine.EtcdDowngradeCancel"),
    "machine.EtcdDowngradeCancel": _reply(
        (2, "msg:machine.EtcdClusterDowngrade", "cluster_downgrade")),
    "machine.EtcdClusterDowngrade": [(1, "string", "cluster_version")],
    # GenerateClientConfiguration
    "machine.GenerateClientConfigurationRequest": [
        (1, "repeated string", "roles"), (2, "msg:google.protobuf.Duration", "crt_ttl")],
    "machine.GenerateClientConfiguration": _reply(
        (2, "bytes", "ca"), (3, "bytes", "crt"), (4, "bytes", "key"),
        (5, "bytes", "talosconfig")),
    "machine.GenerateClientConfigurationResponse": _envelope(
        "machine.GenerateClientConfiguration"),
    # PacketCapture
    "machine.PacketCaptureRequest": [(1, "string", "interface"), (2, "bool", "promiscuous"),
                                     (3, "uint32", "snap_len"),
                                     (4, "repeated msg:machine.BPFInstruction", "bpf_filter")],
    "machine.BPFInstruction": [(1, "uint32", "op"), (2, "uint32", "jt"), (3, "uint32", "jf"),
                               (4, "uint32", "k")],
    # Netstat
    "machine.NetstatRequest": [(1, "enum:machine.NetstatRequest.Filter", "filter"),
                               (2, "msg:machine.NetstatRequest.Feature", "feature"),
                               (3, "msg:machine.NetstatRequest.L4proto", "l4proto"),
                               (4, "msg:machine.NetstatRequest.NetNS", "netns")],
    "machine.NetstatRequest.Feature": [(1, "bool", "pid")],
    "machine.NetstatRequest.L4proto": [(i + 1, "bool", n) for i, n in enumerate(
        "tcp tcp6 udp udp6 udplite udplite6 raw raw6".split())],
    "machine.NetstatRequest.NetNS": [(1, "bool", "hostnetwork"), (2, "repeated string", "netns"),
                                     (3, "bool", "allnetns")],
    "machine.ConnectRecord": [
        (1, "string", "l4proto"), (2, "string", "localip"), (3, "uint32", "localport"),
        (4, "string", "remoteip"), (5, "uint32", "remoteport"),
        (6, "enum:machine.ConnectRecord.State", "state"), (7, "uint64", "txqueue"),
        (8, "uint64", "rxqueue"), (9, "enum:machine.ConnectRecord.TimerActive", "tr"),
        (10, "uint64", "timerwhen"), (11, "uint64", "retrnsmt"), (12, "uint32", "uid"),
        (13, "uint64", "timeout"), (14, "uint64", "inode"), (15, "uint64", "ref"),
        (16, "uint64", "pointer"), (17, "msg:machine.ConnectRecord.Process", "process"),
        (18, "string", "netns")],
    "machine.ConnectRecord.Process": [(1, "uint32", "pid"), (2, "string", "name")],
    "machine.Netstat": _reply((2, "repeated msg:machine.ConnectRecord", "connectrecord")),
    "machine.NetstatResponse": _envelope("machine.Netstat"),
    # META
    "machine.MetaWriteRequest": [(1, "uint32", "key"), (2, "bytes", "value")],
    "machine.MetaWrite": _reply(),
    "machine.MetaWriteResponse": _envelope("machine.MetaWrite"),
    "machine.MetaDeleteRequest": [(1, "uint32", "key")],
    "machine.MetaDelete": _reply(),
    "machine.MetaDeleteResponse": _envelope("machine.MetaDelete"),
    # Images
    "machine.ImageListRequest": [(1, "enum:common.ContainerdNamespace", "namespace")],
    "machine.ImageListResponse": [META, (2, "string", "name"), (3, "string", "digest"),
                                  (4, "int64", "size"),
                                  (5, "msg:google.protobuf.Timestamp", "created_at")],
    "machine.ImagePullRequest": [(1, "enum:common.ContainerdNamespace", "namespace"),
                                 (2, "string", "reference")],
    "machine.ImagePull": _reply(),
    "machine.ImagePullResponse": _envelope("machine.ImagePull"),
}

_E: dict[str, dict[str, int]] = {
    "machine.ApplyConfigurationRequest.Mode": {"REBOOT": 0, "AUTO": 1, "NO_REBOOT": 2,
                                               "STAGED": 3, "TRY": 4},
    "machine.RebootRequest.Mode": {"DEFAULT": 0, "POWERCYCLE": 1, "FORCE": 2},
    "machine.SequenceEvent.Action": {"NOOP": 0, "START": 1, "STOP": 2},
    "machine.PhaseEvent.Action": {"START": 0, "STOP": 1},
    "machine.TaskEvent.Action": {"START": 0, "STOP": 1},
    "machine.ServiceStateEvent.Action": {"INITIALIZED": 0, "PREPARING": 1, "WAITING": 2,
                                         "RUNNING": 3, "STOPPING": 4, "FINISHED": 5,
                                         "FAILED": 6, "SKIPPED": 7, "STARTING": 8},
    "machine.MachineStatusEvent.MachineStage": {
        "UNKNOWN": 0, "BOOTING": 1, "INSTALLING": 2, "MAINTENANCE": 3, "RUNNING": 4,
        "REBOOTING": 5, "SHUTTING_DOWN": 6, "RESETTING": 7, "UPGRADING": 8},
    "machine.ResetRequest.WipeMode": {"ALL": 0, "SYSTEM_DISK": 1, "USER_DISKS": 2},
    "machine.UpgradeRequest.RebootMode": {"DEFAULT": 0, "POWERCYCLE": 1},
    "machine.ListRequest.Type": {"REGULAR": 0, "DIRECTORY": 1, "SYMLINK": 2},
    "machine.EtcdMemberAlarm.AlarmType": {"NONE": 0, "NOSPACE": 1, "CORRUPT": 2},
    "machine.NetstatRequest.Filter": {"ALL": 0, "CONNECTED": 1, "LISTENING": 2},
    "machine.ConnectRecord.State": {
        "RESERVED": 0, "ESTABLISHED": 1, "SYN_SENT": 2, "SYN_RECV": 3, "FIN_WAIT1": 4,
        "FIN_WAIT2": 5, "TIME_WAIT": 6, "CLOSE": 7, "CLOSEWAIT": 8, "LASTACK": 9,
        "LISTEN": 10, "CLOSING": 11},
    "machine.ConnectRecord.TimerActive": {"OFF": 0, "ON": 1, "KEEPALIVE": 2, "TIMEWAIT": 3,
                                          "PROBE": 4},
}

E = "google.protobuf.Empty"
D = "common.Data"


def _u(req: str, resp: str) -> Method:
    return (req, resp, False, False)


def _ss(req: str, resp: str) -> Method:  # server streaming
    return (req, resp, False, True)


def _m(name: str) -> str:
    return f"machine.{name}"


_S: dict[str, Method] = {
    "ApplyConfiguration": _u(_m("ApplyConfigurationRequest"), _m("ApplyConfigurationResponse")),
    "Bootstrap": _u(_m("BootstrapRequest"), _m("BootstrapResponse")),
    "Containers": _u(_m("ContainersRequest"), _m("ContainersResponse")),
    "Copy": _ss(_m("CopyRequest"), D),
    "CPUFreqStats": _u(E, _m("CPUFreqStatsResponse")),
    "CPUInfo": _u(E, _m("CPUInfoResponse")),
    "DiskStats": _u(E, _m("DiskStatsResponse")),
    "Dmesg": _ss(_m("DmesgRequest"), D),
    "Events": _ss(_m("EventsRequest"), _m("Event")),
    "EtcdMemberList": _u(_m("EtcdMemberListRequest"), _m("EtcdMemberListResponse")),
    "EtcdRemoveMember": _u(_m("EtcdRemoveMemberRequest"), _m("EtcdRemoveMemberResponse")),
    "EtcdRemoveMemberByID": _u(_m("EtcdRemoveMemberByIDRequest"),
                               _m("EtcdRemoveMemberByIDResponse")),
    "EtcdLeaveCluster": _u(_m("EtcdLeaveClusterRequest"), _m("EtcdLeaveClusterResponse")),
    "EtcdForfeitLeadership": _u(_m("EtcdForfeitLeadershipRequest"),
                                _m("EtcdForfeitLeadershipResponse")),
    "EtcdRecover": (D, _m("EtcdRecoverResponse"), True, False),
    "EtcdSnapshot": _ss(_m("EtcdSnapshotRequest"), D),
    "EtcdAlarmList": _u(E, _m("EtcdAlarmListResponse")),
    "EtcdAlarmDisarm": _u(E, _m("EtcdAlarmDisarmResponse")),
    "EtcdDefragment": _u(E, _m("EtcdDefragmentResponse")),
    "EtcdStatus": _u(E, _m("EtcdStatusResponse")),
    "EtcdDowngradeValidate": _u(_m("EtcdDowngradeValidateRequest"),
                                _m("EtcdDowngradeValidateResponse")),
    "EtcdDowngradeEnable": _u(_m("EtcdDowngradeEnableRequest"),
                              _m("EtcdDowngradeEnableResponse")),
    "EtcdDowngradeCancel": _u(E, _m("EtcdDowngradeCancelResponse")),
    "Hostname": _u(E, _m("HostnameResponse")),
    "Kubeconfig": _ss(E, D),
    "List": _ss(_m("ListRequest"), _m("FileInfo")),
    "DiskUsage": _ss(_m("DiskUsageRequest"), _m("DiskUsageInfo")),
    "LoadAvg": _u(E, _m("LoadAvgResponse")),
    "Logs": _ss(_m("LogsRequest"), D),
    "LogsContainers": _u(E, _m("LogsContainersResponse")),
    "Memory": _u(E, _m("MemoryResponse")),
    "Mounts": _u(E, _m("MountsResponse")),
    "NetworkDeviceStats": _u(E, _m("NetworkDeviceStatsResponse")),
    "Processes": _u(E, _m("ProcessesResponse")),
    "Read": _ss(_m("ReadRequest"), D),
    "Reboot": _u(_m("RebootRequest"), _m("RebootResponse")),
    "Restart": _u(_m("RestartRequest"), _m("RestartResponse")),
    "Rollback": _u(_m("RollbackRequest"), _m("RollbackResponse")),
    "Reset": _u(_m("ResetRequest"), _m("ResetResponse")),
    "ServiceList": _u(E, _m("ServiceListResponse")),
    "ServiceRestart": _u(_m("ServiceRestartRequest"), _m("ServiceRestartResponse")),
    "ServiceStart": _u(_m("ServiceStartRequest"), _m("ServiceStartResponse")),
    "ServiceStop": _u(_m("ServiceStopRequest"), _m("ServiceStopResponse")),
    "Shutdown": _u(_m("ShutdownRequest"), _m("ShutdownResponse")),
    "Stats": _u(_m("StatsRequest"), _m("StatsResponse")),
    "SystemStat": _u(E, _m("SystemStatResponse")),
    "Upgrade": _u(_m("UpgradeRequest"), _m("UpgradeResponse")),
    "Version": _u(E, _m("VersionResponse")),
    "GenerateClientConfiguration": _u(_m("GenerateClientConfigurationRequest"),
                                      _m("GenerateClientConfigurationResponse")),
    "PacketCapture": _ss(_m("PacketCaptureRequest"), D),
    "Netstat": _u(_m("NetstatRequest"), _m("NetstatResponse")),
    "MetaWrite": _u(_m("MetaWriteRequest"), _m("MetaWriteResponse")),
    "MetaDelete": _u(_m("MetaDeleteRequest"), _m("MetaDeleteResponse")),
    "ImageList": _ss(_m("ImageListRequest"), _m("ImageListResponse")),
    "ImagePull": _u(_m("ImagePullRequest"), _m("ImagePullResponse")),
}

# Messages carried inside Event.data (google.protobuf.Any), not reachable by field types.
EVENT_PAYLOADS = tuple(_m(n) for n in (
    "SequenceEvent", "PhaseEvent", "TaskEvent", "ServiceStateEvent", "RestartEvent",
    "ConfigLoadErrorEvent", "ConfigValidationErrorEvent", "AddressEvent",
    "MachineStatusEvent"))

MACHINE = Schema(messages=_M, enums=_E,
                 services={"machine.MachineService": _S}).merge(COMMON)
