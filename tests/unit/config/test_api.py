"""Config API details other components rely on: redaction, generated configs, multi-doc."""

from __future__ import annotations

import pytest

from talos.machinery.config import apply_patches, load_config, load_patch_arg
from talos.machinery.config.generate import GenerateOptions, generate
from talos.machinery.errors import InvalidArgument, InvalidConfig


@pytest.fixture(scope="module")
def generated() -> tuple[str, str]:
    gen = generate(GenerateOptions(cluster_name="demo", endpoint="https://10.5.0.2:6443"),
                   with_talosconfig=False)
    return gen.controlplane, gen.worker


def test_generated_configs_validate_and_round_trip(generated: tuple[str, str]) -> None:
    for text in generated:
        cfg = load_config(text)
        for mode in ("metal", "cloud", "container"):
            assert cfg.validate(mode, strict=True) == []
        assert cfg.dump() == text


def test_redacted_hides_every_secret(generated: tuple[str, str]) -> None:
    cfg = load_config(generated[0])
    v1 = cfg.v1alpha1
    assert v1 is not None and v1.machine is not None and v1.cluster is not None
    secrets = [v1.machine.token, v1.cluster.secret, v1.cluster.token]
    assert v1.machine.ca is not None and v1.cluster.ca is not None
    secrets += [v1.machine.ca.key, v1.cluster.ca.key]
    red = cfg.redacted()
    text = red.dump()
    for secret in secrets:
        assert secret and secret not in text
    assert "******" in text
    rv1 = red.v1alpha1
    assert rv1 is not None and rv1.machine is not None and rv1.machine.token == "******"
    assert rv1.machine.ca is not None and rv1.machine.ca.crt == v1.machine.ca.crt
    assert cfg.v1alpha1 is v1 and secrets[0] in cfg.dump()  # the original is untouched


def test_multidoc_errors_are_prefixed_and_collected() -> None:
    text = ("machine:\n  type: worker\n---\napiVersion: v1alpha1\nkind: NetworkRuleConfig\n"
            "name: r\nportSelector:\n  ports: [53]\n  protocol: tcpp\ningress:\n"
            "  - subnet: 10.0.0\n---\napiVersion: v1alpha1\nkind: NetworkRuleConfig\n"
            "name: r\n---\nmachine: {}\n")
    with pytest.raises(InvalidConfig) as e:
        load_config(text, source="m.yaml")
    got = [str(p) for p in e.value.problems]
    assert any(p.startswith('NetworkRuleConfig/r.portSelector.protocol: invalid value "tcpp"')
               for p in got)
    assert 'NetworkRuleConfig/r.ingress[0].subnet: invalid CIDR "10.0.0"' in got
    assert "document: duplicate v1alpha1 document" in got
    assert str(e.value).startswith("m.yaml: 3 errors occurred:")


def test_unsupported_upstream_kind_refused_naming_supported_ones() -> None:
    text = "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: node-1  # ok\n"
    with pytest.raises(InvalidConfig) as e:
        load_config(text)
    [problem] = [str(p) for p in e.value.problems]
    assert problem.startswith('document[0].kind: document kind "HostnameConfig" is not '
                              "supported (supported kinds: v1alpha1, EthernetConfig, ")
    assert "UserVolumeConfig" in problem


def test_patch_keeps_comments_and_names_patch() -> None:
    base = "# head\nmachine:\n  type: worker  # role\n  network: {}\n"
    out = apply_patches(base, ["machine:\n  network:\n    hostname: w1\n"])
    assert out.startswith("# head\n") and "# role" in out and "hostname: w1" in out
    with pytest.raises(InvalidConfig) as e:
        apply_patches(base, ["machine:\n  network:\n    hostname: w1\n", "machine: [1]\n"],
                      sources=["a.yaml", "b.yaml"])
    assert e.value.source == "b.yaml"
    assert "machine: merge type mismatch: the config has a mapping, the patch has a list" in \
        str(e.value)
    with pytest.raises(InvalidConfig) as e:
        apply_patches(base, ["42\n"])
    assert e.value.source == "patch[0]"


def test_load_patch_arg(tmp_path: pytest.TempPathFactory) -> None:
    assert load_patch_arg("machine: {}") == "machine: {}"
    with pytest.raises(InvalidArgument, match="No such file"):
        load_patch_arg("@/definitely/not/here.yaml")


def test_unknown_mode() -> None:
    cfg = load_config("machine:\n  type: worker\n")
    with pytest.raises(InvalidArgument, match='unknown mode "vm"'):
        cfg.validate("vm")


