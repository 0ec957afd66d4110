"""machined as PID 1 of a real sandbox (PID, mount, UTS, net namespaces), over its socket."""

from __future__ import annotations

import asyncio
import os
import signal

import grpc
import psutil
import pytest
from google.protobuf import empty_pb2

from talos.api.machine import machine_pb2 as m

from .node import ext, running_node

pytestmark = [pytest.mark.root, pytest.mark.requires("unshare", "containerd")]

# one write(2) per line (print on an unbuffered stdout writes the newline separately)
TICKER = "import os, time\ni = 0\nwhile True:\n    os.write(1, f'tick {i}\\n'.encode())\n" \
         "    i += 1\n    time.sleep(0.1)\n"
SLEEPER = "import time; print('up', flush=True); time.sleep(3600)"


async def test_boots_from_config_and_lists_services(tmp_path):
    async with running_node(tmp_path / "n", hostname="boot-test") as node:
        await node.wait_boot()
        host = await node.api.Hostname(empty_pb2.Empty())
        assert host.messages[0].hostname == "boot-test"
        assert host.messages[0].metadata.hostname == "boot-test"
        version = await node.api.Version(empty_pb2.Empty())
        assert version.messages[0].version.go_version.startswith("python3.11")
        assert version.messages[0].features.rbac
        await node.wait_service("containerd", "running")
        services = await node.services()
        assert {"apid", "trustd", "etcd", "containerd", "cri", "kubelet",
                "machined"} <= set(services)
        assert services["machined"].state == "Running"
        assert services["kubelet"].state == "Skipped"
        assert services["kubelet"].events.events[-1].msg == \
            "kubelet binary not available on this node"
        # the node has its own root: STATE and EPHEMERAL mounted, host root read-only
        mounts = {s.mounted_on for s in
                  (await node.api.Mounts(empty_pb2.Empty())).messages[0].stats}
        assert {"/", "/system/state", "/var", "/proc", "/run", "/system/run"} <= mounts
        procs = (await node.api.Processes(empty_pb2.Empty())).messages[0].processes
        assert any(p.pid == 1 and "machined" in p.args for p in procs)


async def test_follow_service_log(tmp_path):
    async with running_node(tmp_path / "n", extensions=ext("ticker", TICKER)) as node:
        await node.wait_service("ext-ticker", "running")
        call = node.api.Logs(m.LogsRequest(namespace="system", id="ext-ticker", follow=True,
                                           tail_lines=0))
        seen = b""
        async for data in call:
            seen += data.bytes
            if seen.count(b"tick") >= 3:
                break
        call.cancel()
        assert b"tick" in seen
        # tail without follow ends by itself
        tail = [d.bytes async for d in node.api.Logs(m.LogsRequest(id="ext-ticker",
                                                                   tail_lines=2))]
        assert b"".join(tail).count(b"\n") == 2
        machined = b"".join([d.bytes async for d in node.api.Logs(
            m.LogsRequest(id="machined", tail_lines=-1))])
        assert b"boot sequence done" in machined
        with pytest.raises(grpc.aio.AioRpcError) as err:
            async for _ in node.api.Logs(m.LogsRequest(id="no-such-service")):
                pass
        assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_read_list_and_confined_paths(tmp_path):
    async with running_node(tmp_path / "n") as node:
        data = b"".join([d.bytes async for d in node.api.Read(
            m.ReadRequest(path="/system/state/config.yaml"))])
        assert data == node.config
        names = [fi.relative_name async for fi in node.api.List(
            m.ListRequest(root="/system/state"))]
        assert "config.yaml" in names
        for bad, code in (("/root/.bashrc", grpc.StatusCode.PERMISSION_DENIED),
                          ("/var/../root/x", grpc.StatusCode.PERMISSION_DENIED),
                          ("relative", grpc.StatusCode.INVALID_ARGUMENT),
                          ("/var/missing", grpc.StatusCode.NOT_FOUND)):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                async for _ in node.api.Read(m.ReadRequest(path=bad)):
                    pass
            assert err.value.code() == code, bad


async def test_crash_looping_service_restarts_with_backoff_while_api_answers(tmp_path):
    crash = ext("crashy", "print('starting'); raise SystemExit(7)", backoff=0.3)
    async with running_node(tmp_path / "n", extensions=crash) as node:
        starts = 0
        call = node.api.Events(m.EventsRequest(tail_events=-1))
        async for ev in call:
            msg = m.ServiceStateEvent()
            if not ev.data.type_url.endswith("ServiceStateEvent"):
                continue
            msg.ParseFromString(ev.data.value)
            if msg.service == "ext-crashy" and msg.action == m.ServiceStateEvent.RUNNING:
                starts += 1
                # the API keeps answering while the service crash-loops
                assert (await node.api.Version(empty_pb2.Empty())).messages
                if starts == 3:
                    break
        call.cancel()
        info = (await node.services())["ext-crashy"]
        msgs = [e.msg for e in info.events.events]
        assert any("exited with code 7" in x for x in msgs)
        assert any("back-off of 0.3s" in x for x in msgs)
        # each restart came at least one back-off after the failure before it
        evs = list(info.events.events)
        for i, e in enumerate(evs):
            if "exited with code 7" in e.msg:
                nxt = next((f for f in evs[i + 1:] if f.state == "Starting"), None)
                if nxt is not None:
                    gap = (nxt.ts.ToNanoseconds() - e.ts.ToNanoseconds()) / 1e9
                    assert gap >= 0.3


