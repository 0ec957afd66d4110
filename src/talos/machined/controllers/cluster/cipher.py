"""Affiliate data as the discovery service carries it: `sidero.discovery.client.Affiliate`
marshalled and sealed with AES-GCM, as siderolabs/discovery-client does.

The key is `cluster.secret` base64-decoded (32 bytes: AES-256), the nonce is 12 random bytes
put in front of the ciphertext (`nonce || ciphertext || tag`). The service only ever sees
these bytes; a node without the cluster secret can neither read nor forge them.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError

from talos.api.discovery.client import affiliate_pb2 as pb
from talos.machinery.errors import InvalidArgument
from talos.machinery.resources.cluster import AffiliateSpec, ControlPlaneSpec

NONCE_SIZE = 12


class DecryptError(ValueError):
    """Affiliate data that does not open with our key (another cluster's, or tampered)."""


def key_from_secret(secret: str) -> bytes:
    """`cluster.secret` -> the AES key (its base64 decoding, 16/24/32 bytes)."""
    try:
        key = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgument("cluster.secret: expected base64 (32 random bytes, as "
                              "`talosctl gen secrets` makes)") from None
    if len(key) not in (16, 24, 32):
        raise InvalidArgument(f"cluster.secret: decodes to {len(key)} bytes, expected an AES "
                              "key of 16, 24 or 32 bytes")
    return key


def seal(key: bytes, plaintext: bytes) -> bytes:
    nonce = os.urandom(NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, None)


def open_sealed(key: bytes, data: bytes) -> bytes:
    if len(data) < NONCE_SIZE + 16:
        raise DecryptError("affiliate data too short")
    try:
        return AESGCM(key).decrypt(data[:NONCE_SIZE], data[NONCE_SIZE:], None)
    except InvalidTag:
        raise DecryptError("affiliate data does not decrypt with this cluster's key") from None


def to_pb(spec: AffiliateSpec) -> pb.Affiliate:
    msg = pb.Affiliate(node_id=spec.node_id, hostname=spec.hostname, nodename=spec.nodename,
                       machine_type=spec.machine_type, operating_system=spec.operating_system,
                       addresses=[ipaddress.ip_address(a.split("%", 1)[0]).packed
                                  for a in spec.addresses])
    if spec.control_plane is not None:
        msg.control_plane.api_server_port = spec.control_plane.api_server_port
    return msg


def from_pb(msg: pb.Affiliate) -> AffiliateSpec:
    addresses = []
    for raw in msg.addresses:
        if len(raw) in (4, 16):  # anything else is skipped, as upstream does
            addresses.append(str(ipaddress.ip_address(raw)))
    machine_type = msg.machine_type if msg.machine_type in (
        "controlplane", "worker", "init") else "unknown"
    return AffiliateSpec(
        node_id=msg.node_id, addresses=tuple(addresses), hostname=msg.hostname,
        nodename=msg.nodename, operating_system=msg.operating_system,
        machine_type=machine_type,
        control_plane=(ControlPlaneSpec(msg.control_plane.api_server_port)
                       if msg.HasField("control_plane") else None))


def encrypt_affiliate(key: bytes, spec: AffiliateSpec) -> bytes:
    return seal(key, to_pb(spec).SerializeToString())


def decrypt_affiliate(key: bytes, data: bytes) -> AffiliateSpec:
    plain = open_sealed(key, data)
    msg = pb.Affiliate()
    try:
        msg.ParseFromString(plain)
    except DecodeError as e:
        raise DecryptError(f"affiliate data is not an Affiliate message: {e}") from None
    return from_pb(msg)