def test_go_style_octal_permissions() -> None:
    cfg = load_config("machine:\n  files:\n"
                      "    - {content: a, permissions: 0644, path: /var/a, op: create}\n"
                      "    - {content: b, permissions: 0o600, path: /var/b, op: create}\n")
    v1 = cfg.v1alpha1
    assert v1 is not None and v1.machine is not None and v1.machine.files is not None
    assert [f.permissions for f in v1.machine.files] == [0o644, 0o600]
    assert "0644" in cfg.dump()


def test_not_a_mapping_document() -> None:
    with pytest.raises(InvalidConfig, match=r"document\[0\]: expected a mapping, got a list"):
        load_config("- a\n")


def test_exponent_floats_keep_their_value() -> None:
    # ruamel alone rewrites 1.824577998263913e+16 as ...912e+16 (found by hypothesis)
    text = "cluster:\n  apiServer:\n    auditPolicy:\n      a: 1.824577998263913e+16\n"
    assert load_config(text).dump() == text


def test_document_checks_and_double_patch() -> None:
    cfg = load_config("apiVersion: v1alpha1\nkind: UserVolumeConfig\nname: a_b\nencryption:\n"
                      "  keys: [{slot: 1, tpm: {}}, {slot: 1, tpm: {}}]\n---\n"
                      "apiVersion: v1alpha1\nkind: SideroLinkConfig\n")
    with pytest.raises(InvalidConfig) as e:
        cfg.validate("cloud")
    assert [str(p) for p in e.value.problems] == [
        'UserVolumeConfig/a_b.name: invalid volume name "a_b": name can only contain '
        "lowercase and uppercase ASCII letters, digits, and hyphens",
        "UserVolumeConfig/a_b.provisioning.diskSelector.match: disk selector is required",
        "UserVolumeConfig/a_b.provisioning.maxSize: min size or max size is required",
        'UserVolumeConfig/a_b.encryption.provider: unsupported encryption provider: "" '
        '(expected "luks2")',
        "UserVolumeConfig/a_b.encryption.keys[1].slot: duplicate key slot 1",
        "SideroLinkConfig.apiUrl: apiUrl is required",
    ]
    with pytest.raises(InvalidConfig, match="document v1alpha1 is patched twice in one patch"):
        apply_patches("machine: {}\n", ["machine: {type: worker}\n---\nmachine: {}\n"])


def test_go_merge_rules() -> None:
    """Talos's merge: zero values ("", 0, [], {}) and null change nothing, false does."""
    base = ("machine:\n  type: worker\n  certSANs: [a]\n  network:\n    hostname: h\n"
            "  install:\n    wipe: true\n")
    out = apply_patches(base, ["machine:\n  certSANs: []\n  network:\n    hostname: ''\n"
                               "  install:\n    wipe: false\n  kubelet: null\n"])
    cfg = load_config(out).v1alpha1
    assert cfg is not None and cfg.machine is not None
    assert cfg.machine.cert_sans == ["a"] and cfg.machine.kubelet is None
    assert cfg.machine.network is not None and cfg.machine.network.hostname == "h"
    assert cfg.machine.install is not None and cfg.machine.install.wipe is False
    # replace-on-merge fields keep their value when the patch gives an empty list
    subnets = "cluster:\n  network:\n    podSubnets: [10.244.0.0/16]\n"
    assert apply_patches(subnets, ["cluster:\n  network:\n    podSubnets: []\n"]) == subnets


def test_config_patched_leaves_original() -> None:
    cfg = load_config("# c\nmachine:\n  type: worker\n", source="w.yaml")
    new = cfg.patched(['[{"op": "add", "path": "/machine/certSANs", "value": ["1.2.3.4"]}]'],
                      sources=["p.json"])
    v1 = new.v1alpha1
    assert v1 is not None and v1.machine is not None and v1.machine.cert_sans == ["1.2.3.4"]
    assert new.dump().startswith("# c\n") and "certSANs" not in cfg.dump()
    assert cfg.patched([]).dump() == cfg.dump()


def test_certificates_and_keys_must_be_base64_as_upstreams_base64bytes(
        generated: tuple[str, str]) -> None:
    text = generated[0]
    cfg = load_config(text)
    v1 = cfg.v1alpha1
    assert v1 is not None and v1.machine is not None and v1.machine.ca is not None
    key = v1.machine.ca.key
    assert key
    # a redaction marker is no key either (only a redacted copy may hold it)
    for bad in ("not*base64", key[:-1], '"******"'):
        with pytest.raises(InvalidConfig) as err:
            load_config(text.replace(key, bad))
        assert [str(p) for p in err.value.problems] == [
            "machine.ca.key: not valid base64 (expected a base64-encoded PEM block)"]
        assert bad not in str(err.value)
