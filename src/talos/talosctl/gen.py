"""`talosctl gen`: secrets bundles, machine configs, CAs, keys, CSRs and certificates.

Differences from Talos, on purpose: keys and certificates are ECDSA P-256 (not Ed25519) so
that gRPC can serve them, and every generated file is written atomically with mode 0600
(they hold private keys).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from talos.machinery import goyaml, role
from talos.machinery.errors import InvalidArgument, InvalidConfig, Problem
from talos.talosctl.output import STDOUT, check_not_exists, clear_errors, write_output
from talos.talosctl.patch_options import config_patch_options

if TYPE_CHECKING:
    from talos.machinery.secrets import SecretsBundle

OUTPUT_TYPES = ("controlplane", "worker", "talosconfig")
F = TypeVar("F", bound=Callable[..., Any])


def _split(values: tuple[str, ...]) -> list[str]:
    """StringSlice semantics: repeated and/or comma-separated."""
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def _parse_roles(values: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return role.check(_split(values))
    except InvalidArgument as e:
        raise click.ClickException(str(e)) from None


def _force(ctx: click.Context, force: bool) -> bool:
    parent = ctx.find_object(GenOptions)
    return force or (parent is not None and parent.force)


class GenOptions:
    def __init__(self, force: bool) -> None:
        self.force = force


@click.group()
@click.option("-f", "--force", is_flag=True, help="will overwrite existing files")
@click.pass_context
def gen(ctx: click.Context, force: bool) -> None:
    """Generate base secrets, machine configuration, and other files."""
    ctx.obj = GenOptions(force)


_force_option = click.option("-f", "--force", is_flag=True, help="will overwrite existing files")


def go_bool(name: str, *, default: bool, help: str) -> Callable[[F], F]:
    """A boolean flag like cobra's: `--flag`, `--flag=true` or `--flag=false`."""
    return click.option(name, type=click.BOOL, default=default, is_flag=False,
                        flag_value=True, show_default=True, help=help)


# ---- gen secrets -------------------------------------------------------------------------

@gen.command("secrets")
@click.option("-o", "--output-file", default="secrets.yaml", show_default=True,
              help='path of the output file, or "-" for stdout')
@click.option("--from-controlplane-config", metavar="PATH",
              help="use the provided controlplane Talos machine configuration as input")
@click.option("-p", "--from-kubernetes-pki", metavar="DIR",
              help="use a Kubernetes PKI directory (e.g. /etc/kubernetes/pki) as input")
@click.option("-t", "--kubernetes-bootstrap-token", default="",
              help="use the provided bootstrap token as input")
@_force_option
@click.pass_context
@clear_errors
def gen_secrets(ctx: click.Context, output_file: str, from_controlplane_config: str | None,
                from_kubernetes_pki: str | None, kubernetes_bootstrap_token: str,
                force: bool) -> None:
    """Generates a secrets bundle file which can later be used to generate a config."""
    from talos.machinery.secrets import SecretsBundle

    check_not_exists(output_file, _force(ctx, force))
    if from_kubernetes_pki:
        bundle = SecretsBundle.from_kubernetes_pki(from_kubernetes_pki,
                                                   kubernetes_bootstrap_token)
    elif from_controlplane_config:
        bundle = bundle_from_controlplane_config(Path(from_controlplane_config))
    else:
        bundle = SecretsBundle.generate()
    write_output(output_file, bundle.to_yaml())


def bundle_from_controlplane_config(path: Path) -> SecretsBundle:
    """Rebuild a secrets bundle from a controlplane machine config (Talos's
    `--from-controlplane-config`)."""
    from talos.machinery.secrets import SecretsBundle

    source = str(path)
    data = goyaml.load(path.read_bytes(), source=source)
    if not isinstance(data, dict):
        raise InvalidConfig([Problem("", "expected a v1alpha1 machine config")], source=source)
    machine = data.get("machine") or {}
    cluster = data.get("cluster") or {}

    def get(root: dict[str, Any], dotted: str) -> Any:
        node: Any = root
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return node

    bundle_doc = {
        "cluster": {"id": cluster.get("id"), "secret": cluster.get("secret")},
        "secrets": {k: v for k, v in {
            "bootstraptoken": cluster.get("token"),
            "secretboxencryptionsecret": cluster.get("secretboxEncryptionSecret"),
            "aescbcencryptionsecret": cluster.get("aescbcEncryptionSecret"),
        }.items() if v},
        "trustdinfo": {"token": machine.get("token")},
        "certs": {
            "etcd": get(cluster, "etcd.ca"),
            "k8s": cluster.get("ca"),
            "k8saggregator": cluster.get("aggregatorCA"),
            "k8sserviceaccount": cluster.get("serviceAccount"),
            "os": machine.get("ca"),
        },
    }
    return SecretsBundle.from_yaml(goyaml.dump(bundle_doc), source=source)


