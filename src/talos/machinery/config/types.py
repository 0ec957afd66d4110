"""Scalar types shared by the config documents, with the leniency of Talos's YAML decoder.

Talos decodes any YAML scalar into a string field (`extraArgs: {v: 2}` is the string "2"),
so `Str` accepts numbers and booleans and keeps their YAML spelling. Values that Talos parses
(CIDRs, IPs, durations, URLs, sizes) get validators whose messages name the bad value.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import urllib.parse
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationInfo
from pydantic.alias_generators import to_camel


def _scalar_to_str(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


#: a string field that also takes unquoted numbers/booleans, as Talos does
Str = Annotated[str, BeforeValidator(_scalar_to_str)]


#: what redaction puts in place of a secret (redact.REDACTED): a redacted copy of a config
#: is loaded too (for readers), its base64 fields then hold this marker
REDACTION_MARKER = "******"


def _base64(value: str, info: ValidationInfo) -> str:
    # Go's base64.StdEncoding (Talos's Base64Bytes) skips CR and LF, wants padding and
    # nothing outside the alphabet; the value itself (a key, often) is never repeated
    if value == REDACTION_MARKER and isinstance(info.context, dict) \
            and info.context.get("redacted"):
        return value
    try:
        base64.b64decode(value.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not valid base64 (expected a base64-encoded PEM block)") from None
    return value


#: a base64-encoded value (certificates and keys), decoded as Talos's Base64Bytes does: a
#: value that does not decode is refused when the config is loaded, not when it is used
Base64 = Annotated[str, BeforeValidator(_scalar_to_str), AfterValidator(_base64)]

#: Unstructured YAML (Kubernetes objects embedded in the config), never checked
Unstructured = dict[str, Any]


class Model(BaseModel):
    """Base of every config model: camelCase YAML keys, unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True,
                              frozen=True, coerce_numbers_to_str=True)


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_interface(value)
    except ValueError:
        raise ValueError(f"invalid CIDR {value!r}".replace("'", '"')) from None
    return value


def _cidr_strict(value: str) -> str:
    if "/" not in value:
        raise ValueError(f'invalid CIDR "{value}": expected address/prefix')
    return _cidr(value)


def _ip(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(f'invalid IP address "{value}"') from None
    return value


def _subnet_filter(value: str) -> str:
    """`10.0.0.0/8` or `!10.0.0.0/8` (negative match), or a single address."""
    body = value[1:] if value.startswith("!") else value
    try:
        ipaddress.ip_network(body, strict=False)
    except ValueError:
        raise ValueError(f'invalid subnet "{value}"') from None
    return value


_DURATION = re.compile(r"^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$|^0$")


def _duration(value: str) -> str:
    if not _DURATION.match(value):
        raise ValueError(f'invalid duration "{value}": expected e.g. "30s", "5m", "1h30m"')
    return value


def _url(value: str) -> str:
    parsed = urllib.parse.urlsplit(value)
    if not parsed.scheme or not parsed.netloc:
        raise ValueError(f'invalid URL "{value}": expected scheme://host[:port][/path]')
    return value


_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*([kKmMgGtTpPeE]i?[bB]?|[bB])?\s*$")
_SIZE_PARTS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtTpPeE]?)(i?)[bB]?\s*$")
_PERCENT = re.compile(r"^-?\d+(\.\d+)?%$")


def size_bytes(value: str) -> int:
    """Bytes of a size ("100MB" = 10^8, "2GiB" = 2*2^30), as humanize.ParseBytes reads it."""
    m = _SIZE_PARTS.match(value)
    if m is None:
        raise ValueError(f'invalid size "{value}"')
    power = " KMGTPE".index(m.group(2).upper() or " ")
    return int(float(m.group(1)) * (1024 if m.group(3) else 1000) ** power)


def _volume_size(value: str) -> str:
    """A volume's maxSize: bytes, or a share of the disk ("50%"); "-" counts from the end."""
    body = value.removeprefix("-")
    if "%" in value:
        if not _PERCENT.match(value):
            raise ValueError(f'invalid size "{value}": expected a percentage like "50%"')
        return value
    _size(body)
    return value


def _size(value: str) -> str:
    if not _SIZE.match(value):
        raise ValueError(f'invalid size "{value}": expected bytes or e.g. "100MB", "2.5GiB"')
    return value


def _size_matcher(value: str) -> str:
    body = value.strip()
    for op in (">=", "<=", "==", ">", "<"):
        if body.startswith(op):
            body = body[len(op):]
            break
    _size(body)
    return value


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
                  "h": 3600.0}


def duration_seconds(value: str) -> float:
    """Seconds of a Go duration ("1h30m" = 5400.0); the value passed the Duration check."""
    sign = -1.0 if value.startswith("-") else 1.0
    return sign * sum(float(n) * _DURATION_UNIT[u] for n, u in _DURATION_PART.findall(value))


#: an address with optional prefix length (`10.5.0.1/24`, `192.168.3.7`)
Address = Annotated[Str, AfterValidator(_cidr)]
#: a network in CIDR notation (`10.244.0.0/16`)
CIDR = Annotated[Str, AfterValidator(_cidr_strict)]
IP = Annotated[Str, AfterValidator(_ip)]
SubnetFilter = Annotated[Str, AfterValidator(_subnet_filter)]
Duration = Annotated[Str, AfterValidator(_duration)]
URL = Annotated[Str, AfterValidator(_url)]
ByteSize = Annotated[Str, AfterValidator(_size)]
SizeMatcher = Annotated[Str, AfterValidator(_size_matcher)]
#: bytes or a percentage of the disk (a volume's `maxSize`)
VolumeSize = Annotated[Str, AfterValidator(_volume_size)]


def one_of(*allowed: str) -> AfterValidator:
    """A validator accepting exactly `allowed` (message lists them)."""
    choices = ", ".join(f'"{a}"' for a in allowed)

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f'invalid value "{value}": expected one of {choices}')
        return value

    return AfterValidator(check)
