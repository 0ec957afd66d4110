"""Config patches as Talos applies them: strategic merge (YAML fragments, multi-document,
`$patch: delete`) and RFC 6902 JSON patches, applied in order on the round-trip documents so
comments and key order survive. Each step is validated; errors name the patch and the path.

Strategic merge rules (talos-guides/configuration/patching.md): maps merge recursively,
patch scalars win, lists append, except `cluster.network.podSubnets`/`serviceSubnets` and
`cluster.apiServer.auditPolicy` (replaced), `machine.network.interfaces` (merged by
`interface` or `deviceSelector`), `...interfaces[].vlans` (by `vlanId`),
`cluster.apiServer.admissionControl` (by `name`), `ExtensionServiceConfig.configFiles` (by
`mountPath`). Patch documents match config documents by kind (+ name); new ones are appended.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from talos.machinery.config import json_patch, yamlio
from talos.machinery.config.parse import (
    V1ALPHA1,
    ConfigDocument,
    document_identity,
    parse_documents,
)
from talos.machinery.config.problems import format_path
from talos.machinery.errors import InvalidArgument, InvalidConfig, Problem

_DIRECTIVE = "$patch"

_REPLACE: dict[str, frozenset[tuple[str, ...]]] = {
    V1ALPHA1: frozenset({("cluster", "network", "podSubnets"),
                         ("cluster", "network", "serviceSubnets"),
                         ("cluster", "apiServer", "auditPolicy")}),
}

_KEYED: dict[str, dict[tuple[str, ...], tuple[str, ...]]] = {
    V1ALPHA1: {
        ("machine", "network", "interfaces"): ("interface", "deviceSelector"),
        ("machine", "network", "interfaces", "*", "vlans"): ("vlanId",),
        ("cluster", "apiServer", "admissionControl"): ("name",),
    },
    "ExtensionServiceConfig": {("configFiles",): ("mountPath",)},
}


class _PatchError(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def _strip(value: Any, path: list[str | int]) -> Any:
    """A patch value without merge directives, as a round-trip node."""
    if isinstance(value, dict):
        directive = value.get(_DIRECTIVE)
        if directive is not None and directive != "delete":
            raise _PatchError(format_path(path), f'unsupported $patch directive "{directive}" '
                              '(only "delete" is supported)')
        out = {k: _strip(v, [*path, str(k)]) for k, v in value.items() if k != _DIRECTIVE}
        node = yamlio.to_node(out)
        if hasattr(value, "ca"):
            node.ca.comment = copy.deepcopy(value.ca.comment)
            node.ca.items.update(copy.deepcopy(value.ca.items))
        return node
    if isinstance(value, list):
        return yamlio.to_node([_strip(v, [*path, i]) for i, v in enumerate(value)])
    return value


def _is_zero(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, dict):
        return not any(k != _DIRECTIVE for k in value)
    return bool(value == "" or value == 0 or value == [])


def _kind_of(value: Any) -> str:
    return "a mapping" if isinstance(value, dict) else "a list" if isinstance(value, list) \
        else "a value"


def _block_style(node: Any) -> None:
    """A `{}`/`[]` that receives content is written in block style, like the rest."""
    fa = getattr(node, "fa", None)
    if fa is not None and fa.flow_style() and len(node):
        fa.set_block_style()


def _is_delete(value: Any) -> bool:
    return isinstance(value, dict) and value.get(_DIRECTIVE) == "delete"


def _norm(path: list[str | int]) -> tuple[str, ...]:
    return tuple("*" if isinstance(p, int) else p for p in path)


def _merge_map(base: Any, patch: Any, path: list[str | int], kind: str) -> None:
    for key, pval in patch.items():
        if key == _DIRECTIVE:
            continue
        kpath = [*path, str(key)]
        if _is_delete(pval):
            if key in base:
                del base[key]
            continue
        bval = base.get(key)
        if pval is None:
            continue  # a null in a patch changes nothing (Talos: nil pointers don't merge)
        if key not in base or bval is None:
            base[key] = _strip(pval, kpath)
            _block_style(base)
        elif _is_zero(pval):
            continue  # Talos merges "", 0, [] and {} as "no change" (false does merge)
        elif _norm(kpath) in _REPLACE.get(kind, frozenset()):
            base[key] = _strip(pval, kpath)
        elif isinstance(bval, dict) and isinstance(pval, dict):
            _merge_map(bval, pval, kpath, kind)
        elif isinstance(bval, list) and isinstance(pval, list):
            before = len(bval)
            _merge_list(bval, pval, kpath, kind)
            if before and not bval:  # emptied by deletes: dropped, as Talos's encoder does
                del base[key]
            else:
                _block_style(bval)
        elif isinstance(bval, dict | list) or isinstance(pval, dict | list):
            raise _PatchError(format_path(kpath), f"merge type mismatch: the config has "
                              f"{_kind_of(bval)}, the patch has {_kind_of(pval)}")
        else:
            base[key] = _strip(pval, kpath)


def _find(base: list[Any], item: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        want = item.get(key)
        if want is None or want == "":
            continue
        plain = yamlio.to_plain(want)
        for i, candidate in enumerate(base):
            if isinstance(candidate, dict) and yamlio.to_plain(candidate.get(key)) == plain:
                return i
        return None
    return None


def _merge_list(base: list[Any], patch: list[Any], path: list[str | int], kind: str) -> None:
    keys = _KEYED.get(kind, {}).get(_norm(path))
    for index, item in enumerate(patch):
        ipath = [*path, index]
        delete = _is_delete(item)
        if keys and isinstance(item, dict):
            found = _find(base, item, keys)
            if found is not None:
                if delete:
                    del base[found]
                else:
                    _merge_map(base[found], item, [*path, found], kind)
                continue
            if delete:
                continue
        elif delete:
            wanted = yamlio.to_plain({k: v for k, v in item.items() if k != _DIRECTIVE})
            base[:] = [b for b in base if yamlio.to_plain(b) != wanted]
            continue
        base.append(_strip(item, ipath))


def _label(identity: tuple[str, str | None]) -> str:
    kind, name = identity
    if kind == V1ALPHA1:
        return "v1alpha1"
    return f"{kind}/{name}" if name else kind


def _strategic(docs: list[Any], patch_docs: list[Any]) -> list[Any]:
    seen: set[tuple[str, str | None]] = set()
    for pdoc in patch_docs:
        identity = document_identity(pdoc)
        if identity is None:
            raise _PatchError("", "a strategic merge patch document must be a mapping")
        if identity in seen:
            raise _PatchError("", f"document {_label(identity)} is patched twice in one patch")
        seen.add(identity)
        target = next((i for i, d in enumerate(docs) if document_identity(d) == identity),
                      None)
        if _is_delete(pdoc):
            if identity[0] == V1ALPHA1:
                raise _PatchError("", "the v1alpha1 document can't be deleted")
            if target is None:
                raise _PatchError("", f"document {_label(identity)} to delete not found")
            del docs[target]
            continue
        if target is None:
            docs.append(_strip(pdoc, []))
        else:
            _merge_map(docs[target], pdoc, [], identity[0])
    return docs


def _sync(node: Any, new: Any) -> Any:
    """Make round-trip `node` equal to plain `new`, keeping comments where nothing changed."""
    if isinstance(node, dict) and isinstance(new, dict):
        for key in [k for k in node if k not in new]:
            del node[key]
        for key, value in new.items():
            node[key] = _sync(node[key], value) if key in node else yamlio.to_node(value)
        return node
    if isinstance(node, list) and isinstance(new, list):
        for i, value in enumerate(new[:len(node)]):
            node[i] = _sync(node[i], value)
        del node[len(new):]
        node.extend(yamlio.to_node(v) for v in new[len(node):])
        return node
    if yamlio.to_plain(node) == new and type(yamlio.to_plain(node)) is type(new):
        return node
    return yamlio.to_node(new)


def _json_patch(docs: list[Any], ops: list[Any]) -> list[Any]:
    if len(docs) != 1:
        raise _PatchError("", "JSON patches are not supported for multi-document machine "
                          "configuration (use a strategic merge patch)")
    try:
        current = json_patch.apply(yamlio.to_plain(docs[0]), yamlio.to_plain(ops))
    except json_patch.JSONPatchError as e:
        raise _PatchError(e.where, e.message) from None
    if not isinstance(current, dict):
        raise _PatchError("", "a JSON patch must leave the document a mapping")
    return [_sync(docs[0], current)]


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate key")  # the YAML parser names it: parse it that way
    return out


def _reject(_: str) -> Any:
    raise ValueError("not JSON")  # NaN/Infinity: not JSON; parse it as YAML


def _json_ops(text: str | bytes) -> list[Any] | None:
    """A JSON patch written as JSON (what `talosctl --patch '[{"op": ...}]'` passes), read
    with the json module: the same values as the YAML parser gives it (JSON is YAML), ~300
    times faster. Anything else (YAML, duplicate keys, NaN): None, parse it as YAML."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")  # (what the YAML path accepts; it names the error)
        if not text.lstrip().startswith("["):
            return None
        ops = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError included
        return None
    return ops if isinstance(ops, list) else None


