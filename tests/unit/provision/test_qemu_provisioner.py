"""The qemu provisioner's pieces that need no VM: the config server hands a node its config
and no one else's, each VM gets its own MAC, tap and `ip=` argument, and the CLI takes both
upstream forms (`cluster create qemu`, `cluster create --provisioner qemu`)."""

from __future__ import annotations

import ipaddress
import time
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner

from talos.imager import qemu
from talos.provision import network
from talos.provision.qemu.configserver import ConfigServer
from talos.provision.qemu.network import ip_argument, mac_address
from talos.talosctl.main import cli


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, b""


def test_config_server_serves_a_node_its_config_only_to_its_own_address() -> None:
    configs = {"n1": ("127.0.0.1", b"machine: one\n"), "n2": ("127.0.0.2", b"machine: two\n")}
    with ConfigServer("127.0.0.1", configs) as server:
        assert server.url("n1") == f"http://127.0.0.1:{server.port}/n1.yaml"
        # n2's config holds n2's keys: asked for from n1's address, it does not exist
        assert _get(server.url("n2")) == (404, b"")
        assert not server.wait_all_fetched(0)
        assert _get(server.url("n1")) == (200, b"machine: one\n")
        # the server records a fetch after the body is written: the client may read first
        deadline = time.monotonic() + 10
        while not server.fetched("n1") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.fetched("n1") and not server.fetched("n2")
        assert _get(f"http://127.0.0.1:{server.port}/../n1.yaml")[0] == 404


def test_config_server_reports_when_every_node_has_fetched() -> None:
    with ConfigServer("127.0.0.1", {"n1": ("127.0.0.1", b"x")}) as server:
        _get(server.url("n1"))
        assert server.wait_all_fetched(10)


def test_each_vm_gets_its_own_mac_tap_and_static_address_argument() -> None:
    net = network.ClusterNetwork("c", ipaddress.IPv4Network("10.5.0.0/24"))
    macs = {mac_address("c", f"c-controlplane-{i}") for i in range(1, 4)}
    assert len(macs) == 3
    for mac in macs:
        first = int(mac.split(":")[0], 16)
        assert first & 0b10 and not first & 0b01  # locally administered, unicast
    assert ip_argument(net, net.node_address(0), "c-controlplane-1") == \
        "ip=10.5.0.2::10.5.0.1:255.255.255.0:c-controlplane-1:eth0:off"
    argv = qemu.argv(qemu.VM(serial_log="/tmp/s", kernel="k", initrd="i", cmdline="x",
                             tap="tv1234abcd", mac="52:54:00:00:00:01"))
    assert argv[argv.index("-netdev") + 1] == "tap,id=n0,ifname=tv1234abcd,script=no," \
                                              "downscript=no"
    assert argv[argv.index("-device") + 1] == "virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01"
    assert argv.count("-netdev") == 1  # no user-mode network beside the tap


def test_uefi_with_a_kernel_boots_it_through_the_firmware() -> None:
    argv = qemu.argv(qemu.VM(serial_log="/tmp/s", kernel="k", initrd="i", cmdline="x",
                             uefi=True, ovmf_vars="/tmp/v"))
    joined = " ".join(argv)
    assert f"file={qemu.OVMF_CODE}" in joined and "-kernel k" in joined


@pytest.mark.parametrize("form", [["create", "qemu"], ["create", "--provisioner", "qemu"]])
def test_both_upstream_forms_reach_the_qemu_provisioner(form: list[str], tmp_path) -> None:
    """Refused before anything is created, by the qemu provisioner's own check."""
    res = CliRunner().invoke(cli, ["cluster", *form, "--memory", "64", "--state",
                                   str(tmp_path)])
    assert res.exit_code == 1
    assert "--memory: 64 MiB is too little" in res.output
    assert not list(tmp_path.iterdir())


def test_qemu_options_are_refused_for_sandbox_clusters(tmp_path) -> None:
    """--image is not among them: sandbox nodes can boot the image's squashfs."""
    res = CliRunner().invoke(cli, ["cluster", "create", "--image", str(tmp_path),
                                   "--with-uefi", "--cpus", "2", "--state", str(tmp_path)])
    assert res.exit_code == 1
    assert "--with-uefi, --cpus: only with the qemu provisioner" in res.output