# ---- gen config --------------------------------------------------------------------------

def _patched(text: str, patches: list[str], *, what: str) -> str:
    if not patches:
        return text
    from talos.machinery.config import apply_patches, load_patch_arg

    loaded = [load_patch_arg(p) for p in patches]
    sources = [p if p.startswith("@") else f"{what} patch #{i + 1}" for i, p in
               enumerate(patches)]
    result: str = apply_patches(text, loaded, sources=sources)
    return result


def _validated(text: str, *, source: str) -> None:
    from talos.machinery.config import load_config

    load_config(text, source=source).validate("container")


@gen.command("config")
@click.argument("cluster_name", metavar="<cluster name>")
@click.argument("endpoint", metavar="<cluster endpoint>")
@click.option("--install-disk", default="/dev/sda", show_default=True,
              help="the disk to install to")
@click.option("--install-image", default=None,
              help="the image used to perform an installation")
@click.option("--additional-sans", multiple=True, metavar="SANS",
              help="additional Subject-Alt-Names for the APIServer certificate")
@click.option("--dns-domain", default="cluster.local", show_default=True,
              help="the dns domain to use for cluster")
@click.option("--kubernetes-version", default=None,
              help="desired kubernetes version to run")
@click.option("--version", "config_version", default="v1alpha1", show_default=True,
              help="the desired machine config version to generate")
@config_patch_options
@click.option("--with-secrets", metavar="PATH",
              help="use a secrets file generated using 'gen secrets'")
@go_bool("--with-cluster-discovery", default=True, help="enable cluster discovery feature")
@go_bool("--with-kubespan", default=False, help="enable KubeSpan feature")
@go_bool("--with-docs", default=True,
         help="accepted for compatibility: files are written without doc comments")
@go_bool("--with-examples", default=True,
         help="accepted for compatibility: files are written without commented examples")
@click.option("--registry-mirror", multiple=True, metavar="HOST=URL",
              help="list of registry mirrors to use in format: <registry host>=<mirror URL>")
@click.option("--talos-version", default="",
              help="the desired Talos version to generate config for (only the v1.10 layout "
                   "is generated)")
@click.option("-t", "--output-types", multiple=True, default=OUTPUT_TYPES,
              help=f"types of outputs to be generated. valid types are: {list(OUTPUT_TYPES)}")
@click.option("-o", "--output", default="",
              help="destination to output generated files. when multiple output types are "
                   "specified, it must be a directory. for a single output type, it must "
                   'either be a file path, or "-" for stdout')
