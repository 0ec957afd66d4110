"""Upstream v1.13.9 validation rules, one row each: a config snippet merged onto a valid base
-> the problem (or warning) the validator must report, path included."""

from __future__ import annotations

import pytest

from talos.machinery.config import load_config
from talos.machinery.errors import InvalidConfig

CRT = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="


def _config(kind: str, machine: str = "", cluster: str = "", docs: str = "",
            ca: bool = True) -> str:
    key = f"    key: {CRT}\n" if kind == "controlplane" else ""
    return (f"version: v1alpha1\nmachine:\n  type: {kind}\n"
            + (f"  ca:\n    crt: {CRT}\n{key}" if ca else "")
            + "  features:\n    hostDNS:\n      enabled: true\n"
            "      forwardKubeDNSToHost: true\n" + machine
            + "cluster:\n  controlPlane:\n    endpoint: https://10.5.0.2:6443\n" + cluster
            + docs)


IVC = "---\napiVersion: v1alpha1\nkind: ImageVerificationConfig\nrules:\n"
UVC = "---\napiVersion: v1alpha1\nkind: UserVolumeConfig\nname: data\n"
UVC_OK = UVC + "provisioning:\n  diskSelector:\n    match: 'true'\n  maxSize: 10GiB\n"

ERRORS = [
    ("cp-ca-key", _config("controlplane").replace(f"    key: {CRT}\n", ""),
     "machine.ca.key: issuing CA key is required for controlplane nodes (.machine.ca.key)"),
    ("cp-ca-missing", _config("controlplane", ca=False),
     "machine.ca: issuing CA is required (.machine.ca)"),
    ("no-ca-no-accepted", _config("worker", ca=False),
     "machine.ca: issuing CA or some accepted CAs are required (.machine.ca, "
     ".machine.acceptedCAs)"),
    ("worker-ca-key", _config("worker", machine=f"  ca:\n    crt: {CRT}\n    key: {CRT}\n",
                              ca=False),
     "machine.ca.key: issuing Talos API CA key is not allowed on non-controlplane nodes"),
    ("worker-ca-no-crt", _config("worker", machine="  ca: {}\n", ca=False),
     "machine.ca.crt: trusted CA certificates are required on non-controlplane nodes"),
    ("worker-cluster-ca-key", _config("worker", cluster=f"  ca:\n    crt: {CRT}\n"
                                      f"    key: {CRT}\n"),
     "cluster.ca.key: issuing Kubernetes API CA key is not allowed on non-controlplane"),
    ("worker-etcd", _config("worker", cluster="  etcd:\n    image: x\n"),
     "cluster.etcd: etcd config is only allowed on control plane machines"),
    ("etcd-ca", _config("controlplane", cluster="  etcd:\n    image: x\n"),
     "cluster.etcd.ca: key/cert combination should not be empty"),
    ("etcd-subnet-and-advertised", _config("controlplane", cluster=(
        f"  etcd:\n    ca:\n      crt: {CRT}\n      key: {CRT}\n    subnet: 10.0.0.0/8\n"
        "    advertisedSubnets: [10.0.0.0/8]\n")),
     "cluster.etcd.subnet: etcd subnet can't be set when advertised subnets are set"),
    ("container-hostdns", _config("worker").replace("      enabled: true\n", ""),
     "machine.features.hostDNS.enabled: feature HostDNS should be enabled in container mode"),
    ("forward-needs-enabled", _config("worker").replace("      enabled: true\n",
                                                        "      enabled: false\n"),
     "machine.features.hostDNS: feature hostDNS.forwardKubeDNSToHost requires "
     "hostDNS.enabled to be true"),
    ("persist", "persist: false\n" + _config("worker"), "persist: .persist should be enabled"),
    ("dup-extension", _config("worker", machine="  install:\n    disk: /dev/sda\n"
                              "    extensions:\n      - image: a\n      - image: a\n"),
     'machine.install.extensions[1].image: duplicate system extension "a"'),
    ("api-access-worker", _config("worker").replace(
        "  features:\n", "  features:\n    kubernetesTalosAPIAccess:\n      enabled: true\n"),
     "machine.features.kubernetesTalosAPIAccess.enabled: feature Kubernetes Talos API Access "
     "can only be enabled on control plane machines"),
    ("node-label", _config("worker", machine="  nodeLabels:\n    bad key: x\n"),
     'machine.nodeLabels["bad key"]: invalid machine node labels: name "bad key" is invalid'),
    ("node-taint", _config("worker", machine="  nodeTaints:\n    a: b:Sometimes\n"),
     'machine.nodeTaints["a"]: invalid machine node taints: invalid taint effect "Sometimes"'),
    ("reserved-annotation", _config("worker", machine="  nodeAnnotations:\n"
                                    "    talos.dev/owned-labels: x\n"),
     'invalid machine node annotations: annotation "talos.dev/owned-labels" is reserved'),
    ("kubelet-protected", _config("worker", machine="  kubelet:\n    extraConfig:\n"
                                  "      port: 1\n"),
     'machine.kubelet.extraConfig.port: kubelet configuration field "port" can\'t be '
     "overridden"),
    ("kubespan-mtu", _config("worker", machine="  network:\n    kubespan:\n      enabled: true\n"
                             "      mtu: 1000\n"),
     "machine.network.kubespan.mtu: kubespan link MTU must be at least 1280"),
    ("route-empty", _config("worker", machine="  network:\n    interfaces:\n"
                            "      - interface: eth0\n        routes:\n          - metric: 5\n"),
     "machine.network.interfaces[0].routes[0]: either network or gateway should be set"),
    ("bond-and-bridge", _config("worker", machine="  network:\n    interfaces:\n"
                                "      - interface: br0\n        bond: {interfaces: [a]}\n"
                                "        bridge: {interfaces: [b]}\n"),
     "interface has both bridge and bond sections set"),
    ("bridge-member-twice", _config("worker", machine=(
        "  network:\n    interfaces:\n      - interface: br0\n        bridge: {interfaces: [a]}"
        "\n      - interface: br1\n        bridge: {interfaces: [a]}\n")),
     'interface "a" is declared as part of two separate links: "br0" and "br1"'),
    ("empty-selector", _config("worker", machine="  network:\n    interfaces:\n"
                               "      - deviceSelector: {}\n"),
     "machine.network.interfaces[0].deviceSelector: config section should contain at least "
     "one field"),
    ("bond-hash-policy", _config("worker", machine="  network:\n    interfaces:\n"
                                 "      - interface: bond0\n        bond:\n"
                                 "          xmitHashPolicy: layer9\n"),
     'invalid xmit hash policy "layer9"'),
    ("wireguard-no-key", _config("worker", machine="  network:\n    interfaces:\n"
                                 "      - interface: wg0\n        wireguard: {listenPort: 1}\n"),
     "machine.network.interfaces[0].wireguard.privateKey: private key is invalid"),
    ("cni-none-flannel", _config("controlplane", cluster=(
        "  network:\n    cni:\n      name: none\n      flannel:\n"
        "        extraArgs: [--x]\n")),
     'cluster.network.cni.flannel.extraArgs: "flanneldExtraArgs" field should be empty for '
     '"none" CNI'),
    ("ecp-url", _config("worker", cluster="  externalCloudProvider:\n    enabled: true\n"
                        "    manifests: [ftp://x/y]\n"),
     "cluster.externalCloudProvider.manifests[0]: invalid endpoint"),
    ("apiserver-resources", _config("controlplane", cluster=(
        "  apiServer:\n    resources:\n      requests:\n        gpu: 1\n")),
     'cluster.apiServer.resources.requests.gpu: apiserver resource validation failed: '
     'unsupported pod resource "gpu"'),
    ("authorizer-type", _config("controlplane", cluster=(
        "  apiServer:\n    authorizationConfig:\n      - type: ABAC\n        name: x\n")),
     'authorizer type "ABAC" is not allowed'),
    ("authz-mode-with-config", _config("controlplane", cluster=(
        "  apiServer:\n    extraArgs:\n      authorization-mode: RBAC\n"
        "    authorizationConfig:\n      - type: RBAC\n        name: rbac\n")),
     "authorization-mode cannot be used in conjunction with AuthorizationConfig"),
    ("uvc-disk-selector", _config("worker", docs=UVC + "provisioning:\n  maxSize: 1GiB\n"),
     "UserVolumeConfig/data.provisioning.diskSelector.match: disk selector is required"),
    ("uvc-min-gt-max", _config("worker", docs=UVC_OK + "  minSize: 20GiB\n"),
     "UserVolumeConfig/data.provisioning.minSize: min size is greater than max size"),
    ("uvc-directory", _config("worker", docs=UVC_OK + "volumeType: directory\n"),
     "UserVolumeConfig/data.provisioning: provisioning spec is invalid for volumeType "
     "directory"),
    ("uvc-disk-size", _config("worker", docs=UVC_OK + "volumeType: disk\n"),
     "UserVolumeConfig/data.provisioning: min size, max size and grow are not supported"),
    ("uvc-quota-ext4", _config("worker", docs=UVC_OK + "filesystem:\n  type: ext4\n"
                               "  projectQuotaSupport: true\n"),
     "UserVolumeConfig/data.filesystem.projectQuotaSupport: project quota support is only "
     "available for xfs filesystem"),
    ("uvc-xfs-on-ext4", _config("worker", docs=UVC_OK + "filesystem:\n  type: ext4\n"
                                "  xfs:\n    minAllocationGroupSize: 1GiB\n"),
     "UserVolumeConfig/data.filesystem.xfs: xfs options are only available for xfs "
     "filesystem"),
    ("uvc-pcr", _config("worker", docs=UVC_OK + "encryption:\n  provider: luks2\n  keys:\n"
                        "    - slot: 0\n      tpm:\n        options:\n          pcrs: [24]\n"),
     "UserVolumeConfig/data.encryption.keys[0].tpm.options.pcrs[0]: TPM PCR 24 is out of "
     "range (0-23)"),
    ("volume-name", _config("worker", docs="---\napiVersion: v1alpha1\nkind: VolumeConfig\n"
                            "name: DATA\n"),
     'VolumeConfig/DATA.name: only STATE, EPHEMERAL, IMAGECACHE volumes are supported'),
    ("volume-state-provisioning", _config("worker", docs=(
        "---\napiVersion: v1alpha1\nkind: VolumeConfig\nname: STATE\nprovisioning:\n"
        "  maxSize: 1GiB\n")),
     'VolumeConfig/STATE.provisioning: provisioning config is not allowed for the "STATE" '
     "volume"),
    ("volume-state-lock", _config("worker", docs=(
        "---\napiVersion: v1alpha1\nkind: VolumeConfig\nname: STATE\nencryption:\n"
        "  provider: luks2\n  keys:\n    - slot: 0\n      tpm: {}\n      lockToState: true\n")),
     "VolumeConfig/STATE.encryption.keys[0].lockToState: state-locked key is not allowed"),
    ("volume-vs-legacy", _config("worker", machine=(
        "  systemDiskEncryption:\n    ephemeral:\n      provider: luks2\n      keys:\n"
        "        - slot: 0\n          nodeID: {}\n"), docs=(
        "---\napiVersion: v1alpha1\nkind: VolumeConfig\nname: EPHEMERAL\nencryption:\n"
        "  provider: luks2\n  keys:\n    - slot: 0\n      tpm: {}\n")),
     'system disk encryption for "EPHEMERAL" is configured in both v1alpha1.Config and '
     "VolumeConfig"),
    ("siderolink-scheme", _config("worker", docs="---\napiVersion: v1alpha1\n"
                                  "kind: SideroLinkConfig\napiUrl: http://x\n"),
     "SideroLinkConfig.apiUrl: apiUrl scheme must be https:// or grpc://"),
    ("event-sink", _config("worker", docs="---\napiVersion: v1alpha1\nkind: EventSinkConfig\n"
                           "endpoint: 10.0.0.1\n"),
     'EventSinkConfig.endpoint: event sink endpoint "10.0.0.1": expected host:port'),
    ("watchdog-timeout", _config("worker", docs="---\napiVersion: v1alpha1\n"
                                 "kind: WatchdogTimerConfig\ndevice: /dev/watchdog0\n"
                                 "timeout: 5s\n"),
     "WatchdogTimerConfig.timeout: watchdog timeout: minimum value is 10s"),
    ("extension-empty", _config("worker", docs="---\napiVersion: v1alpha1\n"
                                "kind: ExtensionServiceConfig\nname: nut\n"),
     'ExtensionServiceConfig/nut: no config files found for extension "nut"'),
    ("rule-overlap", _config("worker", docs="---\napiVersion: v1alpha1\n"
                             "kind: NetworkRuleConfig\nname: r\nportSelector:\n"
                             "  ports: [80-90, 85]\n  protocol: tcp\n"),
     'NetworkRuleConfig/r.portSelector.ports: invalid port range: "85", overlaps with '
     '"80-90"'),
    ("ivc-no-image", _config("worker", docs=IVC + "  - skip: true\n"),
     "ImageVerificationConfig.rules[0].image: imagePattern must be specified"),
    ("ivc-skip-deny", _config("worker", docs=IVC + "  - image: a/*\n    skip: true\n"
                              "    deny: true\n"),
     "ImageVerificationConfig.rules[0]: skip and deny cannot both be true"),
    ("ivc-deny-verifier", _config("worker", docs=IVC + "  - image: a/*\n    deny: true\n"
                                  "    publicKey:\n      certificate: x\n"),
     "ImageVerificationConfig.rules[0]: verifiers cannot be configured if skip or deny is "
     "true"),
    ("ivc-no-verifier", _config("worker", docs=IVC + "  - image: a/*\n"),
     "ImageVerificationConfig.rules[0]: at least one verifier must be configured"),
    ("ivc-two-verifiers", _config("worker", docs=IVC + "  - image: a/*\n    keyless:\n"
                                  "      issuer: https://i\n      subject: s\n"
                                  "    publicKey:\n      certificate: x\n"),
     "ImageVerificationConfig.rules[0]: only one of keyless or publicKey verifier can be "
     "configured"),
    ("ivc-keyless-issuer", _config("worker", docs=IVC + "  - image: a/*\n    keyless:\n"
                                   "      subject: s\n"),
     "ImageVerificationConfig.rules[0].keyless.issuer: verifier OIDC issuer must be "
     "specified"),
    ("ivc-keyless-subject", _config("worker", docs=IVC + "  - image: a/*\n    keyless:\n"
                                    "      issuer: https://i\n"),
     "ImageVerificationConfig.rules[0].keyless: verifier subject or subjectRegex must be "
     "specified"),
    ("ivc-empty-certificate", _config("worker", docs=IVC + "  - image: a/*\n"
                                      "    publicKey: {}\n"),
     "ImageVerificationConfig.rules[0].publicKey.certificate: verifier certificates must be "
     "specified"),
]


