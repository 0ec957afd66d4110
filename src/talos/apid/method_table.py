"""apid's method table, written by `python -m talos.apid.methods >
src/talos/apid/method_table.py` from the generated descriptors (do not edit).

path -> (client_streaming, server_streaming, fanout, request_type)
"""

METHODS: dict[str, tuple[bool, bool, bool, str]] = {
    '/cluster.ClusterService/HealthCheck':
        (False, True, True, 'cluster.HealthCheckRequest'),
    '/cosi.resource.State/Create':
        (False, False, False, 'cosi.resource.CreateRequest'),
    '/cosi.resource.State/Destroy':
        (False, False, False, 'cosi.resource.DestroyRequest'),
    '/cosi.resource.State/Get':
        (False, False, False, 'cosi.resource.GetRequest'),
    '/cosi.resource.State/List':
        (False, True, False, 'cosi.resource.ListRequest'),
    '/cosi.resource.State/Teardown':
        (False, False, False, 'cosi.resource.TeardownRequest'),
    '/cosi.resource.State/TeardownAndDestroy':
        (False, False, False, 'cosi.resource.TeardownAndDestroyRequest'),
    '/cosi.resource.State/Update':
        (False, False, False, 'cosi.resource.UpdateRequest'),
    '/cosi.resource.State/Watch':
        (False, True, False, 'cosi.resource.WatchRequest'),
    '/inspect.InspectService/ControllerRuntimeDependencies':
        (False, False, True, 'google.protobuf.Empty'),
    '/machine.DebugService/ContainerRun':
        (True, True, False, 'machine.DebugContainerRunRequest'),
    '/machine.ImageService/Import':
        (True, False, False, 'machine.ImageServiceImportRequest'),
    '/machine.ImageService/List':
        (False, True, False, 'machine.ImageServiceListRequest'),
    '/machine.ImageService/Pull':
        (False, True, False, 'machine.ImageServicePullRequest'),
    '/machine.ImageService/Remove':
        (False, False, False, 'machine.ImageServiceRemoveRequest'),
    '/machine.ImageService/Verify':
        (False, False, False, 'machine.ImageServiceVerifyRequest'),
    '/machine.LifecycleService/Install':
        (False, True, False, 'machine.LifecycleServiceInstallRequest'),
    '/machine.LifecycleService/Upgrade':
        (False, True, False, 'machine.LifecycleServiceUpgradeRequest'),
    '/machine.MachineService/ApplyConfiguration':
        (False, False, True, 'machine.ApplyConfigurationRequest'),
    '/machine.MachineService/Bootstrap':
        (False, False, True, 'machine.BootstrapRequest'),
    '/machine.MachineService/CPUFreqStats':
        (False, False, True, 'google.protobuf.Empty'),
    '/machine.MachineService/CPUInfo':
        (False, False, True, 'google.protobuf.Empty'),
    '/machine.MachineService/Containers':
        (False, False, True, 'machine.ContainersRequest'),
    '/machine.MachineService/Copy':
        (False, True, True, 'machine.CopyRequest'),
    '/machine.MachineService/DiskStats':
        (False, False, True, 'google.protobuf.Empty'),
    '/machine.MachineService/DiskUsage':
        (False, True, True, 'machine.DiskUsageRequest'),
    '/machine.MachineService/Dmesg':
        (False, True, True, 'machine.DmesgRequest'),
    '/machine.MachineService/EtcdAlarmDisarm':
        (False, False, True, 'google.protobuf.Empty'),
    '/machine.MachineService/EtcdAlarmList':
        (False, False, True, 'google.protobuf.Empty'),
    '/machine.MachineService/EtcdDefragment':
        (False, False, True, 'google.protobuf.Empty'),
    '/machine.MachineService/EtcdDowngradeCancel':
        (False, False, True, 'google.protobuf.Empty'),
    '/machine.MachineService/EtcdDowngradeEnable':
        (False, False, True, 'machine.EtcdDowngradeEnableRequest'),
    '/machine.MachineService/EtcdDowngradeValidate':
        (False, False, True, 'machine.EtcdDowngradeValidateRequest'),
    '/machine.MachineService/EtcdForfeitLeadership':
        (False, False, True, 'machine.EtcdForfeitLeadershipRequest'),
    '/machine.MachineService/EtcdLeaveCluster':
        (False, False, True, 'machine.EtcdLeaveClusterRequest'),
    '/machine.MachineService/EtcdMemberList':
        (False, False, True, 'machine.EtcdMemberListRequest'),
    '/machine.MachineService/EtcdRecover':
        (True, False, False, 'common.Data'),
    '/machine.MachineService/EtcdRemoveMember':
        (False, False, True, 'machine.EtcdRemoveMemberRequest'),
    '/machine.MachineService/EtcdRemoveMemberByID':
        (False, False, True, 'machine.EtcdRemoveMemberByIDRequest'),
    '/machine.MachineService/EtcdSnapshot':
        (False, True, True, 'machine.EtcdSnapshotRequest'),
    '/machine.MachineService/EtcdStatus':
        (False, False, True, 'google.protobuf.Empty'),
    '/machine.MachineService/Events':
        (False, True, True, 'machine.EventsRequest'),
    '/machine.MachineService/GenerateClientConfiguration':
        (False, False, True, 'machine.GenerateClientConfigurationRequest'),
    '/machine.MachineService/Hostname':
        (False, False, True, 'google.protobuf.Empty'),
    '/machine.MachineService/ImageList':
        (False, True, True, 'machine.ImageListRequest'),
    '/machine.MachineService/ImagePull':
        (False, False, True, 'machine.ImagePullRequest'),
    '/machine.MachineService/Kubeconfig':
        (False, True, True, 'google.protobuf.Empty'),
    '/machine.MachineService/List':
        (False, True, True, 'machine.ListRequest'),
    '/machine.MachineService/LoadAvg':
        (False, False, True, 'google.protobuf.Empty'),
    '/machine.MachineService/Logs':
        (False, True, True, 'machine.LogsRequest'),
    '/machine.MachineService/LogsContainers':
        (False, False, True, 'google.protobuf.Empty'),
    '/machine.MachineService/Memory':
        (False, False, True, 'google.protobuf.Empty'),
    '/machine.MachineService/MetaDelete':
        (False, False, True, 'machine.MetaDeleteRequest'),
    '/machine.MachineService/MetaWrite':
        (False, False, True, 'machine.MetaWriteRequest'),
    '/machine.MachineService/Mounts':
        (False, False, True, 'google.protobuf.Empty'),
    '/machine.MachineService/Netstat':
        (False, False, True, 'machine.NetstatRequest'),
    '/machine.MachineService/NetworkDeviceStats':
        (False, False, True, 'google.protobuf.Empty'),
    '/machine.MachineService/PacketCapture':
        (False, True, True, 'machine.PacketCaptureRequest'),
    '/machine.MachineService/Processes':
        (False, False, True, 'google.protobuf.Empty'),
    '/machine.MachineService/Read':
        (False, True, True, 'machine.ReadRequest'),
    '/machine.MachineService/Reboot':
        (False, False, True, 'machine.RebootRequest'),
    '/machine.MachineService/Reset':
        (False, False, True, 'machine.ResetRequest'),
    '/machine.MachineService/Restart':
        (False, False, True, 'machine.RestartRequest'),
    '/machine.MachineService/Rollback':
        (False, False, True, 'machine.RollbackRequest'),
    '/machine.MachineService/ServiceList':
        (False, False, True, 'google.protobuf.Empty'),
    '/machine.MachineService/ServiceRestart':
        (False, False, True, 'machine.ServiceRestartRequest'),
    '/machine.MachineService/ServiceStart':
        (False, False, True, 'machine.ServiceStartRequest'),
    '/machine.MachineService/ServiceStop':
        (False, False, True, 'machine.ServiceStopRequest'),
    '/machine.MachineService/Shutdown':
        (False, False, True, 'machine.ShutdownRequest'),
    '/machine.MachineService/Stats':
        (False, False, True, 'machine.StatsRequest'),
    '/machine.MachineService/SystemStat':
        (False, False, True, 'google.protobuf.Empty'),
    '/machine.MachineService/Upgrade':
        (False, False, True, 'machine.UpgradeRequest'),
    '/machine.MachineService/Version':
        (False, False, True, 'google.protobuf.Empty'),
    '/storage.StorageService/BlockDeviceWipe':
        (False, False, True, 'storage.BlockDeviceWipeRequest'),
    '/storage.StorageService/Disks':
        (False, False, True, 'google.protobuf.Empty'),
    '/time.TimeService/Time':
        (False, False, True, 'google.protobuf.Empty'),
    '/time.TimeService/TimeCheck':
        (False, False, True, 'time.TimeRequest'),
}
