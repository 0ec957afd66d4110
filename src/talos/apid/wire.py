"""The Talos response envelope, patched at the protobuf wire level (no schema needed).

Every unary reply is `XResponse { repeated X messages = 1; }` and every X (and every message
of a Talos stream) carries `common.Metadata metadata = 1` with `hostname = 1`, `error = 2`,
`status = 3` (`google.rpc.Status{code = 1, message = 2}`). apid stamps the hostname of the
node that answered and builds per-node error messages without decoding the payload, so any
method that follows the envelope fans out, including ones added to the protos later.
"""

from __future__ import annotations

from collections.abc import Iterator

from talos.machinery.errors import InvalidArgument

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise InvalidArgument("protobuf message: truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise InvalidArgument("protobuf message: varint too long")


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _len_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | _LEN) + _varint(len(payload)) + payload


def fields(buf: bytes) -> Iterator[tuple[int, int, bytes, bytes]]:
    """Top-level fields as (number, wire type, whole encoded field, payload).

    The payload of a length-delimited field is its bytes; of other types, the raw value.
    """
    pos = 0
    n = len(buf)
    while pos < n:
        start = pos
        key, pos = _read_varint(buf, pos)
        number, wtype = key >> 3, key & 7
        if number == 0:
            raise InvalidArgument("protobuf message: field number 0")
        if wtype == _VARINT:
            vstart = pos
            _, pos = _read_varint(buf, pos)
            payload = buf[vstart:pos]
        elif wtype == _I64:
            payload, pos = buf[pos:pos + 8], pos + 8
        elif wtype == _I32:
            payload, pos = buf[pos:pos + 4], pos + 4
        elif wtype == _LEN:
            length, pos = _read_varint(buf, pos)
            payload, pos = buf[pos:pos + length], pos + length
        else:
            raise InvalidArgument(f"protobuf message: unsupported wire type {wtype}")
        if pos > n:
            raise InvalidArgument("protobuf message: truncated field")
        yield number, wtype, buf[start:pos], payload


def metadata(hostname: str, error: str = "", code: int = 0) -> bytes:
    """An encoded `common.Metadata` (status set when `code` is non-zero)."""
    out = _len_field(1, hostname.encode()) if hostname else b""
    if error:
        out += _len_field(2, error.encode())
    if code:
        status = _varint(1 << 3 | _VARINT) + _varint(code) + _len_field(2, error.encode())
        out += _len_field(3, status)
    return out


def stamp_message(msg: bytes, hostname: str) -> bytes:
    """Set `metadata.hostname` (field 1 of field 1) of one message X, keeping everything else."""
    meta_parts: list[bytes] = []
    rest: list[bytes] = []
    for number, wtype, whole, payload in fields(msg):
        if number == 1 and wtype == _LEN:
            meta_parts.append(payload)
        else:
            rest.append(whole)
    # Repeated occurrences of a message field merge; drop any hostname already set.
    kept = [whole for part in meta_parts for number, _, whole, _ in fields(part) if number != 1]
    meta = _len_field(1, hostname.encode()) + b"".join(kept)
    return _len_field(1, meta) + b"".join(rest)


def stamp_reply(reply: bytes, hostname: str) -> bytes:
    """Stamp every element of `messages` (field 1) of a unary `XResponse`.

    A reply without messages gets one carrying only the metadata, so every node that
    answered is visible in the merged response.
    """
    out: list[bytes] = []
    seen = False
    for number, wtype, whole, payload in fields(reply):
        if number == 1 and wtype == _LEN:
            seen = True
            out.append(_len_field(1, stamp_message(payload, hostname)))
        else:
            out.append(whole)
    if not seen:
        out.append(_len_field(1, _len_field(1, metadata(hostname))))
    return b"".join(out)


def error_message(hostname: str, error: str, code: int) -> bytes:
    """One X carrying only `metadata{hostname, error, status}` (for streams)."""
    return _len_field(1, metadata(hostname, error, code))


def error_reply(hostname: str, error: str, code: int) -> bytes:
    """A unary `XResponse` with one X carrying only the per-node error."""
    return _len_field(1, error_message(hostname, error, code))
