"""network.LinkStatusController: the node's links as the kernel has them (`get links`).

One `LinkStatus` per link (id: its name), read with rtnetlink (pyroute2, in a thread) on
every link event (`netlink_events`), plus a slow re-read as a safety net. What upstream
takes from ethtool comes from sysfs here: `linkState` is the carrier, `speedMbit` and
`duplex` the link's `speed`/`duplex` files; the port type is not read (`Other`). Bond, VRF
and WireGuard details are not read yet.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.controllers.network.netlink_events import LINKS, netlink_events
from talos.machinery import nethelpers as nh
from talos.machinery.resources.network import (
    LINK_STATUS,
    BridgeMasterSpec,
    BridgeVLANSpec,
    LinkStatusSpec,
    STPSpec,
    VLANSpec,
)

#: re-read even without events this often (seconds)
RESYNC = 60.0

#: pyroute2's IFLA_OPERSTATE text -> Talos's name
_OPER = {"UNKNOWN": "unknown", "NOTPRESENT": "notPresent", "DOWN": "down",
         "LOWERLAYERDOWN": "lowerLayerDown", "TESTING": "testing", "DORMANT": "dormant",
         "UP": "up"}
_VLAN_PROTOCOLS = {0x8100: "802.1q", 0x88A8: "802.1ad"}


def _attrs(msg: Any) -> dict[str, Any]:
    return dict(msg.get("attrs", ()) if isinstance(msg, Mapping) else ())


def _sysfs(name: str, *parts: str) -> str:
    try:
        with open(os.path.join("/sys/class/net", name, *parts)) as f:
            return f.read().strip()
    except OSError:
        return ""


def _hw(value: Any) -> str:
    return str(value or "")


def _oper_state(value: Any) -> str:
    if isinstance(value, int):
        return nh.name(nh.OPER_STATES, value)
    return _OPER.get(str(value or "UNKNOWN").upper(), "unknown")


def _vlan(kind: str, data: Mapping[str, Any]) -> VLANSpec | None:
    if kind != "vlan":
        return None
    proto = int(data.get("IFLA_VLAN_PROTOCOL") or 0)
    return VLANSpec(vlan_id=int(data.get("IFLA_VLAN_ID") or 0),
                    protocol=_VLAN_PROTOCOLS.get(proto, str(proto) if proto else ""))


def _bridge(kind: str, name: str) -> BridgeMasterSpec | None:
    if kind != "bridge":
        return None
    stp = _sysfs(name, "bridge", "stp_state") not in ("", "0")
    filtering = _sysfs(name, "bridge", "vlan_filtering") not in ("", "0")
    return BridgeMasterSpec(stp=STPSpec(enabled=stp),
                            vlan=BridgeVLANSpec(filtering_enabled=filtering))


def link_spec(msg: Mapping[str, Any]) -> tuple[str, LinkStatusSpec]:
    """One RTM_NEWLINK message (pyroute2's form) -> (link name, LinkStatus spec)."""
    a = _attrs(msg)
    name = str(a.get("IFLA_IFNAME", ""))
    info = _attrs(a.get("IFLA_LINKINFO"))
    kind = str(info.get("IFLA_INFO_KIND") or "")
    data = _attrs(info.get("IFLA_INFO_DATA"))
    alt = tuple(str(v) for k, v in _attrs(a.get("IFLA_PROP_LIST")).items()
                if k == "IFLA_ALT_IFNAME")
    speed = _sysfs(name, "speed")
    duplex = _sysfs(name, "duplex")
    driver = os.path.basename(os.path.realpath(f"/sys/class/net/{name}/device/driver")) \
        if os.path.exists(f"/sys/class/net/{name}/device/driver") else ""
    return name, LinkStatusSpec(
        alias=str(a.get("IFLA_IFALIAS") or ""), alt_names=alt,
        index=int(msg.get("index", 0)), type=nh.name(nh.LINK_TYPES, int(msg.get("ifi_type", 0))),
        link_index=int(a.get("IFLA_LINK") or 0),
        flags=nh.flags_text(nh.LINK_FLAGS, int(msg.get("flags", 0))),
        hardware_addr=_hw(a.get("IFLA_ADDRESS")),
        permanent_addr=_hw(a.get("IFLA_PERM_ADDRESS")),
        broadcast_addr=_hw(a.get("IFLA_BROADCAST")),
        mtu=int(a.get("IFLA_MTU") or 0), queue_disc=str(a.get("IFLA_QDISC") or ""),
        master_index=int(a.get("IFLA_MASTER") or 0),
        operational_state=_oper_state(a.get("IFLA_OPERSTATE")),
        kind=kind, slave_kind=str(info.get("IFLA_INFO_SLAVE_KIND") or ""),
        driver=driver,
        link_state=_sysfs(name, "carrier") == "1",
        speed_megabits=int(speed) if speed.isdigit() and int(speed) > 0 else 0,
        port="Other",
        duplex={"full": "Full", "half": "Half"}.get(duplex, "Unknown"),
        vlan=_vlan(kind, data), bridge_master=_bridge(kind, name))


def read_links() -> dict[str, LinkStatusSpec]:
    """Every link of this network namespace (blocking: call in a thread)."""
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        return dict(link_spec(m) for m in ipr.get_links())


class LinkStatusController:
    name = "network.LinkStatusController"
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = (Output.of(LINK_STATUS),)

    async def run(self, r: ControllerContext) -> None:
        ns, rtype = LINK_STATUS.default_namespace, LINK_STATUS.type
        with netlink_events(LINKS, r.wake):
            async for _ in r.wake_ups():
                links = await asyncio.to_thread(read_links)
                r.start_tracking_outputs()
                for name, spec in links.items():
                    await r.put(ns, rtype, name, spec)
                await r.cleanup_outputs()
                r.requeue_after(RESYNC)
