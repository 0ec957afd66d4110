"""A machine booted from the image takes its static address from the kernel's ip= argument."""

from __future__ import annotations

from talos.machined.platform.cmdline import IpArg, parse_ip_arg


def test_a_static_ip_argument_gives_address_prefix_gateway_and_device():
    arg = parse_ip_arg("console=ttyS0 ip=10.0.2.15::10.0.2.2:255.255.255.0:node1:eth0:off")
    assert arg == IpArg("10.0.2.15", 24, "10.0.2.2", "node1", "eth0")


def test_dhcp_or_no_ip_argument_configures_nothing():
    assert parse_ip_arg("console=ttyS0 ip=dhcp") is None
    assert parse_ip_arg("console=ttyS0") is None


def test_a_malformed_address_is_ignored():
    assert parse_ip_arg("ip=10.0.2.300::::::") is None
