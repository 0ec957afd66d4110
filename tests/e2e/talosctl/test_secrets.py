"""No secret of a node's config leaves it through talosctl: the support bundle, apply-config's
dry-run diff and the errors of an invalid config (the gRPC error, machined's and apid's logs).

The node here (127.0.0.5, next to the shared three) boots a `talosctl gen config`
controlplane config with real PKI and tokens, plus registry credentials (marker values).
"""

from __future__ import annotations

import base64
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.e2e.talosctl.conftest import TALOSCTL, E2ECluster, E2ENode, stop_process
from tests.secret_markers import MARKERS, assert_no_secret

HOST = "127.0.0.5"
REGISTRY_AUTH = "machine.registries.config.reg.auth"
MARKER_PATCH = f"""machine:
  network:
    hostname: secrets-1
  registries:
    config:
      reg:
        auth:
          username: me
          password: {MARKERS[f"{REGISTRY_AUTH}.password"]}
          auth: {MARKERS[f"{REGISTRY_AUTH}.auth"]}
          identityToken: {MARKERS[f"{REGISTRY_AUTH}.identityToken"]}
"""
#: where the secrets of a generated controlplane config sit
SECRET_FIELDS = (
    ("machine", "token"), ("machine", "ca", "key"), ("cluster", "secret"),
    ("cluster", "token"), ("cluster", "secretboxEncryptionSecret"), ("cluster", "ca", "key"),
    ("cluster", "aggregatorCA", "key"), ("cluster", "serviceAccount", "key"),
    ("cluster", "etcd", "ca", "key"),
)


def secrets_of(config_text: str) -> dict[str, str]:
    """Every secret value of the config, with the PEM body of each key (decoded form)."""
    doc = YAML(typ="safe", pure=True).load(config_text)
    out: dict[str, str] = {}
    for path in SECRET_FIELDS:
        node = doc
        for part in path:
            node = node[part]
        name = ".".join(path)
        assert isinstance(node, str) and node, name
        out[name] = node
        if path[-1] == "key":
            body = base64.b64decode(node).decode().splitlines()
            out[f"{name} (PEM body)"] = body[1]
    for key in ("password", "auth", "identityToken"):
        out[f"{REGISTRY_AUTH}.{key}"] = MARKERS[f"{REGISTRY_AUTH}.{key}"]
    return out


class SecretNode:
    def __init__(self, e2e: E2ECluster, node: E2ENode) -> None:
        self.e2e = e2e
        self.node = node
        self.secrets = secrets_of(node.config.read_text())

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.e2e.run("-e", self.e2e.endpoint(HOST), "-n", HOST, *args,
                            endpoint=False)

    def logs(self) -> str:
        """machined's output and apid's."""
        apid = self.e2e.tmp / f"apid-{HOST}" / "stderr"
        return self.node.log.read_text(errors="replace") + apid.read_text(errors="replace")


@pytest.fixture(scope="module")
def secret_node(e2e: E2ECluster) -> Iterator[SecretNode]:
    assert TALOSCTL is not None
    d = e2e.tmp / "secrets-node"
    d.mkdir()
    (d / "patch.yaml").write_text(MARKER_PATCH)
    subprocess.run([TALOSCTL, "gen", "config", "e2e-secrets", "https://127.0.0.1:6443",
                    "--config-patch", f"@{d / 'patch.yaml'}", "-o", str(d / "controlplane.yaml"),
                    "--output-types", "controlplane"],
                   check=True, capture_output=True, env=e2e.env(), timeout=120)
    node = E2ENode(HOST, "secrets-1", d / "root", d / "controlplane.yaml",
                   d / "machined.log")
    try:
        e2e.start_machined(node)
        e2e.start_apid(node)
        yield SecretNode(e2e, node)
    finally:
        for proc in (node.apid, node.machined):
            if proc is not None:
                stop_process(proc)


