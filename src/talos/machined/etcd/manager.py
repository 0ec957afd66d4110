"""The etcd member of a control plane: its service, Bootstrap, join, leave, remove, recover.

Start modes (decided while the service is Waiting, before anything is written):

- ``existing``: the data directory already holds a member: start it as it is. If a join peer
  answers and the cluster no longer lists this member (it was removed, or the cluster was
  recovered from a snapshot elsewhere), the old data is moved aside and the node joins anew.
- ``bootstrap``: `Bootstrap` was called: a new single-member cluster.
- ``recover``: `Bootstrap(recover_etcd)` after `EtcdRecover`: `etcdctl snapshot restore` of
  the uploaded snapshot (etcd 3.4 has no API for it), then a single-member cluster.
- ``join``: a join peer (the control-plane endpoint's host) answers: MemberAdd as a *learner*
  (etcd 3.4 allows one learner at a time, which also serialises concurrent joins), start
  with ``initial-cluster-state=existing``; the health check promotes the learner once it has
  caught up and reports it healthy only as a voting member.

The process is etcd itself, exec'd by a tiny shim that reads the argv the prepare step wrote,
so the supervisor's fixed process spec can carry arguments decided at start; a restart after
a crash reuses them. The supervisor waits for the old pid to be reaped before it starts the
next one, so ports are never re-bound by two processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from talos.api.etcdserverpb import rpc_pb2 as pb
from talos.machined.etcd.certs import EtcdPKI
from talos.machined.etcd.client import EtcdClient
from talos.machined.etcd.settings import EtcdSettings, data_dir_state
from talos.machined.paths import NodePaths
from talos.machined.system.logbuffer import LogBuffer
from talos.machined.system.runner import ProcessRunner
from talos.machined.system.service import ProcessSpec, ServiceSpec, ServiceState
from talos.machined.system.supervisor import Supervisor
from talos.machinery.atomic import write_atomic
from talos.machinery.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    TalosError,
    Unavailable,
)

log = logging.getLogger(__name__)

SERVICE_ID = "etcd"
EXEC_SHIM = "import json,os,sys;a=json.load(open(sys.argv[1]));os.execv(a[0],a)"
#: how often a waiting member looks for a join peer, and retries a refused MemberAdd. etcd's
#: strict reconfiguration check refuses MemberAdd ("unhealthy cluster") until every voting
#: member has been connected to the leader for 5 s (HealthInterval), counted from when the
#: last joiner started as a learner: that wait is etcd's; a coarser poll only rounds it up
#: (0.2 s cost 0.1 s per join on average, twice per join). A refused MemberAdd and a refused
#: connection are cheap to the peer.
JOIN_POLL = 0.05
#: while a learner, the health check retries promotion this often (within one check)
PROMOTE_RETRY = 0.1
#: how long a peer has to answer Status when the health check looks for unreachable members
NO_LEADER_PROBE = 0.5


@dataclass(frozen=True)
class MemberInfo:
    id: int
    name: str
    peer_urls: tuple[str, ...]
    client_urls: tuple[str, ...]
    is_learner: bool


def _member(m: pb.Member) -> MemberInfo:
    return MemberInfo(int(m.ID), m.name, tuple(m.peerURLs), tuple(m.clientURLs),
                      bool(m.isLearner))


def _client_endpoints(members: list[pb.Member], exclude: int = 0) -> list[str]:
    out = []
    for m in members:
        if m.ID == exclude:
            continue
        for u in m.clientURLs:
            out.append(u.split("://", 1)[-1])
    return out


class EtcdManager:
    def __init__(self, paths: NodePaths, supervisor: Supervisor, *, control_plane: bool,
                 settings: EtcdSettings | None, settings_error: str | None = None,
                 on_member: Callable[[str | None], Awaitable[None]] | None = None) -> None:
        self.paths = paths
        self.supervisor = supervisor
        self.control_plane = control_plane
        self.settings = settings
        self.settings_error = settings_error
        lib = os.path.join(paths.ephemeral, "lib")
        self.data_dir = os.path.join(lib, "etcd")
        self.snapshot_path = os.path.join(lib, "etcd.snapshot")
        self.pki = EtcdPKI(os.path.join(paths.system_run, "secrets", "etcd"))
        self.args_file = os.path.join(paths.system_run, "etcd", "argv.json")
        self.etcd_bin = shutil.which("etcd")
        self.etcdctl_bin = shutil.which("etcdctl")
        self._bootstrap = asyncio.Event()
        self._recover = False
        self._skip_hash_check = False
        self.mode = ""
        self._certs_issued = False
        self._on_member = on_member
        #: the peer URL last checked against the member's registration ("" : not yet)
        self._peer_url_checked = ""
        self._published: str | None = None

    # -- the service --------------------------------------------------------------------------

    def service_spec(self) -> ServiceSpec:
        if not self.control_plane:
            return ServiceSpec(id=SERVICE_ID, user_controlled=True,
                               skip_reason="etcd runs only on control-plane nodes")
        if self.etcd_bin is None:
            return ServiceSpec(id=SERVICE_ID, user_controlled=True,
                               skip_reason="etcd binary not available on this node "
                                           "(install Debian's etcd-server)")
        if self.settings is None:
            return ServiceSpec(id=SERVICE_ID, user_controlled=True,
                               skip_reason=f"etcd is not configured: {self.settings_error}")
        return ServiceSpec(
            id=SERVICE_ID,
            process=ProcessSpec(argv=(sys.executable, "-I", "-S", "-c", EXEC_SHIM,
                                      self.args_file)),
            precondition=self._wait_start_mode,
            precondition_description="etcd to be bootstrapped (Bootstrap) or a peer to join",
            prepare=self._prepare,
            health_check=self._health,
            health_interval=2.0,
            backoff=1.0,
            # etcd stops in well under a second, leadership handed over; only a leader whose
            # peers are stopping too (the whole cluster going down) waits out its 7 s
            # transfer timeout: its data is fsynced, so it is killed after 3 s instead
            stop_timeout=3.0,
            user_controlled=True,
        )

    async def reconfigure(self, settings: EtcdSettings | None, error: str = "") -> str:
        """Take new settings (the EtcdConfig resource or the machine config changed in
        place): a running (or waiting) etcd is stopped and started again, so its prepare step
        writes the new argv; certificates are issued again. Returns what was done ("" when
        the settings are unchanged)."""
        if settings == self.settings and (settings is not None
                                          or error == self.settings_error):
            return ""
        self.settings, self.settings_error = settings, error or self.settings_error
        self._certs_issued = False
        if not self.control_plane:
            return ""
        try:
            runner = self.supervisor.get(SERVICE_ID)
        except NotFound:
            return ""  # registered later, with these settings
        spec = self.service_spec()
        if runner.spec.skip_reason and spec.skip_reason:
            runner.spec = spec  # still skipped: nothing runs
            return ""
        was_active = runner.active and not runner.spec.skip_reason
        restart = was_active or runner.state is ServiceState.SKIPPED
        if runner.active:
            await runner.stop()
        runner.spec = spec
        if not restart:
            return "reconfigured"
        self.supervisor.start(SERVICE_ID)  # a skipped spec records Skipped with its reason
        what = "stopped" if spec.skip_reason else "restarted" if was_active else "started"
        log.info("etcd: %s with new settings (extra args: %s)", what,
                 " ".join(f"--{k}={v}" for k, v in settings.extra_args) if settings else "-")
        return what

    def _require_settings(self) -> EtcdSettings:
        if not self.control_plane:
            raise FailedPrecondition("etcd runs only on control-plane nodes; this node is not one")
        if self.settings is None:
            raise FailedPrecondition(f"etcd is not configured on this node: "
                                     f"{self.settings_error}")
        return self.settings

    async def _ensure_certs(self) -> None:
        if not self._certs_issued:
            settings = self._require_settings()
            await asyncio.to_thread(self.pki.issue, settings)
            self._certs_issued = True

    async def client(self, endpoints: list[str] | None = None) -> EtcdClient:
        await self._ensure_certs()
        tls = await asyncio.to_thread(self.pki.client_tls)
        settings = self._require_settings()
        return EtcdClient(endpoints or [settings.client_endpoint], tls)

    async def _peer_members(self) -> list[pb.Member] | None:
        settings = self._require_settings()
        peers = settings.peer_endpoints()
        if not peers:
            return None
        async with await self.client(peers) as c:
            c.timeout = 2.0
            try:
                return await c.member_list()
            except TalosError as exc:
                log.debug("etcd: no join peer yet: %s", exc)
                return None

    async def _wait_start_mode(self) -> None:
        await self._ensure_certs()
        while True:
            state = await asyncio.to_thread(data_dir_state, self.data_dir)
            if self._bootstrap.is_set():
                self.mode = "recover" if self._recover else "bootstrap"
                return
            if state == "member":
                self.mode = "existing"
                return
            if state == "empty" and await self._peer_members() is not None:
                self.mode = "join"
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(JOIN_POLL):
                    await self._bootstrap.wait()

    async def _prepare(self) -> None:
        settings = self._require_settings()
        await self._ensure_certs()
        initial = [(settings.name, settings.peer_url)]
        state = "new"
        if self.mode == "existing":
            members = await self._peer_members()
            # this member: its peer URL, or its name (the advertised address may have
            # changed in place; the health check then updates the registered URL)
            if members is not None and not any(settings.peer_url in m.peerURLs
                                               or (m.name and m.name == settings.name)
                                               for m in members):
                log.warning("etcd: this member is no longer in the cluster: moving its data "
                            "aside and joining again")
                await asyncio.to_thread(self._move_data_aside, "removed")
                self.mode = "join"
            else:
                state = "existing"
        if self.mode == "recover":
            await self._restore()
        elif self.mode == "join":
            initial = await self._join()
            state = "existing"
        self._bootstrap.clear()
        self._recover = False
        await asyncio.to_thread(self._write_args, initial, state)
        log.info("etcd: starting in mode %s as %s (%s)", self.mode, settings.name,
                 settings.peer_url)

    async def _join(self) -> list[tuple[str, str]]:
        """Register this node as a learner through a peer; retried until it works (a join
        races other joins, leader changes and etcd's reconfiguration health window)."""
        settings = self._require_settings()
        peers = settings.peer_endpoints()
        last = ""
        async with await self.client(peers) as c:
            while True:
                try:
                    new_id, members = await self._join_once(c, settings)
                    break
                except TalosError as exc:
                    # each reason once (etcd refuses for ~5 s while the last joiner's
                    # connection ages: one line, not a hundred)
                    if str(exc) != last:
                        log.info("etcd: joining through %s: %s (retrying)",
                                 ", ".join(peers), exc)
                        last = str(exc)
                    await asyncio.sleep(JOIN_POLL)
        initial = []
        for m in members:
            name = settings.name if m.ID == new_id else m.name
            for u in m.peerURLs:
                initial.append((name, u))
        return initial

    async def _join_once(self, c: EtcdClient, settings: EtcdSettings
                         ) -> tuple[int, list[pb.Member]]:
        members = await c.member_list()
        mine = [m for m in members if settings.peer_url in m.peerURLs]
        if mine and mine[0].name:
            # a stale registration of ours (started before, data since lost)
            await c.member_remove(mine[0].ID)
            members = await c.member_list()
            mine = []
        if mine:  # added before (e.g. a MemberAdd whose reply was lost), never started
            return int(mine[0].ID), members
        resp = await c.member_add([settings.peer_url], learner=True)
        return int(resp.member.ID), list(resp.members)

    async def _restore(self) -> None:
        settings = self._require_settings()
        if self.etcdctl_bin is None:
            raise FailedPrecondition("etcdctl (Debian etcd-client) is needed to restore a "
                                     "snapshot and is not installed")
        if not await asyncio.to_thread(os.path.exists, self.snapshot_path):
            raise FailedPrecondition("no etcd snapshot uploaded (EtcdRecover) to recover from")
        argv = [self.etcdctl_bin, "snapshot", "restore", self.snapshot_path,
                f"--name={settings.name}", f"--data-dir={self.data_dir}",
                f"--initial-cluster={settings.name}={settings.peer_url}",
                f"--initial-cluster-token={settings.cluster_token}",
                f"--initial-advertise-peer-urls={settings.peer_url}"]
        if self._skip_hash_check:
            argv.append("--skip-hash-check")
        # through machined's reaper (asyncio's child watchers must not be mixed with it)
        out = LogBuffer()
        runner = ProcessRunner(ProcessSpec(argv=tuple(argv), env=(("ETCDCTL_API", "3"),)),
                               self.supervisor.reaper, out)
        runner.start()
        try:
            code = await runner.wait()
        except BaseException:
            runner.kill_now()
            raise
        runner.drain()
        if code != 0:
            raise FailedPrecondition("etcd snapshot restore failed: "
                                     + out.snapshot().decode(errors="replace").strip()[-500:])
        await asyncio.to_thread(os.unlink, self.snapshot_path)

    def args(self, initial: list[tuple[str, str]], state: str) -> list[str]:
        settings = self._require_settings()
        assert self.etcd_bin is not None
        server_crt, server_key = self.pki.pair("server")
        peer_crt, peer_key = self.pki.pair("peer")
        flags: dict[str, str] = {
            "name": settings.name,
            "data-dir": self.data_dir,
            "listen-peer-urls": settings.listen_urls(settings.peer_port),
            "listen-client-urls": settings.listen_urls(settings.client_port),
            "advertise-client-urls": settings.client_url,
            "initial-advertise-peer-urls": settings.peer_url,
            "initial-cluster": ",".join(f"{n}={u}" for n, u in initial),
            "initial-cluster-state": state,
            "initial-cluster-token": settings.cluster_token,
            "cert-file": server_crt,
            "key-file": server_key,
            "trusted-ca-file": self.pki.ca,
            "client-cert-auth": "true",
            "peer-cert-file": peer_crt,
            "peer-key-file": peer_key,
            "peer-trusted-ca-file": self.pki.ca,
            "peer-client-cert-auth": "true",
            "logger": "zap",
            "log-outputs": "stderr",
        }
        argv = [self.etcd_bin]
        argv += [f"--{k}={v}" for k, v in flags.items() if k not in dict(settings.extra_args)]
        # extraArgs replace the node's defaults; a flag given several times keeps each value
        argv += [f"--{k}={v}" for k, v in settings.extra_args]
        return argv

    def _write_args(self, initial: list[tuple[str, str]], state: str) -> None:
        os.makedirs(self.data_dir, mode=0o700, exist_ok=True)
        os.chmod(self.data_dir, 0o700)
        write_atomic(self.args_file, json.dumps(self.args(initial, state)), mode=0o600)

    def _move_data_aside(self, why: str) -> str | None:
        if not os.path.exists(self.data_dir):
            return None
        dest = f"{self.data_dir}.{why}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
        n = 0
        while os.path.exists(dest + (f".{n}" if n else "")):
            n += 1
        dest += f".{n}" if n else ""
        os.rename(self.data_dir, dest)
        return dest

    async def _health(self) -> None:
        settings = self._require_settings()
        async with await self.client() as local:
            local.timeout = 1.0
            status = await local.status()  # answered locally, quorum or not
            if status.isLearner:
                await self._promote(int(status.header.member_id))
            elif not status.leader:
                raise Unavailable(await self._no_leader(local, int(status.header.member_id)))
            await local.health()
            if self._peer_url_checked != settings.peer_url:
                await self._update_peer_url(local, int(status.header.member_id), settings)
        await self._publish(f"{status.header.member_id:x}")

    async def _no_leader(self, local: EtcdClient, me: int) -> str:
        """Why etcd has no leader, for the health message: the members that do not answer
        (etcd 3.4 lists members from the local store, so this works without quorum)."""
        members = await local.member_list()
        others = [m for m in members if m.ID != me]

        async def answers(m: pb.Member) -> bool:
            endpoints = [u.split("://", 1)[-1] for u in m.clientURLs]
            if not endpoints:
                return False  # never started (a member added but not joined yet)
            try:
                async with await self.client(endpoints) as c:
                    c.timeout = NO_LEADER_PROBE
                    await c.status()
            except TalosError:
                return False
            return True

        up = await asyncio.gather(*(answers(m) for m in others))
        # named in a stable order (etcd's member list order is by ID, which is random)
        down = sorted((m for m, ok in zip(others, up, strict=True) if not ok),
                      key=lambda m: (m.name or f"{m.ID:x}"))
        if not down:
            return (f"etcd has no leader: an election is in progress (all {len(members)} "
                    "members answer)")
        names = ", ".join(f"{m.name or f'{m.ID:x}'} ({', '.join(m.peerURLs)})" for m in down)
        quorum = len(members) // 2 + 1
        lost = len(members) - len(down) < quorum
        return (f"etcd has no leader{': quorum lost' if lost else ''}: {len(down)} of "
                f"{len(members)} members unreachable: {names}"
                + ("; bring them back, or recover this member from a snapshot "
                   "(talosctl bootstrap --recover-from)" if lost else ""))

    async def _update_peer_url(self, c: EtcdClient, member_id: int,
                               settings: EtcdSettings) -> None:
        """After the advertised address changed (advertisedSubnets applied in place), the
        member's registered peer URL follows (etcd keeps the one it joined with)."""
        members = await c.member_list()
        mine = next((m for m in members if m.ID == member_id), None)
        if mine is not None and list(mine.peerURLs) != [settings.peer_url]:
            await c.member_update(member_id, [settings.peer_url])
            log.info("etcd: member %x peer URL updated to %s", member_id, settings.peer_url)
        self._peer_url_checked = settings.peer_url

    async def _publish(self, member_id: str | None) -> None:
        if self._on_member is not None and member_id != self._published:
            await self._on_member(member_id)
            self._published = member_id

    async def _promote(self, member_id: int, within: float = 1.5) -> None:
        """Promote this learner as soon as etcd allows (it must have caught up with the
        leader); retried for `within` seconds, then reported unhealthy until the next check."""
        settings = self._require_settings()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        async with await self.client(settings.peer_endpoints()
                                     or [settings.client_endpoint]) as c:
            c.timeout = 1.0
            while True:
                try:
                    await c.member_promote(member_id)
                    break
                except TalosError as exc:
                    if loop.time() > deadline:
                        raise Unavailable(f"learner {member_id:x} not promoted yet: "
                                          f"{exc}") from None
                await asyncio.sleep(PROMOTE_RETRY)
            log.info("etcd: learner %x promoted to a voting member", member_id)

    # -- API operations -----------------------------------------------------------------------

    async def bootstrap(self, *, recover: bool, skip_hash_check: bool) -> None:
        settings = self._require_settings()
        del settings
        if self._bootstrap.is_set():
            raise AlreadyExists("etcd bootstrap is already in progress on this node")
        state = await asyncio.to_thread(data_dir_state, self.data_dir)
        runner = self.supervisor.get(SERVICE_ID)
        if recover:
            if not await asyncio.to_thread(os.path.exists, self.snapshot_path):
                raise FailedPrecondition("no etcd snapshot to recover from: upload one with "
                                         "EtcdRecover first (talosctl bootstrap --recover-from)")
            if state == "member":
                if await self._healthy():
                    raise FailedPrecondition(
                        "etcd on this node is healthy (it has quorum): refusing to replace "
                        "its data with a snapshot")
                await runner.stop()
                aside = await asyncio.to_thread(self._move_data_aside, "lost-quorum")
                log.warning("etcd: recovering from snapshot; old data moved to %s", aside)
            elif state == "other":
                raise FailedPrecondition(f"etcd data directory {self.data_dir} is not empty")
        elif state == "member":
            raise AlreadyExists("etcd is already bootstrapped on this node (its data "
                                "directory holds a member)")
        elif state == "other":
            raise FailedPrecondition(f"etcd data directory {self.data_dir} is not empty")
        elif self.mode == "join" and runner.active:
            raise AlreadyExists("etcd on this node is joining an existing cluster")
        self._recover = recover
        self._skip_hash_check = skip_hash_check
        self._bootstrap.set()
        if not runner.active:
            self.supervisor.start(SERVICE_ID)

    async def _healthy(self) -> bool:
        try:
            async with await self.client() as c:
                c.timeout = 2.0
                await c.health()
        except TalosError:
            return False
        return True

    async def upload_snapshot(self, chunks: AsyncIterator[bytes]) -> int:
        self._require_settings()
        tmp = self.snapshot_path + ".part"
        size = 0
        await asyncio.to_thread(os.makedirs, os.path.dirname(tmp), 0o700, True)
        f = await asyncio.to_thread(open, tmp, "wb")
        try:
            async for chunk in chunks:
                size += len(chunk)
                await asyncio.to_thread(f.write, chunk)
            await asyncio.to_thread(f.flush)
            await asyncio.to_thread(os.fsync, f.fileno())
        finally:
            await asyncio.to_thread(f.close)
        if size == 0:
            await asyncio.to_thread(os.unlink, tmp)
            raise InvalidArgument("the uploaded etcd snapshot is empty")
        await asyncio.to_thread(os.replace, tmp, self.snapshot_path)
        return size

    def _require_running(self) -> None:
        self._require_settings()
        runner = self.supervisor.get(SERVICE_ID)
        if runner.pid is None:
            raise FailedPrecondition(f"etcd is not running on this node (service state "
                                     f"{runner.state.value})")

    async def members(self) -> list[MemberInfo]:
        self._require_running()
        async with await self.client() as c:
            return [_member(m) for m in await c.member_list()]

    async def status(self) -> pb.StatusResponse:
        self._require_running()
        async with await self.client() as c:
            return await c.status()

    async def alarms(self) -> list[tuple[int, int]]:
        """Active alarms: (member id, etcd AlarmType value)."""
        self._require_running()
        async with await self.client() as c:
            return [(int(a.memberID), int(a.alarm)) for a in await c.alarms()]

    async def disarm_alarms(self) -> list[tuple[int, int]]:
        self._require_running()
        async with await self.client() as c:
            return [(int(a.memberID), int(a.alarm)) for a in await c.disarm_alarms()]

    async def defragment(self) -> None:
        self._require_running()
        async with await self.client() as c:
            await c.defragment()

    async def snapshot(self) -> AsyncIterator[bytes]:
        self._require_running()
        async with await self.client() as c:
            async for _rev, chunk in c.snapshot():
                yield chunk

    async def remove_member(self, *, name: str = "", member_id: int = 0) -> None:
        self._require_running()
        async with await self.client() as c:
            status = await c.status()
            members = await c.member_list()
            match = [m for m in members if (member_id and m.ID == member_id)
                     or (name and m.name == name)]
            if not match:
                what = f"id {member_id:x}" if member_id else f"{name!r}"
                raise NotFound(f"etcd member {what} not found (members: "
                               + ", ".join(m.name or f"{m.ID:x}" for m in members) + ")")
            if match[0].ID == status.header.member_id:
                raise FailedPrecondition("cannot remove this node's own etcd member: use "
                                         "EtcdLeaveCluster (talosctl etcd leave) on it")
            await c.member_remove(match[0].ID)

    async def forfeit_leadership(self) -> str:
        """Move leadership to another voting member; the new leader's name ("" if this
        member was not the leader)."""
        self._require_running()
        async with await self.client() as c:
            status = await c.status()
            me = status.header.member_id
            if status.leader != me:
                return ""
            members = await c.member_list()
            for m in members:
                if m.ID != me and not m.isLearner and m.name:
                    await c.move_leader(m.ID)
                    return str(m.name)
        raise FailedPrecondition("no other voting member to hand etcd leadership to")

    async def leave(self) -> None:
        """Leave the cluster cleanly: hand over leadership, remove this member, stop etcd,
        wipe its data."""
        self._require_running()
        async with await self.client() as c:
            status = await c.status()
            me = int(status.header.member_id)
            members = await c.member_list()
        if len(members) > 1 and status.leader == me:
            await self.forfeit_leadership()
        others = _client_endpoints(members, exclude=me)
        async with await self.client(others or None) as c:
            await c.member_remove(me)
        await self.supervisor.get(SERVICE_ID).stop()
        await asyncio.to_thread(shutil.rmtree, self.data_dir, True)
        await self._publish(None)
        log.info("etcd: member %x left the cluster; data removed", me)

    async def leave_if_member(self) -> None:
        """For reset: leave if this node runs a member of a cluster with other members."""
        if not self.control_plane or self.settings is None:
            return
        runner = self.supervisor.get(SERVICE_ID)
        if runner.pid is None:
            return
        try:
            async with await self.client() as c:
                members = await c.member_list()
            if len(members) > 1:
                await self.leave()
        except TalosError as exc:
            log.warning("etcd: leaving the cluster on reset failed: %s", exc)