@pytest.mark.parametrize(("snippet", "expected"), [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_rule_reports_problem(snippet: str, expected: str) -> None:
    cfg = load_config(snippet)
    with pytest.raises(InvalidConfig) as e:
        cfg.validate("container")
    got = [str(p) for p in e.value.problems]
    assert any(expected in p for p in got), got


def test_metal_install_refuses_extra_kernel_args_with_uki_cmdline() -> None:
    cfg = load_config(_config("worker", machine="  install:\n    disk: /dev/sda\n"
                              "    extraKernelArgs: [a]\n    grubUseUKICmdline: true\n"))
    with pytest.raises(InvalidConfig) as e:
        cfg.validate("metal")
    assert [str(p) for p in e.value.problems] == [
        "machine.install.extraKernelArgs: install.extraKernelArgs and "
        "install.grubUseUKICmdline can't be used together"]


def test_custom_cni_without_urls_warns_and_is_an_error_when_strict() -> None:
    cfg = load_config(_config("controlplane", cluster="  network:\n    cni:\n"
                              "      name: custom\n"))
    assert cfg.validate("container") == [
        'cluster.network.cni.urls: "urls" field should not be empty for "custom" CNI']
    with pytest.raises(InvalidConfig, match="warning: "):
        cfg.validate("container", strict=True)


@pytest.mark.parametrize("kind", ["controlplane", "worker"])
def test_base_configs_are_valid(kind: str) -> None:
    assert load_config(_config(kind)).validate("container", strict=True) == []


def test_user_volume_with_upstream_fields_is_valid() -> None:
    docs = UVC_OK + ("volumeType: partition\nfilesystem:\n  type: xfs\n"
                     "  projectQuotaSupport: true\n  xfs:\n    minAllocationGroupSize: 1GiB\n"
                     "mount:\n  disableAccessTime: true\n  secure: false\n")
    assert load_config(_config("worker", docs=docs)).validate("container") == []


def test_image_verification_config_of_upstream_testdata_is_valid_and_warns_on_tags() -> None:
    # upstream security/testdata/imageverificationconfig.yaml, plus rules that warn
    docs = IVC + ("  - image: ghcr.io/*\n    keyless:\n"
                  "      issuer: https://token.actions.githubusercontent.com\n"
                  "      subjectRegex: https://github.com/myorg/.*\n"
                  "  - image: my-registry/*\n    publicKey:\n      certificate: |-\n"
                  "        -----BEGIN CERTIFICATE-----\n        MII--Sample Value--\n"
                  "        -----END CERTIFICATE-----\n"
                  "  - image: no-verifier/*\n    skip: true\n"
                  "  - image: deny-all/*\n    deny: true\n")
    assert load_config(_config("worker", docs=docs)).validate("container") == []
    warned = IVC + ("  - image: nginx\n    skip: true\n"
                    "  - image: localhost:5000/app:v1\n    deny: true\n")
    assert load_config(_config("worker", docs=warned)).validate("container") == [
        "ImageVerificationConfig.rules[0].image: imagePattern does not contain a '/', image "
        "references like 'nginx' are matched as 'docker.io/nginx' (normalized)",
        "ImageVerificationConfig.rules[1].image: imagePattern contains ':' but matching only "
        "applies to the image registry and repository, not the tag or digest"]