def test_support_bundle_has_the_config_redacted_and_no_secret(secret_node: SecretNode,
                                                              tmp_path: Path) -> None:
    bundle = tmp_path / "support.zip"
    r = secret_node.run("support", "-O", str(bundle))
    assert r.returncode == 0, r.stderr
    assert_no_secret(r.stdout + r.stderr, secret_node.secrets, what="talosctl support output")
    with zipfile.ZipFile(bundle) as z:
        names = z.namelist()
        for name in names:
            text = z.read(name).decode(errors="replace")
            assert_no_secret(text, secret_node.secrets, what=f"bundle member {name}")
        mc = z.read(f"{HOST}/resources/MachineConfigs.config.talos.dev.yaml").decode()
    # the config is there, structure and non-secret values kept, secrets replaced
    config = YAML(typ="safe", pure=True).load(mc)["spec"]
    assert config["machine"]["token"] == "******"
    assert config["machine"]["ca"]["key"] == "******"
    assert config["machine"]["ca"]["crt"].startswith("LS0t")
    assert config["cluster"]["clusterName"] == "e2e-secrets"
    assert config["cluster"]["secret"] == "******"
    assert config["cluster"]["etcd"]["ca"]["key"] == "******"
    assert config["machine"]["registries"]["config"]["reg"]["auth"] == {
        "username": "me", "password": "******", "auth": "******", "identityToken": "******"}
    assert config["machine"]["network"]["hostname"] == "secrets-1"


def test_dry_run_diff_shows_changed_secrets_redacted(secret_node: SecretNode,
                                                      tmp_path: Path) -> None:
    old = secret_node.node.config.read_text()
    new_token, new_secret = "newtok.mknewmachinetok1", "TUstbmV3LWNsdXN0ZXItc2VjcmV0LXZhbA=="
    new = old.replace(secret_node.secrets["machine.token"], new_token).replace(
        secret_node.secrets["cluster.secret"], new_secret)
    (tmp_path / "new.yaml").write_text(new)
    r = secret_node.run("apply-config", "--dry-run", "-f", str(tmp_path / "new.yaml"))
    assert r.returncode == 0, r.stderr
    assert "Dry run summary" in r.stdout
    assert "+    token: '****** (changed)'" in r.stdout, r.stdout
    assert "+    secret: '****** (changed)'" in r.stdout, r.stdout
    assert "-    token: '******'" in r.stdout
    assert_no_secret(r.stdout + r.stderr, {**secret_node.secrets, "new token": new_token,
                                           "new secret": new_secret}, what="dry-run diff")
    assert_no_secret(secret_node.logs(), secret_node.secrets, what="machined/apid logs")


def test_an_invalid_config_sent_to_the_node_echoes_no_secret(secret_node: SecretNode,
                                                            tmp_path: Path) -> None:
    old = secret_node.node.config.read_text()
    token, ca_key = secret_node.secrets["machine.token"], secret_node.secrets["machine.ca.key"]
    secret = secret_node.secrets["cluster.secret"]
    bad_token = "not-a-bootstrap-token-MKsecretvalue"
    cases = [
        # a duplicate key: the YAML error names it, not its two values
        (old.replace(f"token: {token}", f"token: {token}\n    token: x{token}", 1),
         'found duplicate key "token"'),
        # wrong types in secret fields
        (old.replace(f"key: {ca_key}", f"key: [{ca_key}]", 1), "machine.ca.key: expected a string"),
        (old.replace(f"secret: {secret}", f"secret: {{value: {secret}}}", 1),
         "cluster.secret: expected a string"),
        # a validation rule about a secret
        (old.replace(secret_node.secrets["cluster.token"], bad_token, 1),
         "cluster.token: invalid bootstrap token"),
    ]
    secrets = {**secret_node.secrets, "bad token": bad_token}
    for i, (text, expected) in enumerate(cases):
        path = tmp_path / f"bad{i}.yaml"
        path.write_text(text)
        for extra in (("--dry-run",), ("--mode", "no-reboot")):
            r = secret_node.run("apply-config", *extra, "-f", str(path))
            assert r.returncode == 1, (expected, r.stdout)
            assert expected in r.stderr, r.stderr
            assert_no_secret(r.stdout + r.stderr, secrets, what=f"apply-config {expected}")
    assert_no_secret(secret_node.logs(), secrets, what="machined/apid logs")
    # nothing was applied: the node still runs its config
    r = secret_node.run("get", "machineconfig", "-o", "yaml")
    assert r.returncode == 0, r.stderr
    assert secret_node.secrets["machine.token"] in r.stdout  # an admin reads it unredacted