@click.option("--output-dir", default="", help="destination to output generated files")
@_force_option
@click.pass_context
@clear_errors
def gen_config(ctx: click.Context, cluster_name: str, endpoint: str, install_disk: str,
               install_image: str | None, additional_sans: tuple[str, ...], dns_domain: str,
               kubernetes_version: str | None, config_version: str,
               config_patch: tuple[str, ...], config_patch_control_plane: tuple[str, ...],
               config_patch_worker: tuple[str, ...], with_secrets: str | None,
               with_cluster_discovery: bool, with_kubespan: bool, with_docs: bool,
               with_examples: bool, registry_mirror: tuple[str, ...], talos_version: str,
               output_types: tuple[str, ...], output: str,
               output_dir: str, force: bool) -> None:
    """Generates a set of configuration files for Talos cluster.

    The cluster endpoint is the URL for the Kubernetes API (e.g. https://1.2.3.4:6443).
    """
    from talos.machinery.config import generate as g
    from talos.machinery.secrets import SecretsBundle

    force = _force(ctx, force)
    g.validate_cluster_endpoint(endpoint)
    if config_version != "v1alpha1":
        raise click.ClickException(f"unknown config version: {config_version!r}")
    if talos_version and not talos_version.removeprefix("v").startswith("1.10"):
        raise click.ClickException(
            f"invalid talos-version: {talos_version!r}: only the Talos v1.10 config layout "
            "is generated here")
    mirrors: list[tuple[str, str]] = []
    for spec in _split(registry_mirror):
        host, sep, url = spec.partition("=")
        if not sep:
            raise click.ClickException(f"invalid registry mirror spec: {spec!r}")
        mirrors.append((host, url))
    types = _split(output_types)
    if not types:
        raise click.ClickException("at least one output type must be specified")
    bad = [t for t in types if t not in OUTPUT_TYPES]
    if bad:
        raise click.ClickException(
            "; ".join(f"invalid output type: {t!r}" for t in bad)
            + f" (valid types are: {', '.join(OUTPUT_TYPES)})")
    if len(types) > 1 and output == STDOUT:
        raise click.ClickException("can't use multiple output types with stdout")
    if output_dir and output:
        raise click.ClickException("can't use both output-dir and output")

    if output == STDOUT:
        paths = dict.fromkeys(OUTPUT_TYPES, STDOUT)
    elif output and len(types) == 1:
        paths = dict.fromkeys(OUTPUT_TYPES, output)
    else:
        base = Path(output or output_dir or os.getcwd())
        paths = {"controlplane": str(base / "controlplane.yaml"),
                 "worker": str(base / "worker.yaml"),
                 "talosconfig": str(base / "talosconfig")}
    for t in types:
        check_not_exists(paths[t], force)

    options = g.GenerateOptions(
        cluster_name=cluster_name, endpoint=endpoint,
        kubernetes_version=kubernetes_version or g.DEFAULT_KUBERNETES_VERSION,
        install_disk=install_disk, install_image=install_image or g.DEFAULT_INSTALLER_IMAGE,
        additional_sans=tuple(_split(additional_sans)), dns_domain=dns_domain,
        discovery=with_cluster_discovery, kubespan=with_kubespan,
        registry_mirrors=tuple(mirrors))
    options.validate()

    if with_secrets:
        try:
            bundle = SecretsBundle.load(with_secrets)
        except InvalidArgument as e:
            raise click.ClickException(f"failed to load secrets bundle: {e}") from None
    else:
        click.echo("generating PKI and tokens", err=True)
        bundle = SecretsBundle.generate()

    outputs: dict[str, str] = {}
    if "controlplane" in types:
        text = _patched(g.machine_config(options, bundle, "controlplane"),
                        [*config_patch, *config_patch_control_plane], what="controlplane")
        _validated(text, source=paths["controlplane"])
        outputs["controlplane"] = text
    if "worker" in types:
        text = _patched(g.machine_config(options, bundle, "worker"),
                        [*config_patch, *config_patch_worker], what="worker")
        _validated(text, source=paths["worker"])
        outputs["worker"] = text
    if "talosconfig" in types:
        outputs["talosconfig"] = g.talosconfig(options, bundle).to_yaml()

    # everything generated and validated: only now touch the file system
    for t in OUTPUT_TYPES:
        if t in outputs:
            write_output(paths[t], outputs[t], announce=True)


# ---- gen ca | key | csr | crt ------------------------------------------------------------

@gen.command("ca")
@click.option("--organization", required=True,
              help="X.509 distinguished name for the Organization")
@click.option("--hours", default=87600, show_default=True, type=int,
              help="the hours from now on which the certificate validity period ends")
@click.option("--rsa", is_flag=True, help="generate in RSA format")
@_force_option
@click.pass_context
@clear_errors
def gen_ca(ctx: click.Context, organization: str, hours: int, rsa: bool, force: bool) -> None:
    """Generates a self-signed X.509 certificate authority."""
    from talos.machinery.pki import CertificateAuthority, ca_hash

    if hours <= 0:
        raise click.ClickException(f"--hours must be positive, got {hours}")
    files = [f"{organization}.crt", f"{organization}.sha256", f"{organization}.key"]
    for f in files:
        check_not_exists(f, _force(ctx, force))
    ca = CertificateAuthority.generate(organization=organization,
                                       ttl=dt.timedelta(hours=hours),
                                       algorithm="rsa" if rsa else "ecdsa")
    pem = ca.to_pem()
    write_output(files[0], pem.crt)
    write_output(files[1], ca_hash(ca.cert))
    write_output(files[2], pem.key)


