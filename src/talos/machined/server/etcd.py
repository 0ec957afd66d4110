"""The etcd half of MachineService (Bootstrap, Etcd*, Kubeconfig), mixed into the servicer.

Replies use the Talos envelope; EtcdSnapshot and Kubeconfig stream `common.Data` (the
kubeconfig as a .tar.gz holding one file named `kubeconfig`, as Talos sends it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, TypeAlias

import grpc
from google.protobuf import empty_pb2

from talos.api.common import common_pb2
from talos.api.machine import machine_pb2 as m
from talos.machined.etcd.manager import EtcdManager
from talos.machined.server.context import NodeAPI
from talos.machinery import kubeconfig
from talos.machinery.config import load_config
from talos.machinery.errors import FailedPrecondition
from talos.machinery.pki import CertificateAndKey

Ctx: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
CHUNK = 64 * 1024
SNAPSHOT_CHUNK = 1024 * 1024


class EtcdMethods:
    node: NodeAPI

    def _md(self) -> common_pb2.Metadata:
        return common_pb2.Metadata(hostname=self.node.hostname)

    def _etcd(self) -> EtcdManager:
        mgr = self.node.etcd
        if mgr is None:
            raise FailedPrecondition("etcd is not set up on this node (no machine config yet)")
        return mgr

    async def Bootstrap(self, request: m.BootstrapRequest, context: Ctx
                        ) -> m.BootstrapResponse:
        await self._etcd().bootstrap(recover=request.recover_etcd,
                                     skip_hash_check=request.recover_skip_hash_check)
        return m.BootstrapResponse(messages=[m.Bootstrap(metadata=self._md())])

    async def EtcdMemberList(self, request: m.EtcdMemberListRequest, context: Ctx
                             ) -> m.EtcdMemberListResponse:
        members = await self._etcd().members()
        return m.EtcdMemberListResponse(messages=[m.EtcdMembers(
            metadata=self._md(),
            legacy_members=[x.name for x in members],
            members=[m.EtcdMember(id=x.id, hostname=x.name, peer_urls=list(x.peer_urls),
                                  client_urls=list(x.client_urls), is_learner=x.is_learner)
                     for x in members])])

    async def EtcdRemoveMember(self, request: m.EtcdRemoveMemberRequest, context: Ctx
                               ) -> m.EtcdRemoveMemberResponse:
        await self._etcd().remove_member(name=request.member)
        return m.EtcdRemoveMemberResponse(messages=[m.EtcdRemoveMember(metadata=self._md())])

    async def EtcdRemoveMemberByID(self, request: m.EtcdRemoveMemberByIDRequest, context: Ctx
                                   ) -> m.EtcdRemoveMemberByIDResponse:
        await self._etcd().remove_member(member_id=request.member_id)
        return m.EtcdRemoveMemberByIDResponse(messages=[m.EtcdRemoveMemberByID(
            metadata=self._md())])

    async def EtcdLeaveCluster(self, request: m.EtcdLeaveClusterRequest, context: Ctx
                               ) -> m.EtcdLeaveClusterResponse:
        await self._etcd().leave()
        return m.EtcdLeaveClusterResponse(messages=[m.EtcdLeaveCluster(metadata=self._md())])

    async def EtcdForfeitLeadership(self, request: m.EtcdForfeitLeadershipRequest,
                                    context: Ctx) -> m.EtcdForfeitLeadershipResponse:
        member = await self._etcd().forfeit_leadership()
        return m.EtcdForfeitLeadershipResponse(messages=[m.EtcdForfeitLeadership(
            metadata=self._md(), member=member)])

    async def EtcdStatus(self, request: empty_pb2.Empty, context: Ctx) -> m.EtcdStatusResponse:
        st = await self._etcd().status()
        return m.EtcdStatusResponse(messages=[m.EtcdStatus(
            metadata=self._md(), member_status=m.EtcdMemberStatus(
                member_id=st.header.member_id, protocol_version=st.version,
                db_size=st.dbSize, db_size_in_use=st.dbSizeInUse, leader=st.leader,
                raft_index=st.raftIndex, raft_term=st.raftTerm,
                raft_applied_index=st.raftAppliedIndex, errors=list(st.errors),
                is_learner=st.isLearner))])

    async def EtcdAlarmList(self, request: empty_pb2.Empty, context: Ctx
                            ) -> m.EtcdAlarmListResponse:
        alarms = await self._etcd().alarms()
        return m.EtcdAlarmListResponse(messages=[m.EtcdAlarm(
            metadata=self._md(), member_alarms=[m.EtcdMemberAlarm(member_id=i, alarm=_alarm(a))
                                                for i, a in alarms])])

    async def EtcdAlarmDisarm(self, request: empty_pb2.Empty, context: Ctx
                              ) -> m.EtcdAlarmDisarmResponse:
        alarms = await self._etcd().disarm_alarms()
        return m.EtcdAlarmDisarmResponse(messages=[m.EtcdAlarmDisarm(
            metadata=self._md(), member_alarms=[m.EtcdMemberAlarm(member_id=i, alarm=_alarm(a))
                                                for i, a in alarms])])

    async def EtcdDefragment(self, request: empty_pb2.Empty, context: Ctx
                             ) -> m.EtcdDefragmentResponse:
        await self._etcd().defragment()
        return m.EtcdDefragmentResponse(messages=[m.EtcdDefragment(metadata=self._md())])

    async def EtcdSnapshot(self, request: m.EtcdSnapshotRequest, context: Ctx
                           ) -> AsyncIterator[common_pb2.Data]:
        md = self._md()
        buf = bytearray()
        # etcd streams 32 KiB blobs; fewer, larger messages cost less per byte on every hop
        async for chunk in self._etcd().snapshot():
            buf += chunk
            if len(buf) >= SNAPSHOT_CHUNK:
                yield common_pb2.Data(metadata=md, bytes=bytes(buf))
                buf.clear()
        if buf:
            yield common_pb2.Data(metadata=md, bytes=bytes(buf))

    async def EtcdRecover(self, request_iterator: AsyncIterator[common_pb2.Data],
                          context: Ctx) -> m.EtcdRecoverResponse:
        async def chunks() -> AsyncIterator[bytes]:
            async for d in request_iterator:
                yield d.bytes
        await self._etcd().upload_snapshot(chunks())
        return m.EtcdRecoverResponse(messages=[m.EtcdRecover(metadata=self._md())])

    async def Kubeconfig(self, request: empty_pb2.Empty, context: Ctx
                         ) -> AsyncIterator[common_pb2.Data]:
        cfg = self.node.config()
        if cfg is None or cfg.machine_type not in ("controlplane", "init"):
            raise FailedPrecondition("kubeconfig is only available on control plane nodes")
        data = await asyncio.to_thread(_kubeconfig, cfg.raw)
        md = self._md()
        for i in range(0, len(data), CHUNK):
            yield common_pb2.Data(metadata=md, bytes=data[i:i + CHUNK])


def _kubeconfig(raw: bytes) -> bytes:
    doc = load_config(raw).v1alpha1
    cluster = doc.cluster if doc is not None else None
    if cluster is None or cluster.ca is None or not cluster.ca.crt or not cluster.ca.key:
        raise FailedPrecondition("cluster.ca (the Kubernetes CA with its key) is not in the "
                                 "machine config")
    ca = CertificateAndKey.from_base64({"crt": cluster.ca.crt, "key": cluster.ca.key},
                                       path="cluster.ca")
    lifetime = kubeconfig.DEFAULT_LIFETIME
    if cluster.admin_kubeconfig is not None and cluster.admin_kubeconfig.cert_lifetime:
        lifetime = kubeconfig.parse_go_duration(str(cluster.admin_kubeconfig.cert_lifetime))
    endpoint = (str(cluster.control_plane.endpoint) if cluster.control_plane is not None
                and cluster.control_plane.endpoint else "")
    data = kubeconfig.admin_kubeconfig(ca, cluster_name=str(cluster.cluster_name or ""),
                                       endpoint=endpoint, lifetime=lifetime)
    return kubeconfig.tar_gz(data)


def _alarm(value: int) -> str:
    """etcd's AlarmType and Talos's EtcdMemberAlarm.AlarmType share names and numbers."""
    return str(m.EtcdMemberAlarm.AlarmType.Name(value))
