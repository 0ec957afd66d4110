"""cluster.MemberController: one `Members.cluster.talos.dev` per affiliate that has a
nodename (id = the nodename), as Talos's MemberController."""

from __future__ import annotations

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machinery.resources.cluster import AFFILIATE, MEMBER, MemberSpec


class MemberController:
    name = "cluster.MemberController"
    inputs: tuple[Input, ...] = (Input.of(AFFILIATE),)
    outputs: tuple[Output, ...] = (Output.of(MEMBER),)

    async def run(self, r: ControllerContext) -> None:
        async for _ in r.wake_ups():
            r.start_tracking_outputs()
            affiliates = await r.list(AFFILIATE.default_namespace, AFFILIATE.type)
            for a in sorted(affiliates, key=lambda x: x.id):
                s = a.spec
                if not s.nodename:
                    continue  # not a cluster member
                await r.put(MEMBER.default_namespace, MEMBER.type, s.nodename, MemberSpec(
                    node_id=s.node_id, addresses=s.addresses, hostname=s.hostname,
                    machine_type=s.machine_type, operating_system=s.operating_system))
            await r.cleanup_outputs()
