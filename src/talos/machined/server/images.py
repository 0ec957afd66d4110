"""ImageService (List, Pull, Import, Remove, Verify) and the older MachineService
ImageList/ImagePull: the images of the node's own containerd (`services/containerd.py`),
namespaces `system` and `k8s.io` (common.ContainerdNamespace NS_SYSTEM / NS_CRI).

- **List** and **Remove** speak containerd's gRPC API on its unix socket (`Images.List`,
  `Images.Delete`; the size of an image is its manifest's, its config's and its layers'
  sizes added up, read through `Content.Read` as containerd's `images.Size` does for the
  node's platform).
- **Pull** runs Debian's `ctr images pull`: in containerd 1.6 pulling is client-side (the
  client resolves, fetches and unpacks; the transfer service came in 2.0), and `ctr` is the
  maintained client that ships with it. The registries it may use come from the machine
  config's `machine.registries` (mirrors and their TLS settings), written as containerd
  `hosts.toml` directories (`registry_hosts.py`) under the node's /etc/cri/conf.d/hosts
  (where Talos keeps them) right before each pull. When an endpoint of the image's
  registry has `machine.registries.config.<host>.auth`, the pull uses a private copy of
  those directories holding the `Authorization` header `registry_auth.py` gets for it
  (EPHEMERAL/tmp/pull-hosts-*, 0700, removed after the pull whatever happens): the
  credentials never reach ctr's command line, a log or an error.
  Pull reports no per-layer progress yet, only the pulled image's name at the end.

- **Import** writes the streamed tarball to the node's EPHEMERAL tmp directory and runs
  `ctr images import` on it (OCI layout or docker save tarballs).

- **Verify** matches the reference against the config's ImageVerificationConfig rules as
  upstream v1.13.9 does (`image_verify.py`): no match / skip / deny answer as upstream; a
  rule that needs a cosign signature check answers FailedPrecondition (no sigstore client
  here). Every pull (ImageService.Pull, ImagePull, the upgrade's installer) checks the
  rules first as upstream's image.Pull does: a denied image (PermissionDenied) or one that
  needs a signature check (FailedPrecondition) is not pulled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import grpc
from google.protobuf import empty_pb2, timestamp_pb2

from talos.api.common import common_pb2
from talos.api.containerd.services.content.v1 import content_pb2, content_pb2_grpc
from talos.api.containerd.services.images.v1 import images_pb2, images_pb2_grpc
from talos.api.machine import image_pb2, image_pb2_grpc
from talos.api.machine import machine_pb2 as m
from talos.machined.server import image_verify, registry_auth, registry_hosts
from talos.machined.server.context import NodeAPI
from talos.machined.services.containerd import socket_path
from talos.machined.system import command
from talos.machinery.errors import FailedPrecondition, InvalidArgument, NotFound

SYSTEM_NAMESPACE = "system"
K8S_NAMESPACE = "k8s.io"
CONTAINERD_TIMEOUT = 10.0
PULL_TIMEOUT = 600.0
HOSTS_DIR = ("etc", "cri", "conf.d", "hosts")
#: a pull's private hosts directory (with its Authorization headers) under EPHEMERAL/tmp
PRIVATE_PREFIX = "pull-hosts-"
#: older than any pull can run (ctr's limit plus the auth step's requests)
STALE_AFTER = PULL_TIMEOUT + 120.0

log = logging.getLogger(__name__)

_MANIFESTS = ("application/vnd.oci.image.manifest.v1+json",
              "application/vnd.docker.distribution.manifest.v2+json")
_INDEXES = ("application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json")


@dataclass(frozen=True)
class Image:
    name: str
    digest: str
    size: int
    created_at: timestamp_pb2.Timestamp
    labels: Mapping[str, str] = field(default_factory=dict)


def namespace(ns: int) -> str:
    """The containerd namespace of a common.ContainerdNamespace value."""
    if ns == common_pb2.NS_SYSTEM:
        return SYSTEM_NAMESPACE
    if ns == common_pb2.NS_CRI:
        return K8S_NAMESPACE
    raise InvalidArgument(f"namespace: {common_pb2.ContainerdNamespace.Name(ns)} is not "
                          "supported (expected NS_SYSTEM or NS_CRI)"
                          if ns in common_pb2.ContainerdNamespace.values()
                          else f"namespace: unknown value {ns} (expected NS_SYSTEM or NS_CRI)")


def instance_namespace(inst: common_pb2.ContainerdInstance) -> str:
    if inst.driver not in common_pb2.ContainerDriver.values():
        raise InvalidArgument(f"containerd.driver: unknown value {inst.driver} "
                              "(expected CONTAINERD or CRI)")
    return namespace(inst.namespace)


def _socket(node: NodeAPI) -> str:
    sock = socket_path(node.paths)
    if not os.path.exists(sock):
        raise FailedPrecondition(f"containerd is not running on this node (no socket at {sock})")
    return sock


def _containerd_error(sock: str, e: grpc.aio.AioRpcError, what: str) -> Exception:
    if e.code() == grpc.StatusCode.NOT_FOUND:
        return NotFound(f"{what}: {e.details()}")
    return FailedPrecondition(f"containerd at {sock}: {e.code().name}: {e.details()}")


async def _read(content: content_pb2_grpc.ContentStub, digest: str,
                md: tuple[tuple[str, str], ...]) -> bytes:
    chunks = []
    async for part in content.Read(content_pb2.ReadContentRequest(digest=digest), metadata=md,
                                   timeout=CONTAINERD_TIMEOUT):
        chunks.append(part.data)
    return b"".join(chunks)


async def _size(content: content_pb2_grpc.ContentStub, media_type: str, digest: str,
                size: int, md: tuple[tuple[str, str], ...], depth: int = 0) -> int:
    """The sizes of the descriptor and what it references for linux/amd64, added up (what
    containerd's images.Size reports); content not present locally counts only itself."""
    if depth > 3 or media_type not in (*_MANIFESTS, *_INDEXES):
        return size
    try:
        doc = json.loads(await _read(content, digest, md))
    except (grpc.aio.AioRpcError, ValueError):
        return size
    if media_type in _MANIFESTS:
        children = [doc.get("config") or {}, *(doc.get("layers") or [])]
        return size + sum(int(c.get("size", 0)) for c in children)
    manifests = doc.get("manifests") or []
    chosen = next((m for m in manifests if (m.get("platform") or {}).get("architecture")
                   in ("amd64", None)), manifests[0] if manifests else None)
    if chosen is None:
        return size
    return size + await _size(content, str(chosen.get("mediaType", "")),
                              str(chosen.get("digest", "")), int(chosen.get("size", 0)), md,
                              depth + 1)


async def list_images(node: NodeAPI, ns: str) -> list[Image]:
    sock = _socket(node)
    md = (("containerd-namespace", ns),)
    async with grpc.aio.insecure_channel(f"unix:{sock}") as ch:
        images = images_pb2_grpc.ImagesStub(ch)
        content = content_pb2_grpc.ContentStub(ch)
        try:
            resp = await images.List(images_pb2.ListImagesRequest(), metadata=md,
                                     timeout=CONTAINERD_TIMEOUT)
            out = []
            for img in sorted(resp.images, key=lambda i: i.name):
                t = img.target
                out.append(Image(img.name, t.digest,
                                 await _size(content, t.media_type, t.digest, t.size, md),
                                 img.created_at, dict(img.labels)))
        except grpc.aio.AioRpcError as e:
            raise _containerd_error(sock, e, "list images") from None
    return out


async def get_image(node: NodeAPI, ns: str, name: str) -> Image:
    sock = _socket(node)
    md = (("containerd-namespace", ns),)
    async with grpc.aio.insecure_channel(f"unix:{sock}") as ch:
        try:
            resp = await images_pb2_grpc.ImagesStub(ch).Get(
                images_pb2.GetImageRequest(name=name), metadata=md, timeout=CONTAINERD_TIMEOUT)
        except grpc.aio.AioRpcError as e:
            raise _containerd_error(sock, e, f"image {name}") from None
    img = resp.image
    return Image(img.name, img.target.digest, img.target.size, img.created_at,
                 dict(img.labels))


async def remove_image(node: NodeAPI, ns: str, name: str) -> None:
    if not name:
        raise InvalidArgument("image_ref: empty (expected an image reference)")
    sock = _socket(node)
    md = (("containerd-namespace", ns),)
    async with grpc.aio.insecure_channel(f"unix:{sock}") as ch:
        try:
            await images_pb2_grpc.ImagesStub(ch).Delete(
                images_pb2.DeleteImageRequest(name=name, sync=True), metadata=md,
                timeout=CONTAINERD_TIMEOUT)
        except grpc.aio.AioRpcError as e:
            raise _containerd_error(sock, e, f"image {name}") from None


# -- pull -------------------------------------------------------------------------------------

def normalize(ref: str) -> str:
    """The full name containerd stores for `ref` (as `ctr` and Talos normalize it):
    docker.io/library/NAME for a bare name, :latest when neither tag nor digest is given."""
    ref = ref.strip()
    if not ref or any(c.isspace() for c in ref):
        raise InvalidArgument(f"image_ref: {ref!r} is not an image reference")
    first, _, rest = ref.partition("/")
    if not rest or not ("." in first or ":" in first or first == "localhost"):
        ref = f"docker.io/{ref}" if rest else f"docker.io/library/{ref}"
    name_part = ref.rsplit("/", 1)[-1]
    if "@" not in name_part and ":" not in name_part:
        ref += ":latest"
    return ref


async def _ctr(node: NodeAPI, sock: str, ns: str, *args: str,
               limit: float) -> tuple[int, str, str]:
    """Run `ctr --address SOCK --namespace NS ARGS` with a clean environment; (rc, stdout,
    stderr). The process is killed if the call is cancelled or takes over `limit` s. Its
    exit status comes from the node's reaper (system/command.py): asyncio's child watcher
    would lose it to the reaper."""
    ctr = shutil.which("ctr")
    if ctr is None:
        raise FailedPrecondition("ctr (Debian package containerd) is not installed on this "
                                 "node: images cannot be pulled or imported")
    return await command.run(node.reaper, [ctr, "--address", sock, "--namespace", ns, *args],
                             env={"PATH": os.environ.get("PATH", ""), "HOME": "/"},
                             limit=limit)


def _ctr_reason(err: str, rc: int) -> str:
    lines = err.strip().splitlines()
    # ctr's last line reads 'ctr: failed to resolve reference "...": ...'
    return (lines[-1] if lines else f"ctr exited with {rc}").removeprefix("ctr: ")


def split_name(name: str) -> tuple[str, str]:
    """(registry host, repository) of a normalized reference: ("docker.io", "library/x")
    for docker.io/library/x:latest."""
    registry, _, rest = name.partition("/")
    rest = rest.partition("@")[0]
    head, _, last = rest.rpartition("/")
    last = last.partition(":")[0]
    return registry, f"{head}/{last}" if head else last


async def pull(node: NodeAPI, ns: str, ref: str) -> Image:
    """Pull `ref` into namespace `ns` with `ctr`, if the config's image verification rules
    allow it; the image containerd then holds. When an endpoint of the image's registry has
    `machine.registries.config.<host>.auth`, the pull uses a private hosts directory with
    the `Authorization` header `registry_auth` gets for it, removed after the pull."""
    cfg = node.config()
    config = cfg.config if cfg is not None else None
    image_verify.check_pull(config, ref)
    name = normalize(ref)
    sock = _socket(node)
    hosts = os.path.join(node.paths.ephemeral, *HOSTS_DIR)
    mirrors, tls = registry_hosts.from_config(config)
    auths = registry_auth.from_config(config)
    await asyncio.to_thread(registry_hosts.write, hosts,
                            registry_hosts.generate(mirrors, tls, hosts))
    registry, repository = split_name(name)
    endpoints = registry_hosts.endpoints(mirrors, registry)
    wanted = [e for e in endpoints if e.host in auths]
    if not wanted:
        return await _pull(node, sock, ns, name, hosts,
                           unauthorized_hint=[e.host for e in endpoints])
    tmpdir = os.path.join(node.paths.ephemeral, "tmp")
    await asyncio.to_thread(_remove_stale_private_dirs, tmpdir)
    private = await asyncio.to_thread(tempfile.mkdtemp, "", PRIVATE_PREFIX, tmpdir)
    try:
        headers = await asyncio.to_thread(_authorize, name, wanted, repository, auths, tls,
                                          private)
        own = dict(mirrors)
        if registry not in own and "*" in own:
            # the registry's own directory (upstream's RegistryEndpoints picks '*' the
            # same way), so that its headers do not go to other registries' pulls
            own[registry] = own["*"]
        await asyncio.to_thread(registry_hosts.write, private,
                                registry_hosts.generate(own, tls, private, headers))
        return await _pull(node, sock, ns, name, private, unauthorized_hint=[])
    finally:
        # shielded: a cancelled pull still removes the header
        await asyncio.shield(asyncio.to_thread(shutil.rmtree, private, True))


def _remove_stale_private_dirs(tmpdir: str) -> None:
    """Create `tmpdir`; remove the private hosts directories a pull that cannot still run
    left there (machined stopped mid-pull): each held a credential."""
    os.makedirs(tmpdir, 0o700, exist_ok=True)
    now = time.time()
    for entry in os.scandir(tmpdir):
        with contextlib.suppress(OSError):
            if (entry.name.startswith(PRIVATE_PREFIX) and entry.is_dir(follow_symlinks=False)
                    and now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER):
                shutil.rmtree(entry.path, ignore_errors=True)


def _authorize(name: str, endpoints: list[registry_hosts.Endpoint], repository: str,
               auths: Mapping[str, Any],
               tls: Mapping[str, registry_hosts.TLS], workdir: str
               ) -> dict[str, tuple[registry_hosts.Header, ...]]:
    """{endpoint URL: its Authorization header} (blocking: run in a thread). An endpoint
    that cannot be reached or refuses the credentials is left without one (containerd
    tries the next, as it would); if no endpoint took the credentials, the first refusal
    is the error."""
    out: dict[str, tuple[registry_hosts.Header, ...]] = {}
    refused: list[FailedPrecondition] = []
    for e in endpoints:
        try:
            creds = registry_auth.credentials(auths[e.host], e.host)
            header = registry_auth.authorize(e, repository, creds, tls.get(e.host), workdir)
        except registry_auth.Unreachable as err:
            log.warning("pull %s: %s", name, err)
            continue
        except FailedPrecondition as err:
            log.warning("pull %s: %s", name, err)
            refused.append(err)
            continue
        if header is not None:
            out[e.url] = (header,)
    if refused and not out:
        raise FailedPrecondition(f"pull {name}: {refused[0]}")
    return out


async def _pull(node: NodeAPI, sock: str, ns: str, name: str, hosts: str, *,
                unauthorized_hint: list[str]) -> Image:
    rc, _, err = await _ctr(node, sock, ns, "images", "pull", "--hosts-dir", hosts, name,
                            limit=PULL_TIMEOUT)
    if rc != 0:
        reason = _ctr_reason(err, rc)
        if "not found" in reason:
            raise NotFound(f"pull {name}: {reason}")
        if "401 Unauthorized" in reason and unauthorized_hint:
            reason += (" (the registry asks for credentials: none are configured in "
                       + " or ".join(f"machine.registries.config.{h}.auth"
                                     for h in dict.fromkeys(unauthorized_hint)) + ")")
        raise FailedPrecondition(f"pull {name}: {reason}")
    return await get_image(node, ns, name)


# -- import -----------------------------------------------------------------------------------

async def import_image(node: NodeAPI,
                       requests: AsyncIterator[image_pb2.ImageServiceImportRequest]) -> str:
    """The tarball streamed in `requests` (first the containerd instance, then chunks),
    imported with `ctr images import`; the name of the (first) image it held."""
    first = await anext(requests, None)
    if first is None or first.WhichOneof("request") != "containerd":
        raise InvalidArgument("the first message must name the containerd instance")
    ns = instance_namespace(first.containerd)
    sock = _socket(node)
    tmpdir = os.path.join(node.paths.ephemeral, "tmp")
    await asyncio.to_thread(os.makedirs, tmpdir, 0o700, True)
    fd, path = await asyncio.to_thread(tempfile.mkstemp, ".tar", "image-import-", tmpdir)
    try:
        with os.fdopen(fd, "wb") as f:
            async for req in requests:
                if req.WhichOneof("request") != "image_chunk":
                    raise InvalidArgument("after the first message only image_chunk may come")
                await asyncio.to_thread(f.write, req.image_chunk.bytes)
        rc, out, err = await _ctr(node, sock, ns, "images", "import", path,
                                  limit=PULL_TIMEOUT)
    finally:
        await asyncio.to_thread(_unlink, path)
    if rc != 0:
        raise InvalidArgument(f"import: {_ctr_reason(err, rc)}")
    # ctr prints 'unpacking NAME (sha256:...)...done' per image
    names = [line.split()[1] for line in out.splitlines()
             if line.startswith("unpacking ") and len(line.split()) > 2]
    if not names:
        raise InvalidArgument("import: the tarball held no named image")
    return names[0]


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


# -- the services -----------------------------------------------------------------------------

Ctx: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"


class ImageServicer(image_pb2_grpc.ImageServiceServicer):
    """machine.ImageService: replies carry no metadata (apid proxies it to one node)."""

    def __init__(self, node: NodeAPI) -> None:
        self.node = node

    async def List(self, request: image_pb2.ImageServiceListRequest, context: Ctx
                   ) -> AsyncIterator[image_pb2.ImageServiceListResponse]:
        for img in await list_images(self.node, instance_namespace(request.containerd)):
            yield image_pb2.ImageServiceListResponse(
                name=img.name, digest=img.digest, size=img.size, created_at=img.created_at,
                labels=dict(img.labels))

    async def Pull(self, request: image_pb2.ImageServicePullRequest, context: Ctx
                   ) -> AsyncIterator[image_pb2.ImageServicePullResponse]:
        img = await pull(self.node, instance_namespace(request.containerd), request.image_ref)
        yield image_pb2.ImageServicePullResponse(name=img.name)

    async def Import(self, request_iterator: AsyncIterator[
                         image_pb2.ImageServiceImportRequest], context: Ctx
                     ) -> image_pb2.ImageServiceImportResponse:
        return image_pb2.ImageServiceImportResponse(
            name=await import_image(self.node, request_iterator))

    async def Remove(self, request: image_pb2.ImageServiceRemoveRequest, context: Ctx
                     ) -> empty_pb2.Empty:
        await remove_image(self.node, instance_namespace(request.containerd),
                           normalize(request.image_ref))
        return empty_pb2.Empty()

    async def Verify(self, request: image_pb2.ImageServiceVerifyRequest, context: Ctx
                     ) -> image_pb2.ImageServiceVerifyResponse:
        cfg = self.node.config()
        return image_verify.verify(cfg.config if cfg is not None else None, request)


class ImageMethods:
    """MachineService ImageList / ImagePull (the API before ImageService), mixed into
    MachineServicer."""

    node: NodeAPI

    async def ImageList(self, request: m.ImageListRequest, context: Ctx
                        ) -> AsyncIterator[m.ImageListResponse]:
        md = common_pb2.Metadata(hostname=self.node.hostname)
        for img in await list_images(self.node, namespace(request.namespace)):
            yield m.ImageListResponse(metadata=md, name=img.name, digest=img.digest,
                                      size=img.size, created_at=img.created_at)

    async def ImagePull(self, request: m.ImagePullRequest, context: Ctx
                        ) -> m.ImagePullResponse:
        await pull(self.node, namespace(request.namespace), request.reference)
        return m.ImagePullResponse(messages=[m.ImagePull(
            metadata=common_pb2.Metadata(hostname=self.node.hostname))])
