"""Request bytes -> protobuf message at a server's boundary; bytes that are not a message
of the method's request type are the caller's mistake (INVALID_ARGUMENT), never a crash.

grpcio decodes a request with the handler's `request_deserializer` before the handler runs
and reports a deserializer's exception itself as UNKNOWN "Unexpected <class ...>". So the
deserializer is wrapped: it returns `Undecodable` instead of raising, and the handler wrapper
(`talos.nodeserver.boundary`) refuses the call with `MalformedRequest`. Oversized requests
never get here: gRPC refuses a length prefix beyond the receive limit (RESOURCE_EXHAUSTED)
before reading or allocating the message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError

from talos.machinery.errors import InvalidArgument


class MalformedRequest(InvalidArgument):
    """The request bytes are not a valid encoding of the method's request message."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name
        super().__init__(f"malformed request: cannot decode {type_name} (the bytes are not "
                         "a valid protobuf encoding of it)")


@dataclass(frozen=True)
class Undecodable:
    """What a guarded deserializer returns for bytes that do not decode."""

    type_name: str

    def error(self) -> MalformedRequest:
        return MalformedRequest(self.type_name)


def type_name_of(deserializer: Callable[[bytes], Any], fallback: str) -> str:
    """The protobuf type a generated deserializer (`X.FromString`) decodes."""
    owner = getattr(deserializer, "__self__", None)
    descriptor = getattr(owner, "DESCRIPTOR", None)
    name = getattr(descriptor, "full_name", None)
    return name if isinstance(name, str) and name else fallback


def guarded(deserializer: Callable[[bytes], Any], type_name: str
            ) -> Callable[[bytes], Any]:
    """`deserializer`, returning `Undecodable(type_name)` where it would raise DecodeError."""
    def decode_request(raw: bytes) -> Any:
        try:
            return deserializer(raw)
        except DecodeError:
            return Undecodable(type_name)
    return decode_request