def _host_pids(root_pid: int, needle: str) -> list[int]:
    out = []
    for p in psutil.Process(root_pid).children(recursive=True):
        try:
            if needle in " ".join(p.cmdline()):
                out.append(p.pid)
        except psutil.NoSuchProcess:
            pass
    return out


async def _service_pids(root_pid: int, needle: str) -> list[int]:
    """Host pids running `needle`; a just-started service may not have exec'd yet."""
    while True:
        pids = await asyncio.to_thread(_host_pids, root_pid, needle)
        if pids:
            return pids
        await asyncio.sleep(0.02)


async def test_kill_9_of_a_service_is_seen_and_restarted(tmp_path):
    async with running_node(tmp_path / "n",
                            extensions=ext("victim", SLEEPER, backoff=0.1)) as node:
        first = await node.wait_service("ext-victim", "running")
        [pid] = await _service_pids(node.sandbox.pid, "time.sleep(3600)")
        os.kill(pid, signal.SIGKILL)
        await node.wait_event(lambda e: e.service == "ext-victim"
                              and "killed by signal 9" in e.message,
                              msg_type=m.ServiceStateEvent)
        await node.wait_event(lambda e: e.service == "ext-victim"
                              and e.action == m.ServiceStateEvent.RUNNING
                              and e.message != first.message,
                              msg_type=m.ServiceStateEvent)
        pids = await _service_pids(node.sandbox.pid, "time.sleep(3600)")
        assert len(pids) == 1 and pids[0] != pid
        assert (await node.services())["ext-victim"].state == "Running"


async def test_orphans_are_reaped(tmp_path):
    orphaner = ("import os, time\n"
                "for _ in range(5):\n"
                "    if os.fork() == 0:\n"
                "        time.sleep(0.2)\n"
                "        os._exit(0)\n"
                "print('parent leaves its children behind', flush=True)\n")
    async with running_node(tmp_path / "n",
                            extensions=ext("orphaner", orphaner, restart="never")) as node:
        await node.wait_service("ext-orphaner", "finished")
        # the orphans were re-parented to PID 1: wait until none is left, zombie or not
        while True:
            procs = (await node.api.Processes(empty_pb2.Empty())).messages[0].processes
            left = [p for p in procs if p.pid != 1 and "parent leaves" not in p.args
                    and "os.fork" in p.args]
            zombies = [p for p in procs if p.state == "Z"]
            if not left and not zombies:
                break
            await asyncio.sleep(0.1)
        assert not zombies


async def test_reboot_in_place_keeps_state(tmp_path):
    async with running_node(tmp_path / "n") as node:
        await node.wait_boot()
        (node.sandbox.state_dir / "marker").write_text("kept")
        pid_before = node.sandbox.pid
        await node.api.Reboot(m.RebootRequest())
        # same PID 1 (re-exec in place); the log says so once it is back
        while b"re-executed in place" not in node.sandbox.log_path.read_bytes():
            assert node.sandbox.alive(), node.sandbox.log_tail()
            await asyncio.sleep(0.05)
        assert node.sandbox.pid == pid_before
        await node.reconnect()
        await node.wait_boot()
        data = b"".join([d.bytes async for d in node.api.Read(
            m.ReadRequest(path="/system/state/marker"))])
        assert data == b"kept"
        host = await node.api.Hostname(empty_pb2.Empty())
        assert host.messages[0].hostname == "node-1"


async def test_service_start_stop_rules(tmp_path):
    async with running_node(tmp_path / "n") as node:
        await node.wait_service("containerd", "running")
        resp = await node.api.ServiceStop(m.ServiceStopRequest(id="containerd"))
        assert "stopped" in resp.messages[0].resp
        assert (await node.services())["containerd"].state == "Finished"
        await node.api.ServiceStart(m.ServiceStartRequest(id="containerd"))
        await node.wait_event(lambda e: e.service == "containerd" and e.message ==
                              "Health check successful", msg_type=m.ServiceStateEvent)
        for sid, code in (("cri", grpc.StatusCode.INVALID_ARGUMENT),
                          ("machined", grpc.StatusCode.INVALID_ARGUMENT),
                          ("nope", grpc.StatusCode.NOT_FOUND)):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await node.api.ServiceRestart(m.ServiceRestartRequest(id=sid))
            assert err.value.code() == code


async def test_sigterm_stops_every_service_in_order_and_exits(tmp_path):
    exts = {**ext("base", SLEEPER), **ext("top", SLEEPER, depends=("ext-base",))}
    async with running_node(tmp_path / "n", extensions=exts) as node:
        await node.wait_service("ext-top", "running")
        os.kill(node.sandbox.pid, signal.SIGTERM)
        code = await asyncio.to_thread(node.sandbox.process.wait, 60)
        assert code == 0
        log = node.sandbox.log_path.read_text()
        order_line = next(x for x in log.splitlines() if "services stopped in order" in x)
        order = order_line.split(": ")[-1].split(", ")
        assert order.index("ext-top") < order.index("ext-base")
        assert order.index("ext-base") < len(order)
        assert "powered off" in log
