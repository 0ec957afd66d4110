"""No secret value of a config or a patch reaches an error message.

A config carrying a marker value in every secret field (tests/secret_markers.py) goes
through every error path reachable without a node: JSON patches with bad paths, ops and
types, strategic merge patches with bad types and directives, invalid YAML, validation
failures, `talosctl validate`, `talosctl machineconfig patch` and `talosctl gen config
--config-patch / --with-secrets`. Every message must name the path and the problem, and
contain no marker value and no Python repr.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from talos.machinery.config import apply_patches, load_config
from talos.machinery.config.generate import GenerateOptions, generate
from talos.machinery.config.redact import redact_pair
from talos.machinery.errors import InvalidConfig
from tests.secret_markers import (
    ALL_MARKERS,
    DOC_MARKERS,
    MARKERS,
    assert_no_secret,
    marked_documents,
    marked_v1alpha1,
)
from tests.unit.cli.conftest import Run

TOKEN = MARKERS["machine.token"]
CA_KEY = MARKERS["machine.ca.key"]
CLUSTER_SECRET = MARKERS["cluster.secret"]


@pytest.fixture(scope="module")
def marked() -> str:
    gen = generate(GenerateOptions(cluster_name="demo", endpoint="https://10.5.0.2:6443"),
                   with_talosconfig=False)
    return marked_v1alpha1(gen.controlplane)


def _ops(*ops: dict[str, object]) -> str:
    return json.dumps(list(ops))


#: JSON patches that fail, and what the error must say (the path and the problem)
JSON_PATCHES: list[tuple[str, str]] = [
    (_ops({"op": "add", "path": "/machine/nonexistent/foo", "value": 1}),
     "/machine/nonexistent does not exist"),
    (_ops({"op": "remove", "path": "/machine/nonexistent"}),
     "/machine/nonexistent does not exist"),
    (_ops({"op": "replace", "path": "/cluster/nonexistent", "value": TOKEN}),
     "/cluster/nonexistent does not exist"),
    (_ops({"op": "test", "path": "/machine/token", "value": "wrong"}),
     "test failed: the value at /machine/token differs from the tested value"),
    (_ops({"op": "test", "path": "/machine", "value": {"token": TOKEN}}),
     "test failed: the value at /machine differs"),
    (_ops({"op": "add", "path": "/machine/token/x", "value": 1}),
     "/machine/token is a string, not a mapping or list"),
    (_ops({"op": "add", "path": "/cluster/ca/key/0", "value": 1}),
     "/cluster/ca/key is a string"),
    (_ops({"op": "replace", "path": "/machine/certSANs/7", "value": CA_KEY}),
     "index 7 is out of range"),
    (_ops({"op": "copy", "from": "/machine/ca", "path": "/cluster/token/key"}),
     "/cluster/token is a string"),
    (_ops({"op": "move", "from": "/cluster", "path": "/cluster/secret/x"}),
     "can't be moved into itself"),
    (_ops({"op": {"token": TOKEN}, "path": "/machine"}),
     '"op" must be one of add, remove, replace, move, copy, test, got a mapping'),
    (_ops({"op": "add", "path": {"p": CLUSTER_SECRET}, "value": 1}),
     '"path" must be a JSON pointer string, got a mapping'),
    (_ops({"op": "add", "path": "machine/token", "value": 1}),
     'is not a JSON pointer'),
    (_ops({"op": "replace", "path": "/machine/token", "value": [TOKEN]}),
     "machine.token: expected a string, got a list"),
    (_ops({"op": "replace", "path": "/machine/ca", "value": CA_KEY}),
     "machine.ca: expected a mapping"),
    (_ops({"op": "add", "path": "/cluster/secretboxEncryptionSecret/-", "value": 1}),
     "/cluster/secretboxEncryptionSecret is a string"),
    (json.dumps([TOKEN]), "a JSON patch operation must be a mapping"),
]

#: strategic merge patches that fail
MERGE_PATCHES: list[tuple[str, str]] = [
    (f"machine:\n  token:\n    value: {TOKEN}\n", "machine.token: merge type mismatch"),
    (f"machine:\n  ca:\n    key: [{CA_KEY}]\n", "machine.ca.key: merge type mismatch"),
    (f"cluster:\n  - {CLUSTER_SECRET}\n", "cluster: merge type mismatch"),
    (f"machine:\n  certSANs:\n    - $patch: replace\n      token: {TOKEN}\n",
     'machine.certSANs[0]: unsupported $patch directive "replace"'),
    (f"machine:\n  tokenn: {TOKEN}\n", 'unknown field "tokenn" (did you mean "token"?)'),
    (f"machine:\n  token: {TOKEN}\n  token: other-{TOKEN}\n", 'found duplicate key "token"'),
    (f"cluster:\n  secret: {CLUSTER_SECRET}\n  secret: x{CLUSTER_SECRET}\n",
     'found duplicate key "secret"'),
    (f"machine:\n  token: [{TOKEN}\n", "YAML syntax error"),
    (f"machine:\n\ttoken: {TOKEN}\n", "YAML syntax error"),
    (f"- {TOKEN}\n- {CA_KEY}\n", "a JSON patch operation must be a mapping"),
    (f"{TOKEN}\n", "not a patch"),
]


@pytest.mark.parametrize(("patch", "expected"), JSON_PATCHES + MERGE_PATCHES)
def test_a_failing_patch_names_the_path_and_never_a_secret(marked: str, patch: str,
                                                          expected: str) -> None:
    with pytest.raises(InvalidConfig) as e:
        apply_patches(marked, [patch], sources=["p.yaml"])
    message = str(e.value)
    assert expected in message, message
    assert message.startswith("p.yaml: ")
    assert_no_secret(message, ALL_MARKERS, what=f"error {message!r}")


#: configs that fail to load (the last: only to validate): (the marked config changed by
#: `edit`, what the error says)
BAD_CONFIGS: list[tuple[tuple[str, str], str]] = [
    ((f"token: {TOKEN}", f"token: {TOKEN}\n  token: {TOKEN}x"), "duplicate key"),
    ((f"token: {TOKEN}", f"token: [{TOKEN}]"), "machine.token: expected a string"),
    ((f"token: {TOKEN}", f"token: {{value: {TOKEN}}}"), "machine.token: expected a string"),
    ((f"key: {CA_KEY}", f"key: [{CA_KEY}]"), "machine.ca.key: expected a string"),
    ((f"secret: {CLUSTER_SECRET}", f"secret: {{x: {CLUSTER_SECRET}}}"),
     "cluster.secret: expected a string"),
    # a key pasted after the config as a document of its own
    (("", f"---\n{CA_KEY}x\n"),
     "document[1]: expected a mapping, got a string"),
    ((f"token: {MARKERS['cluster.token']}", "token: not-a-bootstrap-token-MK-secret-xyz"),
     "cluster.token: invalid bootstrap token"),
]


def _edited(marked: str, edit: tuple[str, str]) -> str:
    old, new = edit
    if not old:
        return marked + new
    assert old in marked
    return marked.replace(old, new, 1)


@pytest.mark.parametrize(("edit", "expected"), BAD_CONFIGS)
def test_an_invalid_config_names_the_field_and_never_a_secret(
        talosctl: Run, tmp_path: Path, marked: str, edit: tuple[str, str],
        expected: str) -> None:
    text = _edited(marked, edit)
    secrets = {**ALL_MARKERS, "edited": edit[1].split(": ", 1)[-1].strip("-\n[]{}")
               .removeprefix("value: ")}
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    r = talosctl("validate", "-c", str(cfg), "-m", "container")
    assert r.returncode == 1 and expected in r.stderr, r.stderr
    assert_no_secret(r.stdout + r.stderr, secrets, what="talosctl validate")
    if "bootstrap token" in expected:
        return  # a validation rule: machineconfig patch checks only the structure
    r = talosctl("machineconfig", "patch", str(cfg), "-p", '{"machine": {"env": {"A": "b"}}}')
    assert r.returncode == 1 and expected in r.stderr, r.stderr
    assert_no_secret(r.stdout + r.stderr, secrets, what="talosctl machineconfig patch")


def test_validation_failures_never_show_secret_values(marked: str) -> None:
    # a bad wireguard key and a SideroLink URL that does not parse: their values stay out
    wg = MARKERS["machine.network.interfaces[0].wireguard.privateKey"]
    join = DOC_MARKERS["SideroLinkConfig.apiUrl.jointoken"]
    bad = marked.replace(wg, "TUstc2hvcnQtd2lyZWd1YXJkLWtleQ==") + (
        "---\napiVersion: v1alpha1\nkind: SideroLinkConfig\n"
        f"apiUrl: 'siderolink.example.com?jointoken={join}'\n")
    with pytest.raises(InvalidConfig) as e:
        load_config(bad).validate("container")
    message = str(e.value)
    assert "SideroLinkConfig.apiUrl" in message, message
    assert_no_secret(message, {**ALL_MARKERS, "wg": "TUstc2hvcnQtd2lyZWd1YXJkLWtleQ=="},
                     what=message)
    with pytest.raises(InvalidConfig) as e:
        load_config(marked.replace(wg, "TUstc2hvcnQtd2lyZWd1YXJkLWtleQ==")).validate(
            "container")
    assert "wireguard.privateKey: private key is invalid" in str(e.value)
    assert_no_secret(str(e.value), {"wg": "TUstc2hvcnQtd2lyZWd1YXJkLWtleQ=="}, what="wg")


@pytest.mark.parametrize(("patch", "expected"), JSON_PATCHES[:4] + MERGE_PATCHES[:6])
def test_talosctl_machineconfig_patch_never_echoes_a_secret(
        talosctl: Run, tmp_path: Path, marked: str, patch: str, expected: str) -> None:
    cfg = tmp_path / "cp.yaml"
    cfg.write_text(marked)
    (tmp_path / "p.yaml").write_text(patch)
    for arg in (patch, f"@{tmp_path / 'p.yaml'}"):
        r = talosctl("machineconfig", "patch", str(cfg), "--patch", arg)
        assert r.returncode == 1, r.stdout
        assert expected in r.stderr, r.stderr
        assert r.stdout == ""
        assert_no_secret(r.stderr, ALL_MARKERS, what="talosctl machineconfig patch")


def test_talosctl_gen_config_with_a_bad_patch_never_echoes_a_secret(
        talosctl_process: Run, tmp_path: Path) -> None:
    r = talosctl_process("gen", "secrets", "-o", str(tmp_path / "secrets.yaml"))
    assert r.returncode == 0, r.stderr
    bundle_text = (tmp_path / "secrets.yaml").read_text()
    bundle = YAML(typ="safe", pure=True).load(bundle_text)
    generated = {f"bundle {k}": v for k, v in (
        ("cluster.secret", bundle["cluster"]["secret"]),
        ("bootstraptoken", bundle["secrets"]["bootstraptoken"]),
        ("secretbox", bundle["secrets"]["secretboxencryptionsecret"]),
        ("trustd token", bundle["trustdinfo"]["token"]),
        ("os key", bundle["certs"]["os"]["key"]),
        ("k8s key", bundle["certs"]["k8s"]["key"]),
        ("etcd key", bundle["certs"]["etcd"]["key"]))}
    secrets = {**ALL_MARKERS, **generated}
    for option, (patch, expected) in [
            ("--config-patch", JSON_PATCHES[0]), ("--config-patch", JSON_PATCHES[3]),
            ("--config-patch-control-plane", MERGE_PATCHES[0]),
            ("--config-patch-worker", MERGE_PATCHES[5]),
            ("--config-patch", MERGE_PATCHES[7])]:
        out = tmp_path / "out"
        r = talosctl_process("gen", "config", "demo", "https://10.5.0.2:6443",
                             "--with-secrets", str(tmp_path / "secrets.yaml"), option, patch,
                             "-o", str(out))
        assert r.returncode == 1, r.stdout
        assert expected in r.stderr, r.stderr
        assert_no_secret(r.stdout + r.stderr, secrets, what=f"gen config {option}")
        assert not out.exists() or not any(out.iterdir())
    # a secrets bundle that does not load: its problems name fields, never values
    (tmp_path / "bad.yaml").write_text(bundle_text.replace(
        "bootstraptoken:", "bootstraptoken: x\n    bootstraptoken:", 1))
    r = talosctl_process("gen", "config", "demo", "https://10.5.0.2:6443", "--with-secrets",
                         str(tmp_path / "bad.yaml"), "-o", str(tmp_path / "out2"))
    assert r.returncode == 1 and "bootstraptoken" in r.stderr, r.stderr
    assert_no_secret(r.stdout + r.stderr, secrets, what="gen config --with-secrets")


def test_a_diff_of_two_configs_shows_changed_secrets_only_as_redacted(marked: str) -> None:
    new = marked.replace(TOKEN, "mkmach.mkmachinetoken02").replace(
        CLUSTER_SECRET, "TUstbmV3LWNsdXN0ZXItc2VjcmV0")
    old_red, new_red = redact_pair(marked + marked_documents(), new + marked_documents())
    both = old_red + new_red
    assert_no_secret(both, {**ALL_MARKERS, "new token": "mkmach.mkmachinetoken02",
                            "new secret": "TUstbmV3LWNsdXN0ZXItc2VjcmV0"}, what="diff")
    changed = [ln.strip() for ln, old_ln in zip(new_red.splitlines(), old_red.splitlines(),
                                                strict=True) if ln != old_ln]
    assert changed == ["token: '****** (changed)'", "secret: '****** (changed)'"], changed
    assert "crt: " in new_red and "clusterName: demo" in new_red


def test_broken_kubeconfig_and_talosconfig_errors_never_quote_a_key(talosctl: Run,
                                                                    tmp_path: Path) -> None:
    from talos.machinery import kubeconfig
    from talos.machinery.errors import InvalidArgument

    keys = {"first key": "TUstY2xpZW50LWtleS1vbmU=", "second key": "TUstY2xpZW50LWtleS10d28="}
    for text in (f"users:\n- name: a\n  user:\n    client-key-data: {keys['first key']}\n"
                 f"    client-key-data: {keys['second key']}\n",
                 f"users:\n- name: a\n  user:\n    client-key-data: {keys['first key']} : x\n"):
        with pytest.raises(InvalidArgument) as e:
            kubeconfig.load(text.encode(), source="kubeconfig")
        assert "not a valid kubeconfig: line " in str(e.value)
        assert_no_secret(str(e.value), keys, what=str(e.value))
    talosconfig = tmp_path / "talosconfig"
    talosconfig.write_text(f"context: a\ncontexts:\n    a:\n        key: {keys['first key']}\n"
                           f"        key: {keys['second key']}\n")
    r = talosctl("--talosconfig", str(talosconfig), "config", "info")
    assert r.returncode == 1 and 'found duplicate key "key"' in r.stderr, r.stderr
    assert_no_secret(r.stdout + r.stderr, keys, what="talosctl config info")
