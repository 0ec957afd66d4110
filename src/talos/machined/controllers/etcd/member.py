"""etcd.MemberController: `EtcdMembers.etcd.talos.dev/local`, this node's etcd member ID
(hex, as upstream), gone when the member left the cluster.

The etcd manager learns the ID when it joins, bootstraps or restarts etcd and sets it on an
`Observed` value; this controller publishes it.
"""

from __future__ import annotations

from talos.cosi.context import ControllerContext
from talos.cosi.controller import Input, Output
from talos.machined.controllers.observed import follow, put_or_destroy
from talos.machined.observed import Observed
from talos.machinery.resources.etcd import ETCD_MEMBER, LOCAL_MEMBER_ID, EtcdMemberSpec

#: the local member's ID as the etcd manager last saw it (None: not a member)
LocalMember = Observed[str | None]


class MemberController:
    name = "etcd.MemberController"
    inputs: tuple[Input, ...] = ()
    outputs: tuple[Output, ...] = (Output.of(ETCD_MEMBER),)

    def __init__(self, member: LocalMember) -> None:
        self.member = member
        member.bind()

    async def run(self, r: ControllerContext) -> None:
        async def write(member_id: str | None) -> None:
            spec = None if member_id is None else EtcdMemberSpec(member_id=member_id)
            await put_or_destroy(r, ETCD_MEMBER.default_namespace, ETCD_MEMBER.type,
                                 LOCAL_MEMBER_ID, spec)
        await follow(r, self.member, write)
