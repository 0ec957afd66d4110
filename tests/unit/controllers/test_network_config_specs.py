"""network.Address/Route/LinkConfigController and the merge controllers: the machine
config's `machine.network.interfaces` (by `interface` and by `deviceSelector`), the kernel's
`ip=` argument and the default layer become layered specs in `network-config`, merged by
layer into the `network` namespace (upstream v1.13.9's pipeline)."""

from __future__ import annotations

from talos.cosi.testing import ControllerHarness
from talos.machined.controllers.network.config_controllers import (
    AddressConfigController,
    LinkConfigController,
    RouteConfigController,
)
from talos.machined.controllers.network.merge import merge_controllers
from talos.machinery.resources.config import ACTIVE_ID, MACHINE_CONFIG
from talos.machinery.resources.network import (
    ADDRESS_SPEC,
    CONFIG_NAMESPACE,
    LINK_SPEC,
    LINK_STATUS,
    ROUTE_SPEC,
    AddressSpecSpec,
    LinkSpecSpec,
    LinkStatusSpec,
    RouteSpecSpec,
)
from tests.unit.controllers.configs import machine_config

CMDLINE = "console=ttyS0 ip=10.5.0.2::10.5.0.1:255.255.255.0:cp-1:eth0:off"


def _eth(index: int, mac: str, driver: str = "virtio_net") -> LinkStatusSpec:
    return LinkStatusSpec(index=index, type="ether", hardware_addr=mac, driver=driver)


def _controllers(cmdline: str = "") -> tuple:
    return (AddressConfigController(cmdline), RouteConfigController(cmdline),
            LinkConfigController(cmdline), *merge_controllers())


async def _links(h: ControllerHarness) -> None:
    await h.put(LINK_STATUS, "lo", LinkStatusSpec(index=1, type="loopback"))
    await h.put(LINK_STATUS, "eth0", _eth(2, "52:54:00:aa:00:01"))
    await h.put(LINK_STATUS, "eth1", _eth(3, "52:54:00:aa:00:02", driver="e1000"))


async def test_interface_by_name_gets_its_addresses_routes_and_mtu() -> None:
    async with ControllerHarness(*_controllers()) as h:
        await _links(h)
        await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config({"machine": {"network": {
            "interfaces": [{"interface": "eth0", "mtu": 1400,
                            "addresses": ["192.168.7.10/24", "fd00::10/64"],
                            "routes": [{"network": "0.0.0.0/0", "gateway": "192.168.7.1"},
                                       {"network": "10.9.0.0/16", "gateway": "192.168.7.254",
                                        "metric": 50}]}]}}}))
        addresses = await h.until_outputs(ADDRESS_SPEC, lambda o: len(o) == 2)
        assert addresses["eth0/192.168.7.10/24"] == AddressSpecSpec(
            address="192.168.7.10/24", link_name="eth0", family="inet4",
            config_layer="configuration")
        assert addresses["eth0/fd00::10/64"].family == "inet6"
        routes = await h.until_outputs(ROUTE_SPEC, lambda o: len(o) == 2)
        assert routes["inet4/192.168.7.1//1024"] == RouteSpecSpec(
            family="inet4", gateway="192.168.7.1", out_link_name="eth0", priority=1024,
            config_layer="configuration")
        assert routes["inet4/192.168.7.254/10.9.0.0/16/50"].destination == "10.9.0.0/16"
        links = await h.until_outputs(LINK_SPEC, lambda o: o.get("eth0", LinkSpecSpec()).mtu
                                      == 1400)
        # the configuration layer wins over the default layer that brings every link up
        assert links["eth0"] == LinkSpecSpec(name="eth0", mtu=1400,
                                             config_layer="configuration")
        assert links["eth1"] == LinkSpecSpec(name="eth1", config_layer="default")
        assert "lo" not in links
        # the layered form is what `network-config` holds
        layered = h.outputs(ADDRESS_SPEC, namespace=CONFIG_NAMESPACE)
        assert "configuration/eth0/192.168.7.10/24" in layered

        # the config no longer names the interface: its specs go away
        await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config({"machine": {}}))
        await h.until_outputs(ADDRESS_SPEC, lambda o: not o)
        await h.until_outputs(ROUTE_SPEC, lambda o: not o)
        await h.until_outputs(LINK_SPEC, lambda o: o["eth0"].config_layer == "default")


async def test_device_selector_picks_links_by_hardware_address_and_driver() -> None:
    async with ControllerHarness(*_controllers()) as h:
        await _links(h)
        await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config({"machine": {"network": {
            "interfaces": [
                {"deviceSelector": {"hardwareAddr": "52:54:00:AA:00:01"},
                 "addresses": ["10.1.0.5/24"]},
                {"deviceSelector": {"driver": "e1000"}, "addresses": ["10.2.0.5/24"]},
                {"deviceSelector": {"driver": "ixgbe"}, "addresses": ["10.3.0.5/24"]},
                {"deviceSelector": {"hardwareAddr": "52:54:00:aa:00:*", "driver": "virtio*"},
                 "mtu": 9000}]}}}))
        addresses = await h.until_outputs(ADDRESS_SPEC, lambda o: len(o) == 2)
        assert set(addresses) == {"eth0/10.1.0.5/24", "eth1/10.2.0.5/24"}
        links = await h.until_outputs(LINK_SPEC, lambda o: o.get("eth0", LinkSpecSpec()).mtu
                                      == 9000)
        assert links["eth1"].mtu == 0

        # a link appearing later that the selector matches is configured too
        await h.put(LINK_STATUS, "eth2", _eth(4, "52:54:00:bb:00:03", driver="ixgbe"))
        await h.until_output(ADDRESS_SPEC, "eth2/10.3.0.5/24")


async def test_ip_kernel_argument_is_the_cmdline_layer_under_the_configuration() -> None:
    async with ControllerHarness(*_controllers(CMDLINE)) as h:
        await _links(h)
        await h.until_output(ADDRESS_SPEC, "eth0/10.5.0.2/24",
                             lambda s: s.config_layer == "cmdline")
        await h.until_output(ROUTE_SPEC, "inet4/10.5.0.1//1024",
                             lambda s: s.config_layer == "cmdline")
        # the config adds an address to the same link and names the cmdline's address too
        await h.put(MACHINE_CONFIG, ACTIVE_ID, machine_config({"machine": {"network": {
            "interfaces": [{"interface": "eth0",
                            "addresses": ["10.5.0.2/24", "10.5.0.50/24"]}]}}}))
        await h.until_output(ADDRESS_SPEC, "eth0/10.5.0.2/24",
                             lambda s: s.config_layer == "configuration")
        await h.until_output(ADDRESS_SPEC, "eth0/10.5.0.50/24")
        # the config gone: the cmdline's address is back in its own layer
        await h.destroy(MACHINE_CONFIG, ACTIVE_ID)
        await h.until_outputs(ADDRESS_SPEC, lambda o: set(o) == {"eth0/10.5.0.2/24"}
                              and o["eth0/10.5.0.2/24"].config_layer == "cmdline")
