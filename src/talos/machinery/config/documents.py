"""The multi-document kinds that sit next to `v1alpha1` (each has `apiVersion` + `kind`).

Field names follow upstream siderolabs/talos v1.13.9 (pkg/machinery/config/types/...); the
one later addition is `filesystem.xfs` of the volume kinds, from v1.14.0-rc.1. Every kind we
accept is modelled here. `UNSUPPORTED_KINDS` are real Talos kinds this project does not
implement: a document of one of them is refused with an error naming the kind and the
supported ones (rather than kept and silently ignored). Any other kind is unknown.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from talos.machinery.config.types import (
    URL,
    Address,
    ByteSize,
    Duration,
    Model,
    Str,
    VolumeSize,
    one_of,
)
from talos.machinery.config.v1alpha1 import (
    EncryptionKeyKMS,
    EncryptionKeyNodeID,
    EncryptionKeyStatic,
)


class Document(Model):
    """Common header of the multi-document kinds."""

    api_version: Literal["v1alpha1"] = Field(alias="apiVersion")
    kind: str


class NamedDocument(Document):
    name: Str


class SideroLinkConfig(Document):
    api_url: URL | None = Field(None, alias="apiUrl")
    unique_token: Str | None = None


class KmsgLogConfig(NamedDocument):
    url: URL | None = None


class EventSinkConfig(Document):
    endpoint: Str | None = None


class WatchdogTimerConfig(Document):
    device: Str | None = None
    timeout: Duration | None = None


class KubeSpanEndpointsConfig(Document):
    extra_announced_endpoints: list[Str] | None = None


class TrustedRootsConfig(NamedDocument):
    certificates: Str | None = None


class NetworkDefaultActionConfig(Document):
    ingress: Annotated[Str, one_of("accept", "block")] | None = None


def _port_range(value: str) -> str:
    low, sep, high = value.partition("-")
    try:
        ports = [int(low), int(high)] if sep else [int(low)]
    except ValueError:
        raise ValueError(f'invalid port "{value}": expected a port or a range like '
                         '"10300-10400"') from None
    if not all(0 < p < 65536 for p in ports) or ports != sorted(ports):
        raise ValueError(f'invalid port "{value}": expected 1..65535 (low-high)')
    return value


PortRange = Annotated[Str, AfterValidator(_port_range)]


class RulePortSelector(Model):
    ports: list[PortRange] | None = None
    protocol: Annotated[Str, one_of("tcp", "udp", "icmp", "icmpv6")] | None = None


class IngressRule(Model):
    subnet: Address | None = None
    except_: Address | None = Field(None, alias="except")


class NetworkRuleConfig(NamedDocument):
    port_selector: RulePortSelector | None = None
    ingress: list[IngressRule] | None = None


class ExtensionServiceConfigFile(Model):
    content: Str | None = None
    mount_path: Str | None = None


class ExtensionServiceConfig(NamedDocument):
    config_files: list[ExtensionServiceConfigFile] | None = None
    environment: list[Str] | None = None


class DiskSelector(Model):
    match: Str | None = None


class ProvisioningSpec(Model):
    disk_selector: DiskSelector | None = None
    grow: bool | None = None
    min_size: ByteSize | None = None
    max_size: VolumeSize | None = None


class EncryptionKeyTPMOptions(Model):
    pcrs: list[int] | None = None


class EncryptionKeyTPM(Model):
    options: EncryptionKeyTPMOptions | None = None
    check_secureboot_status_on_enroll: bool | None = None


class EncryptionKey(Model):
    """A key of a volume document (the block kinds add `lockToState` and TPM PCRs)."""

    slot: int | None = Field(None, ge=0)
    static: EncryptionKeyStatic | None = None
    node_id: EncryptionKeyNodeID | None = Field(None, alias="nodeID")
    kms: EncryptionKeyKMS | None = None
    tpm: EncryptionKeyTPM | None = None
    lock_to_state: bool | None = None


class EncryptionSpec(Model):
    provider: Annotated[Str, one_of("luks2")] | None = None
    keys: list[EncryptionKey] | None = None
    cipher: Str | None = None
    key_size: int | None = Field(None, ge=0)
    block_size: int | None = Field(None, ge=0)
    options: list[Str] | None = None


class XFSSpec(Model):
    """`filesystem.xfs` (upstream v1.14.0-rc.1)."""

    min_allocation_group_size: ByteSize | None = None


class FilesystemSpec(Model):
    type: Annotated[Str, one_of("ext4", "xfs")] | None = None
    project_quota_support: bool | None = None
    xfs: XFSSpec | None = None


class MountSpec(Model):
    secure: bool | None = None


class UserMountSpec(Model):
    disable_access_time: bool | None = None
    secure: bool | None = None


class VolumeConfig(NamedDocument):
    provisioning: ProvisioningSpec | None = None
    encryption: EncryptionSpec | None = None
    mount: MountSpec | None = None


class UserVolumeConfig(NamedDocument):
    volume_type: Annotated[Str, one_of("directory", "disk", "partition")] | None = None
    provisioning: ProvisioningSpec | None = None
    filesystem: FilesystemSpec | None = None
    encryption: EncryptionSpec | None = None
    mount: UserMountSpec | None = None


class EthernetRings(Model):
    rx: int | None = None
    tx: int | None = None
    rx_mini: int | None = Field(None, alias="rx-mini")
    rx_jumbo: int | None = Field(None, alias="rx-jumbo")
    rx_buf_len: int | None = Field(None, alias="rx-buf-len")
    cqe_size: int | None = Field(None, alias="cqe-size")
    tx_push: bool | None = Field(None, alias="tx-push")
    rx_push: bool | None = Field(None, alias="rx-push")
    tx_push_buf_len: int | None = Field(None, alias="tx-push-buf-len")
    tcp_data_split: bool | None = Field(None, alias="tcp-data-split")


class EthernetChannels(Model):
    rx: int | None = None
    tx: int | None = None
    other: int | None = None
    combined: int | None = None


class EthernetConfig(NamedDocument):
    rings: EthernetRings | None = None
    features: dict[str, bool] | None = None
    channels: EthernetChannels | None = None
    wake_on_lan: list[Annotated[Str, one_of("phy", "unicast", "multicast", "broadcast",
                                              "magic", "magicsecure", "filter")]] | None = None


class ImageKeylessVerifier(Model):
    issuer: Str | None = None
    subject: Str | None = None
    subject_regex: Str | None = None


class ImagePublicKeyVerifier(Model):
    certificate: Str | None = None


class ImageVerificationRule(Model):
    image: Str | None = None
    skip: bool | None = None
    deny: bool | None = None
    keyless: ImageKeylessVerifier | None = None
    public_key: ImagePublicKeyVerifier | None = None


class ImageVerificationConfig(Document):
    """Image verification rules, evaluated in order (the first match applies)."""

    rules: list[ImageVerificationRule] | None = None


class RegistryEndpoint(Model):
    """An endpoint of a RegistryMirrorConfig (upstream `url` + `overridePath`)."""

    url: Str | None = None
    override_path: bool | None = None


class RegistryMirrorConfig(NamedDocument):
    """Mirrors of the registry `name` (`*`: every registry), tried in order."""

    endpoints: list[RegistryEndpoint] | None = None
    skip_fallback: bool | None = None


class RegistryAuthConfig(NamedDocument):
    """Credentials for the registry endpoint `name` (host[:port] of the endpoint URL)."""

    username: Str | None = None
    password: Str | None = Field(None, repr=False)
    auth: Str | None = Field(None, repr=False)
    identity_token: Str | None = Field(None, repr=False)


class CertificateAndKey(Model):
    """PEM text (not base64, unlike v1alpha1's `clientIdentity`): `cert` and `key`."""

    cert: Str | None = None
    key: Str | None = Field(None, repr=False)


class RegistryTLSConfig(NamedDocument):
    """TLS for the registry endpoint `name` (host[:port]); `ca` is PEM text."""

    client_identity: CertificateAndKey | None = None
    ca: Str | None = None
    insecure_skip_verify: bool | None = None


#: kind -> model, for the kinds we type
TYPED_KINDS: dict[str, type[Document]] = {
    cls.__name__: cls for cls in (
        SideroLinkConfig, KmsgLogConfig, EventSinkConfig, WatchdogTimerConfig,
        KubeSpanEndpointsConfig, TrustedRootsConfig, NetworkDefaultActionConfig,
        NetworkRuleConfig, ExtensionServiceConfig, VolumeConfig, UserVolumeConfig,
        EthernetConfig, ImageVerificationConfig, RegistryMirrorConfig, RegistryAuthConfig,
        RegistryTLSConfig)
}

#: real Talos kinds (upstream v1.13.9) this project does not implement: refused by name
UNSUPPORTED_KINDS: frozenset[str] = frozenset({
    "RawVolumeConfig", "ExistingVolumeConfig", "ExternalVolumeConfig", "SwapVolumeConfig",
    "ZswapConfig", "HostnameConfig", "ResolverConfig", "StaticHostConfig", "TimeSyncConfig",
    "LinkConfig", "LinkAliasConfig", "BondConfig", "BridgeConfig", "VLANConfig", "VRFConfig",
    "DummyLinkConfig", "Layer2VIPConfig", "HCloudVIPConfig", "DHCPv4Config", "DHCPv6Config",
    "KubeSpanConfig", "WireguardConfig", "BlackholeRouteConfig", "RoutingRuleConfig",
    "TCPProbeConfig", "PCIDriverRebindConfig", "OOMConfig", "EnvironmentConfig",
})

#: every kind name we recognise (to tell "unsupported" from "unknown, did you mean")
ALL_KINDS: frozenset[str] = frozenset(TYPED_KINDS) | UNSUPPORTED_KINDS

#: kinds whose documents carry a `name` (documents are matched by kind + name)
NAMED_KINDS: frozenset[str] = frozenset(
    k for k, cls in TYPED_KINDS.items() if issubclass(cls, NamedDocument))
