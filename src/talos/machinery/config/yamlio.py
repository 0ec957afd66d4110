"""Round-trip YAML for machine configs: parse keeping comments/order/quotes, dump in the
file's own indentation style, convert to plain Python for validation."""

from __future__ import annotations

import datetime
import io
import re
import threading
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarfloat import ScalarFloat
from ruamel.yaml.scalarint import ScalarInt

from talos.machinery.errors import InvalidConfig, Problem
from talos.machinery.goyaml import describe_error


@dataclass(frozen=True)
class Style:
    """Indentation of a YAML file, as ruamel's `indent(mapping, sequence, offset)` wants it."""

    mapping: int = 2
    sequence: int = 4
    offset: int = 2
    explicit_start: bool = False


_KEY_LINE = re.compile(r"^(\s*)(- )?[^\s#][^:]*:\s*(#.*)?$")
_SURROGATE = re.compile("[\ud800-\udfff]")


def guess_style(text: str) -> Style:
    """Read the indentation from the first nested mapping and the first nested list."""
    mapping: int | None = None
    offset: int | None = None
    parent: int | None = None  # indent of a `key:` line opening a block
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#") or stripped.startswith("---"):
            continue
        indent = len(line) - len(stripped)
        if parent is not None:
            if stripped.startswith("- ") or stripped == "-":
                if offset is None and indent >= parent:
                    offset = indent - parent
            elif mapping is None and indent > parent:
                mapping = indent - parent
        if mapping is not None and offset is not None:
            break
        match = _KEY_LINE.match(line)
        parent = None
        if match:
            parent = indent + (2 if match.group(2) else 0)
    m = mapping or 2
    o = offset if offset is not None else m
    return Style(mapping=m, sequence=o + 2, offset=o,
                 explicit_start=text.lstrip().startswith("---"))


def _represent_float(representer: RoundTripRepresenter, data: ScalarFloat) -> Any:
    """ruamel re-formats some exponent floats with a different last digit; keep the value."""
    node = representer.represent_scalar_float(data)
    try:
        same = float(str(node.value).replace("_", "")) == float(data)
    except ValueError:  # .inf / .nan spellings
        same = True
    if same:
        return node
    return representer.represent_scalar("tag:yaml.org,2002:float", repr(float(data)))


def _yaml(style: Style | None = None) -> YAML:
    y = YAML(typ="rt")
    y.representer.add_representer(ScalarFloat, _represent_float)
    y.preserve_quotes = True
    y.width = 1 << 16
    if style is not None:
        y.indent(mapping=style.mapping, sequence=style.sequence, offset=style.offset)
        y.explicit_start = style.explicit_start
    return y


_loaders = threading.local()


def _loader() -> YAML:
    """This thread's round-trip loader, made once: a new YAML instance builds its resolver
    and constructor again at its first load (~0.1 ms, a fifth of parsing a small patch).
    Loading leaves nothing behind in it (load_all resets its reader, scanner and parser)."""
    y: YAML | None = getattr(_loaders, "yaml", None)
    if y is None:
        y = _loaders.yaml = _yaml()
    return y


def _decode(data: str | bytes, source: str) -> str:
    if isinstance(data, bytes):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InvalidConfig([Problem("", f"not UTF-8 text (byte {e.start})")],
                                source=source) from None
    return data


def parse_all(data: str | bytes, *, source: str) -> tuple[list[Any], Style]:
    """Every document of a YAML stream (round-trip nodes); syntax errors name line:column."""
    text = _decode(data, source)
    try:
        docs = list(_loader().load_all(text))
    except MarkedYAMLError as e:
        raise InvalidConfig([Problem("", "YAML syntax error at "
                                     + describe_error(e, context=True))],
                            source=source) from None
    except YAMLError as e:
        raise InvalidConfig([Problem("", f"YAML syntax error: {e}")], source=source) from None
    return docs, guess_style(text)


def dump_all(documents: list[Any], style: Style) -> str:
    buf = io.StringIO()
    y = _yaml(style)
    if len(documents) == 1:
        y.dump(documents[0], buf)
    else:
        y.dump_all(documents, buf)
    return buf.getvalue()


def to_plain(node: Any) -> Any:
    """ruamel node -> plain dict/list/str/int/float/bool/None (what the models validate)."""
    if isinstance(node, dict):
        return {(to_plain(k) if not isinstance(k, str) else _unpaired(str(k))): to_plain(v)
                for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return _go_int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return _unpaired(str(node))
    if isinstance(node, datetime.date | datetime.datetime):
        return node.isoformat()
    value = getattr(node, "value", None)  # TaggedScalar and friends
    return str(value) if value is not None else str(node)


def _unpaired(text: str) -> str:
    """Join `\\ud83d\\ude00`-style surrogate escapes into the character they spell."""
    # one C-level scan (a per-character generator was a third of a patch run's time on a
    # config full of base64 certificates)
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    try:
        return text.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        raise InvalidConfig([Problem("", "invalid Unicode in a string: unpaired surrogate "
                                     "escape")]) from None


def _go_int(node: int) -> int:
    """`0644` is octal for Talos's (Go) YAML decoder, decimal for YAML 1.2: follow Go."""
    width = getattr(node, "_width", None)
    digits = str(int(node))
    if type(node) is ScalarInt and width and width > len(digits) and int(node) > 0:
        text = digits.rjust(width, "0")
        if set(text) <= set("01234567"):
            return int(text, 8)
    return int(node)


def to_node(value: Any) -> Any:
    """plain value -> round-trip node (so new parts dump in block style)."""
    if isinstance(value, CommentedMap | CommentedSeq):
        return value
    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = to_node(v)
        return m
    if isinstance(value, list):
        return CommentedSeq(to_node(v) for v in value)
    return value
