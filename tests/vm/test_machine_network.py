"""A VM node's network from its machine config, and a VM powered off through talosctl.

One `cluster create qemu` node whose config (a `--config-patch`) gives its link, chosen by
`deviceSelector.hardwareAddr`, a second static address and an MTU: apid answers on that
address (it is no address the provisioner knows), `get addresses`/`get links` show it;
then `talosctl shutdown` powers the VM off and it stays off: its launcher does not start
it again and `cluster show` says `stopped`. Software emulation, one node (~2-3 min)."""

from __future__ import annotations

import ipaddress
import json
import time
from pathlib import Path

import pytest

from talos.provision.qemu.network import mac_address
from talos.provision.state import ClusterRecord
from tests.vm.conftest import IMAGE_TOOLS, QemuCluster, _alive

pytestmark = [pytest.mark.vm, pytest.mark.root,
              pytest.mark.requires(*IMAGE_TOOLS, "qemu-system-x86_64", "ip")]

#: generous: an emulated machine's shutdown sequence, never asserted on as a duration
POWER_OFF_WAIT_S = 600


def test_static_address_from_the_config_serves_apid_and_a_powered_off_vm_stays_off(
        qemu_cluster: QemuCluster, tmp_path: Path) -> None:
    c = qemu_cluster
    node_name = f"{c.name}-controlplane-1"
    static = str(ipaddress.IPv4Network(c.cidr)[50])
    prefix = ipaddress.IPv4Network(c.cidr).prefixlen
    # no certSANs: the static address lands after apid has started, and machined issues
    # apid's certificate again to name it (secrets.APIController)
    patch = {"machine": {"network": {"interfaces": [
        {"deviceSelector": {"hardwareAddr": mac_address(c.name, node_name)},
         "addresses": [f"{static}/{prefix}"], "mtu": 1400}]}}}
    created = c.talosctl("cluster", "create", "qemu", "--name", c.name, "--cidr", c.cidr,
                         "--controlplanes", "1", "--workers", "0", "--state", str(c.state),
                         "--skip-kubeconfig", "--config-patch", json.dumps(patch))
    assert created.returncode == 0, created.stdout + created.stderr
    (node,) = ClusterRecord.load(c.directory).nodes
    assert node.name == node_name and node.address != static

    # apid on the address only the machine config names (the first TLS handshake with an
    # emulated VM can time out: asked up to three times)
    for _ in range(3):
        version = c.talosctl("-e", static, "-n", static, "version", timeout=300)
        if version.returncode == 0:
            break
    assert version.returncode == 0, version.stderr
    assert f"NODE:        {static}" in version.stdout
    addresses = c.talosctl("-e", static, "-n", static, "get", "addresses", timeout=300)
    assert addresses.returncode == 0, addresses.stderr
    assert f"eth0/{static}/{prefix}" in addresses.stdout
    assert f"eth0/{node.address}/{prefix}" in addresses.stdout  # the ip= one stays
    specs = c.talosctl("-n", node.address, "get", "addressspecs", "-o", "json", timeout=300)
    assert specs.returncode == 0, specs.stderr
    assert '"configuration"' in specs.stdout and '"cmdline"' in specs.stdout
    mtu = c.talosctl("-n", node.address, "get", "links", "eth0", "-o",
                     "jsonpath={.spec.mtu}", timeout=300)
    assert mtu.returncode == 0 and mtu.stdout.strip() == "1400", mtu.stdout + mtu.stderr

    # powered off through the API: qemu ends, its launcher with it, nothing starts it again
    down = c.talosctl("-n", node.address, "shutdown", "--wait=false", timeout=300)
    assert down.returncode == 0, down.stdout + down.stderr
    deadline = time.monotonic() + POWER_OFF_WAIT_S
    while (_alive(node.pid) or _alive(node.launcher_pid)) and time.monotonic() < deadline:
        time.sleep(1)
    console = Path(node.log_path).read_text(errors="replace")
    assert not _alive(node.pid), f"qemu still runs after the shutdown\n{console[-3000:]}"
    assert not _alive(node.launcher_pid)
    assert console.count("machined is PID 1 of the machine (platform metal)") == 1
    shown = c.talosctl("cluster", "show", "--name", c.name, "--state", str(c.state))
    assert shown.returncode == 0, shown.stderr
    row = next(line for line in shown.stdout.splitlines() if line.startswith(node.name))
    assert "stopped" in row.split(), row

    destroyed = c.talosctl("cluster", "destroy", "--name", c.name, "--state", str(c.state))
    assert destroyed.returncode == 0, destroyed.stderr
    assert c.leftovers([node.pid, node.launcher_pid]) == []