@gen.command("keypair")
@click.option("--organization", required=True,
              help="X.509 distinguished name for the Organization")
@click.option("--ip", default="", help="generate the certificate for this IP address")
@_force_option
@click.pass_context
@clear_errors
def gen_keypair(ctx: click.Context, organization: str, ip: str, force: bool) -> None:
    """Generates a self-signed X.509 ECDSA P-256 key pair."""
    from talos.machinery.pki import CertificateAuthority

    ips: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...] = ()
    if ip:
        try:
            ips = (ipaddress.ip_address(ip),)
        except ValueError:
            raise click.ClickException(f"invalid IP: {ip}") from None
    files = [f"{organization}.crt", f"{organization}.key"]
    for f in files:
        check_not_exists(f, _force(ctx, force))
    pem = CertificateAuthority.generate(organization=organization, ip_addresses=ips).to_pem()
    write_output(files[0], pem.crt)
    write_output(files[1], pem.key)


@gen.command("key")
@click.option("--name", required=True, help="the basename of the generated file")
@_force_option
@click.pass_context
@clear_errors
def gen_key(ctx: click.Context, name: str, force: bool) -> None:
    """Generates an ECDSA P-256 private key."""
    from talos.machinery.pki import new_private_key, private_key_to_pem

    path = f"{name}.key"
    check_not_exists(path, _force(ctx, force))
    write_output(path, private_key_to_pem(new_private_key("ecdsa")))


@gen.command("csr")
@click.option("--key", "key_path", required=True,
              help="path to the PEM encoded EC or RSA PRIVATE KEY")
@click.option("--ip", required=True, help="generate the certificate for this IP address")
@click.option("--roles", multiple=True, default=(role.ADMIN,), show_default=True,
              help="roles")
@_force_option
@click.pass_context
@clear_errors
def gen_csr(ctx: click.Context, key_path: str, ip: str, roles: tuple[str, ...],
            force: bool) -> None:
    """Generates a CSR using a private key."""
    from cryptography.hazmat.primitives import serialization

    from talos.machinery.pki import load_private_key, new_csr

    key = load_private_key(Path(key_path).read_bytes(), what=key_path)
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        raise click.ClickException(f"invalid IP: {ip}") from None
    csr = new_csr(key, organizations=_parse_roles(roles), ip_addresses=[address])
    out = str(Path(key_path).with_suffix(".csr"))
    check_not_exists(out, _force(ctx, force))
    write_output(out, csr.public_bytes(serialization.Encoding.PEM))


@gen.command("crt")
@click.option("--name", required=True, help="the basename of the generated file")
@click.option("--ca", "ca_base", required=True,
              help="path to the PEM encoded CERTIFICATE (basename: <ca>.crt and <ca>.key)")
@click.option("--csr", "csr_path", required=True,
              help="path to the PEM encoded CERTIFICATE REQUEST")
@click.option("--hours", default=24, show_default=True, type=int,
              help="the hours from now on which the certificate validity period ends")
@_force_option
@click.pass_context
@clear_errors
def gen_crt(ctx: click.Context, name: str, ca_base: str, csr_path: str, hours: int,
            force: bool) -> None:
    """Generates an X.509 certificate signed by a CA from a CSR."""
    from talos.machinery.pki import CertificateAndKey, CertificateAuthority, load_csr
    from talos.machinery.pki.certificate import certificate_to_pem

    if hours <= 0:
        raise click.ClickException(f"--hours must be positive, got {hours}")
    pair = CertificateAndKey(Path(f"{ca_base}.crt").read_bytes(),
                             Path(f"{ca_base}.key").read_bytes())
    ca = CertificateAuthority.from_pem(pair, what=ca_base)
    csr = load_csr(Path(csr_path).read_bytes(), what=csr_path)
    cert = ca.sign_csr(csr, ttl=dt.timedelta(hours=hours))
    out = f"{name}.crt"
    check_not_exists(out, _force(ctx, force))
    write_output(out, certificate_to_pem(cert))
