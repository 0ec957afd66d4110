"""The registry documents of upstream v1.13.9 (RegistryMirrorConfig, RegistryAuthConfig,
RegistryTLSConfig; pkg/machinery/config/types/cri): they load in upstream's form, their
Validate rules report upstream's wording with the field path, their secrets are redacted for
readers, and `cri.registries` combines them with `machine.registries` as upstream's container
does (a document replaces the v1alpha1 entry of its name)."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from talos.machinery.config import cri, load_config
from talos.machinery.config.documents import RegistryMirrorConfig, RegistryTLSConfig
from talos.machinery.config.redact import redact_pair, redact_yaml, secret_values
from talos.machinery.errors import InvalidConfig

PASSWORD = "pa55-w0rd-secret"
AUTH = "YWxpY2U6cGE1NS13MHJkLXNlY3JldA=="
TOKEN = "identity-token-secret"


def _pem_pair() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "registry client")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


CRT, KEY = _pem_pair()


def _indent(text: str, n: int) -> str:
    return "".join(" " * n + line + "\n" for line in text.strip().splitlines())


#: a worker config that validates in metal mode (as `talosctl validate --mode metal`)
BASE = ("version: v1alpha1\nmachine:\n  type: worker\n  token: t0ken.abcdefghijklmnop\n"
        "  ca:\n    crt: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
        "  install:\n    disk: /dev/sda\n"
        "cluster:\n  controlPlane:\n    endpoint: https://10.5.0.2:6443\n")

MIRROR = ("---\napiVersion: v1alpha1\nkind: RegistryMirrorConfig\nname: registry.k8s.io\n"
          "skipFallback: true\nendpoints:\n  - url: https://my-private-registry.local:5000\n"
          "  - url: http://my-harbor/v2/registry-k8s.io/\n    overridePath: true\n")
AUTH_DOC = ("---\napiVersion: v1alpha1\nkind: RegistryAuthConfig\n"
            f"name: my-private-registry.local:5000\nusername: alice\npassword: {PASSWORD}\n")
TLS_DOC = ("---\napiVersion: v1alpha1\nkind: RegistryTLSConfig\n"
           "name: my-private-registry.local:5000\nclientIdentity:\n"
           f"  cert: |-\n{_indent(CRT, 4)}  key: |-\n{_indent(KEY, 4)}"
           f"ca: |-\n{_indent(CRT, 2)}insecureSkipVerify: true\n")


def test_a_config_with_the_three_documents_loads_and_validates_for_metal() -> None:
    cfg = load_config(BASE + MIRROR + AUTH_DOC + TLS_DOC)
    assert cfg.validate("metal") == []
    mirror = cfg.document("RegistryMirrorConfig", "registry.k8s.io")
    assert mirror is not None and isinstance(mirror.model, RegistryMirrorConfig)
    assert [(e.url, e.override_path) for e in mirror.model.endpoints or []] == [
        ("https://my-private-registry.local:5000", None),
        ("http://my-harbor/v2/registry-k8s.io/", True)]
    tls = cfg.document("RegistryTLSConfig", "my-private-registry.local:5000")
    assert tls is not None and isinstance(tls.model, RegistryTLSConfig)
    assert tls.model.client_identity is not None
    assert tls.model.client_identity.cert == CRT.strip()


def _doc(kind: str, body: str) -> str:
    return BASE + f"---\napiVersion: v1alpha1\nkind: {kind}\n" + body


ERRORS = [
    ("mirror-empty-name", _doc("RegistryMirrorConfig", "name: ''\n"),
     "RegistryMirrorConfig.name: name must be specified"),
    ("mirror-no-url", _doc("RegistryMirrorConfig", "name: docker.io\nendpoints:\n"
                           "  - overridePath: true\n"),
     "RegistryMirrorConfig/docker.io.endpoints[0].url: endpoints[0].url must be specified"),
    ("mirror-scheme", _doc("RegistryMirrorConfig", "name: docker.io\nendpoints:\n"
                           "  - url: ftp://my-registry.local:5000\n"),
     'RegistryMirrorConfig/docker.io.endpoints[0].url: endpoints[0].url has unsupported '
     'scheme: "ftp"'),
    ("auth-empty-name", _doc("RegistryAuthConfig", "name: ''\nusername: a\n"),
     "RegistryAuthConfig.name: name must be specified"),
    ("auth-user-and-token", _doc("RegistryAuthConfig", f"name: r.io\nusername: a\n"
                                 f"identityToken: {TOKEN}\n"),
     "RegistryAuthConfig/r.io: only one of username/password or identityToken "
     "authentication can be specified"),
    ("auth-auth-and-user", _doc("RegistryAuthConfig", f"name: r.io\nusername: a\n"
                                f"auth: {AUTH}\n"),
     "RegistryAuthConfig/r.io: only one of auth, username/password or identityToken "
     "authentication can be specified"),
    ("tls-empty-name", _doc("RegistryTLSConfig", "name: ''\ninsecureSkipVerify: true\n"),
     "RegistryTLSConfig.name: name must be specified"),
    ("tls-ca-not-pem", _doc("RegistryTLSConfig", "name: r.io\nca: not a certificate\n"),
     "RegistryTLSConfig/r.io.ca: ca must be a valid PEM-encoded certificate"),
    ("tls-bad-cert", _doc("RegistryTLSConfig", f"name: r.io\nclientIdentity:\n  cert: x\n"
                          f"  key: |-\n{_indent(KEY, 4)}"),
     "RegistryTLSConfig/r.io.clientIdentity.cert: client identity certificate is invalid"),
    ("tls-bad-key", _doc("RegistryTLSConfig", f"name: r.io\nclientIdentity:\n"
                         f"  cert: |-\n{_indent(CRT, 4)}  key: {PASSWORD}\n"),
     "RegistryTLSConfig/r.io.clientIdentity.key: client identity key is invalid"),
]


@pytest.mark.parametrize(("config", "expected"), [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_upstream_validate_rules_name_the_field(config: str, expected: str) -> None:
    cfg = load_config(config)
    with pytest.raises(InvalidConfig) as e:
        cfg.validate("metal")
    got = [str(p) for p in e.value.problems]
    assert any(p.startswith(expected) for p in got), got
    for secret in (PASSWORD, TOKEN, AUTH, KEY.splitlines()[1]):
        assert secret not in str(e.value)


def test_the_v1alpha1_field_names_are_refused_with_the_document_ones_suggested() -> None:
    # upstream's document takes PEM `cert`, not v1alpha1's base64 `crt`
    with pytest.raises(InvalidConfig) as e:
        load_config(_doc("RegistryTLSConfig", "name: r.io\nclientIdentity:\n  crt: x\n"))
    assert "RegistryTLSConfig/r.io.clientIdentity.crt" in str(e.value)


def test_an_empty_mirror_is_valid() -> None:
    assert load_config(_doc("RegistryMirrorConfig", "name: docker.io\n")).validate() == []


def test_no_reader_sees_a_secret_of_the_documents() -> None:
    text = (BASE + AUTH_DOC + TLS_DOC
            + "---\napiVersion: v1alpha1\nkind: RegistryAuthConfig\nname: b.io\n"
            f"auth: {AUTH}\n---\napiVersion: v1alpha1\nkind: RegistryAuthConfig\n"
            f"name: c.io\nidentityToken: {TOKEN}\n")
    key_line = KEY.splitlines()[1]
    for readable in (load_config(text).redacted().dump(), redact_yaml(text),
                     redact_pair(text, text.replace(PASSWORD, "other-pa55word"))[1]):
        for secret in (PASSWORD, AUTH, TOKEN, key_line, "other-pa55word"):
            assert secret not in readable
        assert "alice" in readable and CRT.splitlines()[1] in readable
    assert {PASSWORD, AUTH, TOKEN, KEY.strip()} <= secret_values(text)


V1ALPHA1_REGISTRIES = (
    "version: v1alpha1\nmachine:\n  type: worker\n  registries:\n"
    "    mirrors:\n      docker.io:\n        endpoints: [https://old.example]\n"
    "      ghcr.io:\n        endpoints: [https://ghcr-mirror.example]\n"
    "    config:\n      old.example:\n        auth:\n          username: old\n"
    "          password: old-password\n"
    "        tls:\n          insecureSkipVerify: true\n"
    "cluster:\n  clusterName: t\n")


def test_a_document_replaces_the_v1alpha1_entry_of_its_name_and_keeps_the_others() -> None:
    cfg = load_config(
        V1ALPHA1_REGISTRIES
        + "---\napiVersion: v1alpha1\nkind: RegistryMirrorConfig\nname: docker.io\n"
        "endpoints:\n  - url: https://new.example\n"
        "---\napiVersion: v1alpha1\nkind: RegistryAuthConfig\nname: old.example\n"
        f"username: new\npassword: {PASSWORD}\n")
    view = cri.registries(cfg)
    assert view.mirrors == {
        "docker.io": cri.RegistryMirror((cri.RegistryEndpoint("https://new.example"),),
                                        False, "RegistryMirrorConfig/docker.io"),
        "ghcr.io": cri.RegistryMirror((cri.RegistryEndpoint("https://ghcr-mirror.example"),),
                                      False, "machine.registries.mirrors.ghcr.io")}
    assert view.auth == {"old.example": cri.RegistryAuth(
        "new", PASSWORD, source="RegistryAuthConfig/old.example")}
    # the auth document does not touch the host's v1alpha1 TLS (separate maps, as upstream)
    assert view.tls == {"old.example": cri.RegistryTLS(
        insecure_skip_verify=True, source="machine.registries.config.old.example.tls")}
    assert PASSWORD not in repr(view)
