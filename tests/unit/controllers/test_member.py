"""cluster.MemberController: one Member per affiliate with a nodename (id = nodename)."""

from __future__ import annotations

from talos.cosi.testing import ControllerHarness
from talos.machined.controllers.cluster.member import MemberController
from talos.machinery.resources.cluster import AFFILIATE, MEMBER, AffiliateSpec, MemberSpec


def affiliate(node_id: str, nodename: str, machine_type: str = "worker") -> AffiliateSpec:
    return AffiliateSpec(node_id=node_id, addresses=("10.5.0.9",), hostname=nodename,
                         nodename=nodename, operating_system="Talos (v1.11.0)",
                         machine_type=machine_type)


async def test_members_follow_the_affiliates() -> None:
    async with ControllerHarness(MemberController()) as h:
        await h.put(AFFILIATE, "id-a", affiliate("id-a", "cp-1", "controlplane"))
        await h.put(AFFILIATE, "id-b", affiliate("id-b", "worker-1"))
        await h.put(AFFILIATE, "id-c", affiliate("id-c", ""))  # not a cluster member
        members = await h.until_outputs(MEMBER, lambda out: len(out) == 2)
        assert members == {
            "cp-1": MemberSpec(node_id="id-a", addresses=("10.5.0.9",), hostname="cp-1",
                               machine_type="controlplane",
                               operating_system="Talos (v1.11.0)"),
            "worker-1": MemberSpec(node_id="id-b", addresses=("10.5.0.9",),
                                   hostname="worker-1", machine_type="worker",
                                   operating_system="Talos (v1.11.0)"),
        }

        # renamed: the member moves to the new name
        await h.put(AFFILIATE, "id-b", affiliate("id-b", "worker-2"))
        await h.until_outputs(MEMBER, lambda out: sorted(out) == ["cp-1", "worker-2"])

        # the affiliate gone: so is its member
        await h.destroy(AFFILIATE, "id-a")
        await h.until_outputs(MEMBER, lambda out: list(out) == ["worker-2"])