def _apply_one(docs: list[Any], text: str | bytes, source: str) -> list[Any]:
    ops = _json_ops(text)
    if ops is not None:
        patch_docs: list[Any] = [ops]
    else:
        patch_docs, _ = yamlio.parse_all(text, source=source)
        patch_docs = [d for d in patch_docs if d is not None]
    if not patch_docs:
        return docs
    try:
        if len(patch_docs) == 1 and isinstance(patch_docs[0], list):
            return _json_patch(docs, patch_docs[0])
        if not all(isinstance(d, dict) for d in patch_docs):
            raise _PatchError("", "not a patch: expected a strategic merge patch (mapping) "
                              "or a JSON patch (list of operations)")
        return _strategic(docs, patch_docs)
    except _PatchError as e:
        raise InvalidConfig([Problem(e.path, e.message)], source=source) from None
    except InvalidConfig as e:
        if e.source:
            raise
        raise InvalidConfig(e.problems, source=source) from None
    except RecursionError:
        raise InvalidConfig([Problem("", "patch is nested too deeply")], source=source
                            ) from None


def patch_documents(docs: list[Any], patches: Sequence[str | bytes], *,
                    sources: Sequence[str] | None = None, source: str = "<config>"
                    ) -> list[ConfigDocument]:
    """Apply `patches` in order to round-trip documents (modified in place) and return the
    typed documents of the result; each step is validated, an error names the patch (its
    entry in `sources`, else "patch[i]")."""
    if sources is not None and len(sources) != len(patches):
        raise InvalidArgument("sources must name every patch")
    documents = parse_documents(docs, source=source) if not patches else []
    for i, patch in enumerate(patches):
        name = sources[i] if sources is not None else f"patch[{i}]"
        docs = _apply_one(docs, patch, name)
        documents = parse_documents(docs, source=name)
    return documents


def apply_patches(data: str | bytes, patches: Sequence[str | bytes], *,
                  sources: Sequence[str] | None = None, source: str = "<config>") -> str:
    """Apply `patches` in order to the config text; returns the patched YAML.

    The config is validated structurally before and after each patch; an error names the
    patch (its entry in `sources`, else "patch[i]") and the path that failed.
    """
    docs, style = yamlio.parse_all(data, source=source)
    docs = [d for d in docs if d is not None]
    parse_documents(docs, source=source)
    documents = patch_documents(docs, patches, sources=sources, source=source)
    return yamlio.dump_all([d.raw for d in documents], style)


def load_patch_arg(arg: str) -> str:
    """talosctl's patch argument: `@file` reads the file, anything else is the patch itself."""
    if not arg.startswith("@"):
        return arg
    path = Path(arg[1:])
    try:
        return path.read_text(encoding="utf-8")
    except OSError as e:
        raise InvalidArgument(f"reading patch {arg}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise InvalidArgument(f"reading patch {arg}: not UTF-8 text") from None


def patch_source(arg: str) -> str:
    """How errors name a patch argument: the file for `@file`, else "inline patch"."""
    return arg[1:] if arg.startswith("@") else "inline patch"
