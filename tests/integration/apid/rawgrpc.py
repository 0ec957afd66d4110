"""One gRPC call written by hand as HTTP/2 frames, so a test can send what no gRPC client
would: a length prefix claiming 4 GiB, a compressed flag without an encoding.

Just enough HTTP/2 and HPACK for one call on a fresh connection: headers are sent as
literals, and the reply's header blocks are read as grpc servers write them on a fresh
connection (literals, no Huffman coding); anything else fails the test loudly.
"""

from __future__ import annotations

import asyncio
import ssl
import struct
from dataclasses import dataclass

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, CONTINUATION = 0, 1, 3, 4, 6, 7, 9
END_STREAM, END_HEADERS = 0x1, 0x4
#: the few HPACK static-table entries a gRPC reply refers to by index
STATIC = {8: (":status", "200"), 31: ("content-type", "")}


@dataclass(frozen=True)
class RawReply:
    status: int | None          # grpc-status; None when the stream was reset instead
    message: str
    reset_code: int | None = None


def _frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + \
        struct.pack(">I", stream) + payload


def _literal(name: str, value: str) -> bytes:
    n, v = name.encode(), value.encode()
    assert len(n) < 127 and len(v) < 127
    return b"\x00" + bytes([len(n)]) + n + bytes([len(v)]) + v


def _int(buf: bytes, pos: int, bits: int) -> tuple[int, int]:
    mask = (1 << bits) - 1
    value = buf[pos] & mask
    pos += 1
    if value < mask:
        return value, pos
    shift = 0
    while True:
        b = buf[pos]
        pos += 1
        value += (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def _string(buf: bytes, pos: int) -> tuple[str, int]:
    if buf[pos] & 0x80:
        raise AssertionError(f"Huffman-coded header string (not decoded here): {buf!r}")
    length, pos = _int(buf, pos, 7)
    return buf[pos:pos + length].decode(), pos + length


def decode_headers(block: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(block):
        b = block[pos]
        if b & 0x80:  # indexed field
            index, pos = _int(block, pos, 7)
            if index not in STATIC:
                raise AssertionError(f"indexed header {index} (not decoded here): {block!r}")
            name, value = STATIC[index]
            out[name] = value
            continue
        if b & 0xE0 == 0x20:  # dynamic table size update
            _, pos = _int(block, pos, 5)
            continue
        bits = 6 if b & 0x40 else 4
        index, pos = _int(block, pos, bits)
        if index:
            if index not in STATIC:
                raise AssertionError(f"header name {index} (not decoded here): {block!r}")
            name = STATIC[index][0]
        else:
            name, pos = _string(block, pos)
        value, pos = _string(block, pos)
        out[name] = value
    return out


async def call(host: str, port: int, path: str, body: bytes, *,
               ssl_context: ssl.SSLContext | None = None, unix: str | None = None,
               reply_within: float = 30.0) -> RawReply:
    """POST `body` (the gRPC message frames, prefix included) to `path`; the reply's status."""
    if unix is not None:
        reader, writer = await asyncio.open_unix_connection(unix)
    else:
        reader, writer = await asyncio.open_connection(host, port, ssl=ssl_context)
    try:
        headers = b"".join(_literal(k, v) for k, v in (
            (":method", "POST"), (":scheme", "https" if ssl_context else "http"),
            (":path", path), (":authority", f"{host}:{port}"),
            ("content-type", "application/grpc"), ("te", "trailers")))
        writer.write(PREFACE + _frame(SETTINGS, 0, 0, b"")
                     + _frame(HEADERS, END_HEADERS, 1, headers)
                     + _frame(DATA, END_STREAM, 1, body))
        await writer.drain()
        return await asyncio.wait_for(_read_reply(reader, writer), reply_within)
    finally:
        writer.transport.abort()  # no TLS close handshake: the call is over


async def _read_reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                      ) -> RawReply:
    fields: dict[str, str] = {}
    block = b""
    while True:
        head = await reader.readexactly(9)
        length = int.from_bytes(head[:3], "big")
        kind, flags = head[3], head[4]
        stream = int.from_bytes(head[5:9], "big") & 0x7FFFFFFF
        payload = await reader.readexactly(length)
        if kind == SETTINGS and not flags & 1:
            writer.write(_frame(SETTINGS, 1, 0, b""))  # ack
        elif kind == PING and not flags & 1:
            writer.write(_frame(PING, 1, 0, payload))
        elif kind == GOAWAY:
            raise AssertionError(f"connection closed by the server (GOAWAY {payload!r})")
        elif stream == 1 and kind == RST_STREAM:
            return RawReply(None, "", int.from_bytes(payload[:4], "big"))
        elif stream == 1 and kind in (HEADERS, CONTINUATION):
            if kind == HEADERS and flags & 0x20:  # priority fields
                payload = payload[5:]
            if kind == HEADERS and flags & 0x8:  # padded
                payload = payload[1:len(payload) - payload[0]]
            block += payload
            if flags & END_HEADERS:
                fields.update(decode_headers(block))
                block = b""
            if flags & END_STREAM or "grpc-status" in fields:
                return RawReply(int(fields.get("grpc-status", "-1")),
                                fields.get("grpc-message", ""))
