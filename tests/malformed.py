"""Request bodies that are not a valid protobuf encoding of a given message type, and what
a server's answer to them must never contain.

A known field sent with another *valid* wire type is not malformed: protobuf (Go's too)
keeps it as an unknown field and the request decodes as if the field were unset. So the
wire-type shapes here use wire types no field can have (6, 7) or an unterminated group.
Every body is checked here not to decode, so none can run the method by chance.
"""

from __future__ import annotations

import random

from google.protobuf import symbol_database
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

#: what must never reach a caller
LEAKS = ("<class", "Traceback", "DecodeError", "Exception", "Error:")
GIB4 = 0xFFFFFFFF
_LEN_TYPES = (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES,
              FieldDescriptor.TYPE_MESSAGE)


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def message_class(full_name: str) -> type[Message]:
    cls: type[Message] = symbol_database.Default().GetSymbol(full_name)
    return cls


def filled(cls: type[Message]) -> bytes:
    """A valid, non-empty encoding of `cls`: its first singular string, bytes or message
    field set, then an unknown field 15 (or only that when there is no such field)."""
    tail = varint(15 << 3 | 2) + b"\x05extra"
    for f in cls.DESCRIPTOR.fields:
        if not f.is_repeated and f.type in _LEN_TYPES:
            inner = b"" if f.type == FieldDescriptor.TYPE_MESSAGE else b"hello, node"
            return varint(f.number << 3 | 2) + varint(len(inner)) + inner + tail
    return tail


def bodies(cls: type[Message], rng: random.Random, *, randoms: int = 3
           ) -> list[tuple[str, bytes]]:
    """(shape, bytes) that do not decode as `cls`."""
    numbers = [f.number for f in cls.DESCRIPTOR.fields] or [1]
    valid = filled(cls)
    shapes: list[tuple[str, bytes]] = [
        ("truncated", valid[:-1]),
        ("truncated-length", valid[:2]),
        ("truncated-varint", b"\x08\x80"),
        ("overlong-varint", b"\x08" + b"\xff" * 11),
        ("huge-length", varint(numbers[0] << 3 | 2) + varint(GIB4) + b"abc"),
        ("huge-length-64bit", varint(numbers[-1] << 3 | 2) + varint((1 << 63) - 1) + b"x"),
        ("field-number-0", b"\x02\x01x"),
        ("unterminated-group", varint(numbers[0] << 3 | 3) + b"\x08\x01"),
        ("stray-end-group", varint(numbers[-1] << 3 | 4)),
    ]
    shapes += [(f"wire-type-{wt}-field-{n}", varint(n << 3 | wt) + b"\x01")
               for wt in (6, 7) for n in numbers[:2]]
    shapes += [("random", rng.randbytes(rng.randint(1, 64))) for _ in range(randoms)]
    out = []
    for shape, body in shapes:
        try:
            cls.FromString(body)
        except DecodeError:
            out.append((shape, body))
    return out


def leaks(what: str, code_name: str, details: str) -> list[str]:
    """What is wrong with an answer: UNKNOWN, or internals in its details."""
    bad = []
    if code_name == "UNKNOWN":
        bad.append(f"{what}: UNKNOWN {details!r}")
    if any(leak in details for leak in LEAKS):
        bad.append(f"{what}: details leak internals: {details!r}")
    return bad
