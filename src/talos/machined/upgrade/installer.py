"""An installer image in the node's containerd: which manifest, which version, which layer,
and the layer's bytes, copied out of containerd's content store (its gRPC Content API) and
checked against the digest the manifest names.

The image is the one `python -m talos imager installer --push` makes (talos.imager.oci): one
layer carrying the boot assets under usr/install/amd64/ with their SHA256SUMS; the config's
`org.opencontainers.image.version` label is the version the image boots into.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

import grpc

from talos.api.containerd.services.content.v1 import content_pb2, content_pb2_grpc
from talos.api.containerd.services.images.v1 import images_pb2, images_pb2_grpc
from talos.machined.upgrade.target import DigestMismatch
from talos.machinery.errors import FailedPrecondition, InvalidArgument, NotFound

TIMEOUT = 10.0
#: reading a layer of a few hundred MB from the local content store
LAYER_TIMEOUT = 600.0
VERSION_LABEL = "org.opencontainers.image.version"
ASSET_DIR = "usr/install/amd64"
SUMS = "SHA256SUMS"
_MANIFESTS = ("application/vnd.oci.image.manifest.v1+json",
              "application/vnd.docker.distribution.manifest.v2+json")
_INDEXES = ("application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json")
_LAYERS = ("application/vnd.oci.image.layer.v1.tar",
           "application/vnd.oci.image.layer.v1.tar+gzip",
           "application/vnd.docker.image.rootfs.diff.tar.gzip")


@dataclass(frozen=True)
class Layer:
    digest: str
    size: int
    media_type: str


@dataclass(frozen=True)
class InstallerImage:
    name: str
    #: the manifest's digest (what `image list` shows)
    digest: str
    #: the version it boots into (config label, else the reference's tag)
    tag: str
    layer: Layer


def _ref_tag(name: str) -> str:
    last = name.rsplit("/", 1)[-1].split("@", 1)[0]
    return last.rsplit(":", 1)[1] if ":" in last else ""


class ContentStore:
    """containerd's images and content API on its unix socket, in one namespace."""

    def __init__(self, socket: str, namespace: str) -> None:
        self.socket = socket
        self.md = (("containerd-namespace", namespace),)

    def _channel(self) -> grpc.aio.Channel:
        if not os.path.exists(self.socket):
            raise FailedPrecondition(f"containerd is not running on this node (no socket at "
                                     f"{self.socket})")
        return grpc.aio.insecure_channel(f"unix:{self.socket}")

    async def read(self, digest: str) -> bytes:
        async with self._channel() as ch:
            stub = content_pb2_grpc.ContentStub(ch)
            parts = []
            try:
                async for part in stub.Read(content_pb2.ReadContentRequest(digest=digest),
                                            metadata=self.md, timeout=TIMEOUT):
                    parts.append(part.data)
            except grpc.aio.AioRpcError as e:
                raise self._error(e, f"blob {digest}") from None
        data = b"".join(parts)
        _check("blob", digest, hashlib.sha256(data).hexdigest(), len(data), None)
        return data

    def _error(self, e: grpc.aio.AioRpcError, what: str) -> Exception:
        if e.code() == grpc.StatusCode.NOT_FOUND:
            return NotFound(f"{what} is not in the node's containerd: pull the image first")
        return FailedPrecondition(f"containerd at {self.socket}: {e.code().name}: "
                                  f"{e.details()}")

    async def resolve(self, name: str) -> InstallerImage:
        async with self._channel() as ch:
            try:
                got = await images_pb2_grpc.ImagesStub(ch).Get(
                    images_pb2.GetImageRequest(name=name), metadata=self.md, timeout=TIMEOUT)
            except grpc.aio.AioRpcError as e:
                raise self._error(e, f"image {name}") from None
        target = got.image.target
        media, digest = target.media_type, target.digest
        doc = self._json(await self.read(digest), name, "manifest")
        if media in _INDEXES:
            manifests = doc.get("manifests") or []
            chosen = next((m for m in manifests
                           if (m.get("platform") or {}).get("architecture") in ("amd64", None)),
                          None)
            if chosen is None:
                raise InvalidArgument(f"image {name} has no linux/amd64 manifest")
            media, digest = str(chosen.get("mediaType", "")), str(chosen.get("digest", ""))
            doc = self._json(await self.read(digest), name, "manifest")
        if media not in _MANIFESTS:
            raise InvalidArgument(f"image {name}: manifest type {media!r} is not an image "
                                  "manifest")
        layers = doc.get("layers") or []
        if len(layers) != 1 or layers[0].get("mediaType") not in _LAYERS:
            raise InvalidArgument(f"image {name} is not an installer image (expected one tar "
                                  f"layer, found {len(layers)} layers)")
        config = self._json(await self.read(str((doc.get("config") or {}).get("digest", ""))),
                            name, "config")
        labels = (config.get("config") or {}).get("Labels") or {}
        tag = str(labels.get(VERSION_LABEL) or _ref_tag(name))
        if not tag:
            raise InvalidArgument(f"image {name} names no version (label {VERSION_LABEL})")
        return InstallerImage(name=name, digest=digest, tag=tag, layer=Layer(
            str(layers[0]["digest"]), int(layers[0].get("size", 0)),
            str(layers[0]["mediaType"])))

    @staticmethod
    def _json(data: bytes, name: str, what: str) -> dict[str, Any]:
        try:
            doc = json.loads(data)
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise InvalidArgument(f"image {name}: its {what} is not a JSON document")
        return doc

    async def copy_layer(self, layer: Layer, dest: str) -> None:
        """Stream the layer into `dest` (a new file), checking its sha256 and size against
        the manifest's descriptor; DigestMismatch (and no `dest`) when they differ."""
        h = hashlib.sha256()
        size = 0
        f = await asyncio.to_thread(open, dest, "xb")
        try:
            async with self._channel() as ch:
                stub = content_pb2_grpc.ContentStub(ch)
                try:
                    async for part in stub.Read(
                            content_pb2.ReadContentRequest(digest=layer.digest),
                            metadata=self.md, timeout=LAYER_TIMEOUT):
                        h.update(part.data)
                        size += len(part.data)
                        await asyncio.to_thread(f.write, part.data)
                except grpc.aio.AioRpcError as e:
                    raise self._error(e, f"layer {layer.digest}") from None
            await asyncio.to_thread(f.flush)
            _check("layer", layer.digest, h.hexdigest(), size, layer.size)
        except BaseException:
            await asyncio.to_thread(f.close)
            await asyncio.to_thread(_unlink, dest)
            raise
        await asyncio.to_thread(f.close)


def _check(what: str, digest: str, got_hex: str, size: int, want_size: int | None) -> None:
    algo, _, want_hex = digest.partition(":")
    if algo != "sha256":
        raise InvalidArgument(f"{what} {digest}: only sha256 digests are supported")
    if want_size is not None and size != want_size:
        raise DigestMismatch(f"{what} {digest}: read {size} bytes, the manifest says "
                             f"{want_size}")
    if got_hex != want_hex:
        raise DigestMismatch(f"{what} {digest}: its content hashes to sha256:{got_hex}")


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
