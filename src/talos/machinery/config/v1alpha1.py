"""The `v1alpha1` machine config document (`version`, `debug`, `persist`, `machine`, `cluster`).

Field names and nesting follow the Talos configuration reference (siderolabs/talos,
`pkg/machinery/config/types/v1alpha1/v1alpha1_types.go`): attributes are snake_case, the
YAML keys are their camelCase aliases (irregular ones spelled out). Every field is optional
at this level; what a mode requires is checked by `talos.machinery.config.validate`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from talos.machinery.config.types import (
    CIDR,
    IP,
    URL,
    Address,
    Base64,
    ByteSize,
    Duration,
    Model,
    SizeMatcher,
    Str,
    SubnetFilter,
    Unstructured,
    one_of,
)

StrMap = dict[str, Str]


class PEMCertificateAndKey(Model):
    crt: Base64 | None = None
    key: Base64 | None = None


class PEMCertificate(Model):
    crt: Base64 | None = None


class PEMKey(Model):
    key: Base64 | None = None


# --- machine ------------------------------------------------------------------------------


class MachineControllerManagerConfig(Model):
    disabled: bool | None = None


class MachineSchedulerConfig(Model):
    disabled: bool | None = None


class MachineControlPlaneConfig(Model):
    controller_manager: MachineControllerManagerConfig | None = None
    scheduler: MachineSchedulerConfig | None = None


class LinuxIDMapping(Model):
    container_id: int | None = Field(None, alias="containerID")
    host_id: int | None = Field(None, alias="hostID")
    size: int | None = None


class ExtraMount(Model):
    destination: Str | None = None
    type: Str | None = None
    source: Str | None = None
    options: list[Str] | None = None
    uid_mappings: list[LinuxIDMapping] | None = None
    gid_mappings: list[LinuxIDMapping] | None = None


class KubeletNodeIPConfig(Model):
    valid_subnets: list[SubnetFilter] | None = None


class KubeletConfig(Model):
    image: Str | None = None
    cluster_dns: list[IP] | None = Field(None, alias="clusterDNS")
    extra_args: StrMap | None = None
    extra_mounts: list[ExtraMount] | None = None
    extra_config: Unstructured | None = None
    credential_provider_config: Unstructured | None = None
    default_runtime_seccomp_profile_enabled: bool | None = None
    register_with_fqdn: bool | None = Field(None, alias="registerWithFQDN")
    node_ip: KubeletNodeIPConfig | None = Field(None, alias="nodeIP")
    skip_node_registration: bool | None = None
    disable_manifests_directory: bool | None = None


class NetworkDeviceSelector(Model):
    bus_path: Str | None = None
    hardware_addr: Str | None = None
    permanent_addr: Str | None = None
    pci_id: Str | None = Field(None, alias="pciID")
    driver: Str | None = None
    physical: bool | None = None


class Route(Model):
    network: Str | None = None
    gateway: Str | None = None
    source: Str | None = None
    metric: int | None = Field(None, ge=0)
    mtu: int | None = Field(None, ge=0)


BondMode = Annotated[Str, one_of("balance-rr", "active-backup", "balance-xor", "broadcast",
                                 "802.3ad", "balance-tlb", "balance-alb")]


class Bond(Model):
    interfaces: list[Str] | None = None
    device_selectors: list[NetworkDeviceSelector] | None = None
    arp_ip_target: list[IP] | None = Field(None, alias="arpIPTarget")
    mode: BondMode | None = None
    xmit_hash_policy: Str | None = None
    lacp_rate: Str | None = None
    ad_actor_system: Str | None = None
    arp_validate: Str | None = None
    arp_all_targets: Str | None = None
    primary: Str | None = None
    primary_reselect: Str | None = None
    fail_over_mac: Str | None = None
    ad_select: Str | None = None
    miimon: int | None = Field(None, ge=0)
    updelay: int | None = Field(None, ge=0)
    downdelay: int | None = Field(None, ge=0)
    arp_interval: int | None = Field(None, ge=0)
    resend_igmp: int | None = Field(None, ge=0)
    min_links: int | None = Field(None, ge=0)
    lp_interval: int | None = Field(None, ge=0)
    packets_per_slave: int | None = Field(None, ge=0)
    num_peer_notif: int | None = Field(None, ge=0, le=255)
    tlb_dynamic_lb: int | None = Field(None, ge=0, le=255)
    all_slaves_active: int | None = Field(None, ge=0, le=255)
    use_carrier: bool | None = None
    ad_actor_sys_prio: int | None = Field(None, ge=0, le=65535)
    ad_user_port_key: int | None = Field(None, ge=0, le=65535)
    peer_notify_delay: int | None = Field(None, ge=0)


class STP(Model):
    enabled: bool | None = None


class BridgeVLAN(Model):
    vlan_filtering: bool | None = None


class Bridge(Model):
    interfaces: list[Str] | None = None
    stp: STP | None = None
    vlan: BridgeVLAN | None = None


class BridgePort(Model):
    master: Str | None = None


class DHCPOptions(Model):
    route_metric: int | None = Field(None, ge=0)
    ipv4: bool | None = None
    ipv6: bool | None = None
    duidv6: Str | None = None


class DeviceWireguardPeer(Model):
    public_key: Str | None = None
    endpoint: Str | None = None
    persistent_keepalive_interval: Duration | None = None
    allowed_ips: list[Address] | None = Field(None, alias="allowedIPs")


class DeviceWireguardConfig(Model):
    private_key: Str | None = None
    listen_port: int | None = Field(None, ge=0, le=65535)
    firewall_mark: int | None = None
    peers: list[DeviceWireguardPeer] | None = None


class VIPEquinixMetalConfig(Model):
    api_token: Str | None = None


class VIPHCloudConfig(Model):
    api_token: Str | None = None


class DeviceVIPConfig(Model):
    ip: IP | None = None
    equinix_metal: VIPEquinixMetalConfig | None = None
    hcloud: VIPHCloudConfig | None = None


class Vlan(Model):
    addresses: list[Address] | None = None
    cidr: Address | None = None
    routes: list[Route] | None = None
    dhcp: bool | None = None
    vlan_id: int | None = Field(None, ge=0, le=4095)
    mtu: int | None = Field(None, ge=0)
    vip: DeviceVIPConfig | None = None
    dhcp_options: DHCPOptions | None = None


class Device(Model):
    interface: Str | None = None
    device_selector: NetworkDeviceSelector | None = None
    addresses: list[Address] | None = None
    cidr: Address | None = None
    routes: list[Route] | None = None
    bond: Bond | None = None
    bridge: Bridge | None = None
    bridge_port: BridgePort | None = None
    vlans: list[Vlan] | None = None
    mtu: int | None = Field(None, ge=0)
    dhcp: bool | None = None
    ignore: bool | None = None
    dummy: bool | None = None
    dhcp_options: DHCPOptions | None = None
    wireguard: DeviceWireguardConfig | None = None
    vip: DeviceVIPConfig | None = None


class ExtraHost(Model):
    ip: IP | None = None
    aliases: list[Str] | None = None


class KubeSpanFilters(Model):
    endpoints: list[SubnetFilter] | None = None
    exclude_advertised_networks: list[Str] | None = None


class NetworkKubeSpan(Model):
    enabled: bool | None = None
    advertise_kubernetes_networks: bool | None = None
    allow_down_peer_bypass: bool | None = None
    harvest_extra_endpoints: bool | None = None
    mtu: int | None = Field(None, ge=0)
    filters: KubeSpanFilters | None = None


class NetworkConfig(Model):
    hostname: Str | None = None
    interfaces: list[Device] | None = None
    nameservers: list[IP] | None = None
    search_domains: list[Str] | None = None
    extra_host_entries: list[ExtraHost] | None = None
    kubespan: NetworkKubeSpan | None = None
    disable_search_domain: bool | None = None


class DiskPartition(Model):
    size: ByteSize | None = None
    mountpoint: Str | None = None


class MachineDisk(Model):
    device: Str | None = None
    partitions: list[DiskPartition] | None = None


class InstallDiskSelector(Model):
    size: SizeMatcher | None = None
    name: Str | None = None
    model: Str | None = None
    serial: Str | None = None
    modalias: Str | None = None
    uuid: Str | None = None
    wwid: Str | None = None
    type: Annotated[Str, one_of("ssd", "hdd", "nvme", "sd")] | None = None
    bus_path: Str | None = None


class InstallExtensionConfig(Model):
    image: Str | None = None


class InstallConfig(Model):
    disk: Str | None = None
    disk_selector: InstallDiskSelector | None = None
    extra_kernel_args: list[Str] | None = None
    image: Str | None = None
    extensions: list[InstallExtensionConfig] | None = None
    bootloader: bool | None = None
    wipe: bool | None = None
    legacy_bios_support: bool | None = Field(None, alias="legacyBIOSSupport")
    grub_use_uki_cmdline: bool | None = Field(None, alias="grubUseUKICmdline")


class MachineFile(Model):
    content: Str | None = None
    permissions: int | None = Field(None, ge=0, le=0o7777)
    path: Str | None = None
    op: Annotated[Str, one_of("create", "append", "overwrite")] | None = None


class TimeConfig(Model):
    disabled: bool | None = None
    servers: list[Str] | None = None
    boot_timeout: Duration | None = None


class RegistryMirrorConfig(Model):
    endpoints: list[Str] | None = None
    override_path: bool | None = None
    skip_fallback: bool | None = None


class RegistryTLSConfig(Model):
    client_identity: PEMCertificateAndKey | None = None
    ca: Base64 | None = None
    insecure_skip_verify: bool | None = None


class RegistryAuthConfig(Model):
    username: Str | None = None
    password: Str | None = None
    auth: Str | None = None
    identity_token: Str | None = None


class RegistryConfig(Model):
    tls: RegistryTLSConfig | None = None
    auth: RegistryAuthConfig | None = None


class RegistriesConfig(Model):
    mirrors: dict[str, RegistryMirrorConfig] | None = None
    config: dict[str, RegistryConfig] | None = None


class EncryptionKeyStatic(Model):
    passphrase: Str | None = None


class EncryptionKeyNodeID(Model):
    pass


class EncryptionKeyKMS(Model):
    endpoint: Str | None = None


class EncryptionKeyTPM(Model):
    check_secureboot_status_on_enroll: bool | None = None


class EncryptionKey(Model):
    static: EncryptionKeyStatic | None = None
    node_id: EncryptionKeyNodeID | None = Field(None, alias="nodeID")
    kms: EncryptionKeyKMS | None = None
    slot: int | None = Field(None, ge=0)
    tpm: EncryptionKeyTPM | None = None


class EncryptionConfig(Model):
    provider: Str | None = None
    keys: list[EncryptionKey] | None = None
    cipher: Str | None = None
    key_size: int | None = Field(None, ge=0)
    block_size: int | None = Field(None, ge=0)
    options: list[Str] | None = None


class SystemDiskEncryptionConfig(Model):
    state: EncryptionConfig | None = None
    ephemeral: EncryptionConfig | None = None


class KubePrism(Model):
    enabled: bool | None = None
    port: int | None = Field(None, ge=0, le=65535)


class HostDNSConfig(Model):
    enabled: bool | None = None
    forward_kube_dns_to_host: bool | None = Field(None, alias="forwardKubeDNSToHost")
    resolve_member_names: bool | None = None


class ImageCacheConfig(Model):
    local_enabled: bool | None = None


class KubernetesTalosAPIAccessConfig(Model):
    enabled: bool | None = None
    allowed_roles: list[Str] | None = None
    allowed_kubernetes_namespaces: list[Str] | None = None


class FeaturesConfig(Model):
    rbac: bool | None = None
    stable_hostname: bool | None = None
    kubernetes_talos_api_access: KubernetesTalosAPIAccessConfig | None = Field(
        None, alias="kubernetesTalosAPIAccess")
    apid_check_ext_key_usage: bool | None = None
    disk_quota_support: bool | None = None
    kube_prism: KubePrism | None = None
    host_dns: HostDNSConfig | None = Field(None, alias="hostDNS")
    image_cache: ImageCacheConfig | None = None
    node_address_sort_algorithm: Annotated[Str, one_of("v1", "v2")] | None = None


class UdevConfig(Model):
    rules: list[Str] | None = None


class LoggingDestination(Model):
    endpoint: URL | None = None
    format: Annotated[Str, one_of("json_lines")] | None = None
    extra_tags: StrMap | None = None


class LoggingConfig(Model):
    destinations: list[LoggingDestination] | None = None


class KernelModuleConfig(Model):
    name: Str | None = None
    parameters: list[Str] | None = None


class KernelConfig(Model):
    modules: list[KernelModuleConfig] | None = None


class MachineSeccompProfile(Model):
    name: Str | None = None
    value: Unstructured | None = None


MachineType = Annotated[Str, one_of("controlplane", "worker", "init", "join")]


class MachineConfig(Model):
    type: MachineType | None = None
    token: Str | None = None
    ca: PEMCertificateAndKey | None = None
    accepted_cas: list[PEMCertificate] | None = Field(None, alias="acceptedCAs")
    cert_sans: list[Str] | None = Field(None, alias="certSANs")
    control_plane: MachineControlPlaneConfig | None = None
    kubelet: KubeletConfig | None = None
    pods: list[Unstructured] | None = None
    network: NetworkConfig | None = None
    disks: list[MachineDisk] | None = None
    install: InstallConfig | None = None
    files: list[MachineFile] | None = None
    env: StrMap | None = None
    time: TimeConfig | None = None
    sysctls: StrMap | None = None
    sysfs: StrMap | None = None
    registries: RegistriesConfig | None = None
    system_disk_encryption: SystemDiskEncryptionConfig | None = None
    features: FeaturesConfig | None = None
    udev: UdevConfig | None = None
    logging: LoggingConfig | None = None
    kernel: KernelConfig | None = None
    seccomp_profiles: list[MachineSeccompProfile] | None = None
    base_runtime_spec_overrides: Unstructured | None = None
    node_labels: StrMap | None = None
    node_annotations: StrMap | None = None
    node_taints: StrMap | None = None


# --- cluster ------------------------------------------------------------------------------


class ControlPlaneConfig(Model):
    endpoint: URL | None = None
    local_api_server_port: int | None = Field(None, alias="localAPIServerPort", ge=0, le=65535)


class CNIFlannelConfig(Model):
    extra_args: list[Str] | None = None
    kube_network_policies_enabled: bool | None = None


class CNIConfig(Model):
    name: Annotated[Str, one_of("flannel", "custom", "none")] | None = None
    urls: list[URL] | None = None
    flannel: CNIFlannelConfig | None = None


class ClusterNetworkConfig(Model):
    cni: CNIConfig | None = None
    dns_domain: Str | None = None
    pod_subnets: list[CIDR] | None = None
    service_subnets: list[CIDR] | None = None


class VolumeMountConfig(Model):
    host_path: Str | None = None
    mount_path: Str | None = None
    readonly: bool | None = None


class ResourcesConfig(Model):
    requests: Unstructured | None = None
    limits: Unstructured | None = None


class AdmissionPluginConfig(Model):
    name: Str | None = None
    configuration: Unstructured | None = None


class AuthorizationConfigAuthorizerConfig(Model):
    type: Str | None = None
    name: Str | None = None
    webhook: Unstructured | None = None


class APIServerConfig(Model):
    image: Str | None = None
    extra_args: StrMap | None = None
    extra_volumes: list[VolumeMountConfig] | None = None
    env: StrMap | None = None
    cert_sans: list[Str] | None = Field(None, alias="certSANs")
    disable_pod_security_policy: bool | None = None
    admission_control: list[AdmissionPluginConfig] | None = None
    audit_policy: Unstructured | None = None
    resources: ResourcesConfig | None = None
    authorization_config: list[AuthorizationConfigAuthorizerConfig] | None = None


class ControllerManagerConfig(Model):
    image: Str | None = None
    extra_args: StrMap | None = None
    extra_volumes: list[VolumeMountConfig] | None = None
    env: StrMap | None = None
    resources: ResourcesConfig | None = None


class ProxyConfig(Model):
    disabled: bool | None = None
    image: Str | None = None
    mode: Str | None = None
    extra_args: StrMap | None = None


class SchedulerConfig(Model):
    image: Str | None = None
    extra_args: StrMap | None = None
    extra_volumes: list[VolumeMountConfig] | None = None
    env: StrMap | None = None
    resources: ResourcesConfig | None = None
    config: Unstructured | None = None


class EtcdConfig(Model):
    image: Str | None = None
    ca: PEMCertificateAndKey | None = None
    extra_args: StrMap | None = None
    subnet: CIDR | None = None
    advertised_subnets: list[SubnetFilter] | None = None
    listen_subnets: list[SubnetFilter] | None = None


class CoreDNS(Model):
    disabled: bool | None = None
    image: Str | None = None


class ExternalCloudProviderConfig(Model):
    enabled: bool | None = None
    manifests: list[Str] | None = None


class ClusterInlineManifest(Model):
    name: Str | None = None
    contents: Str | None = None


class AdminKubeconfigConfig(Model):
    cert_lifetime: Duration | None = None


class RegistryKubernetesConfig(Model):
    disabled: bool | None = None


class RegistryServiceConfig(Model):
    disabled: bool | None = None
    endpoint: URL | None = None


class DiscoveryRegistriesConfig(Model):
    kubernetes: RegistryKubernetesConfig | None = None
    service: RegistryServiceConfig | None = None


class ClusterDiscoveryConfig(Model):
    enabled: bool | None = None
    registries: DiscoveryRegistriesConfig | None = None


class ClusterConfig(Model):
    id: Str | None = None
    secret: Str | None = None
    control_plane: ControlPlaneConfig | None = None
    cluster_name: Str | None = None
    network: ClusterNetworkConfig | None = None
    token: Str | None = None
    aescbc_encryption_secret: Str | None = None
    secretbox_encryption_secret: Str | None = None
    ca: PEMCertificateAndKey | None = None
    accepted_cas: list[PEMCertificate] | None = Field(None, alias="acceptedCAs")
    aggregator_ca: PEMCertificateAndKey | None = Field(None, alias="aggregatorCA")
    service_account: PEMKey | None = None
    api_server: APIServerConfig | None = None
    controller_manager: ControllerManagerConfig | None = None
    proxy: ProxyConfig | None = None
    scheduler: SchedulerConfig | None = None
    discovery: ClusterDiscoveryConfig | None = None
    etcd: EtcdConfig | None = None
    core_dns: CoreDNS | None = Field(None, alias="coreDNS")
    external_cloud_provider: ExternalCloudProviderConfig | None = None
    extra_manifests: list[Str] | None = None
    extra_manifest_headers: StrMap | None = None
    inline_manifests: list[ClusterInlineManifest] | None = None
    admin_kubeconfig: AdminKubeconfigConfig | None = None
    allow_scheduling_on_masters: bool | None = None
    allow_scheduling_on_control_planes: bool | None = None


class V1Alpha1Config(Model):
    """The whole `v1alpha1` document."""

    version: Literal["v1alpha1"] | None = None
    debug: bool | None = None
    persist: bool | None = None
    machine: MachineConfig | None = None
    cluster: ClusterConfig | None = None
