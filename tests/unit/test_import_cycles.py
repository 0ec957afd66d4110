"""The module graph of `src/talos`: no import cycles, and every package imports only downward.

Every import counts, wherever it is written: at the top, inside a function, under
`TYPE_CHECKING`, in a `try`. `from pkg import name` is an edge to `pkg.name` when that is a
module, else to `pkg`; relative imports are resolved against the importing module's package.
An import of `a.b.c` is an edge to `a.b.c` only (not to the packages `a`, `a.b` Python runs on
the way: a package's `__init__` importing its own submodules is not a cycle worth fixing).

The layering is the one `docs/DESIGN.md` states: `talosctl`, `provision` -> `machinery`;
`machined`, `apid`, `trustd` -> `nodeserver`, `cosi`, `machinery`; `nodeserver` ->
`machinery`; `machinery` imports none of them; the COSI runtime knows no Talos resource type.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

#: packages whose cycles other work is removing (shrink it: an entry whose package has no
#: cycle left fails `test_allowlisted_packages_still_have_cycles`)
CYCLE_ALLOWLIST: Mapping[str, str] = {}

#: top-level package -> the top-level packages it may import (itself and `api` always)
LAYERS: Mapping[str, frozenset[str]] = {
    "machinery": frozenset(),
    "nodeserver": frozenset({"machinery"}),
    "cosi": frozenset({"machinery"}),
    "discovery": frozenset({"nodeserver", "machinery"}),
    "apid": frozenset({"nodeserver", "cosi", "machinery"}),
    "trustd": frozenset({"nodeserver", "cosi", "machinery"}),
    "machined": frozenset({"nodeserver", "cosi", "machinery"}),
    # `talosctl cluster create` drives the provisioner, as upstream talosctl uses pkg/provision
    "talosctl": frozenset({"provision", "machinery"}),
    # the qemu provisioner boots the imager's assets (built once when missing)
    "provision": frozenset({"machinery", "imager"}),
    "imager": frozenset({"machinery"}),
}
#: `python -m talos` dispatches to every program; the root package holds only a docstring
#: (modules import it for its location)
ENTRY_POINTS = frozenset({"talos", "talos.__main__"})

#: what the generic COSI runtime may use from machinery: errors and the resource type
#: declaration (plus the COSI `meta` namespace it fills); never a Talos resource domain
COSI_MACHINERY = frozenset({"talos.machinery.errors", "talos.machinery.resources.definition",
                            "talos.machinery.resources.meta",
                            "talos.machinery.atomic"})  # generic: crash-safe file writes
#: modules of `cosi` allowed to use Talos API code beyond the generic COSI protos
#: (`talos.api.v1alpha1`), and why
COSI_API_EXCEPTIONS: Mapping[str, tuple[tuple[str, ...], str]] = {
    "talos.cosi.inspect_server": (
        ("talos.api.inspect.", "talos.api.common."),
        "serves Talos's inspect.InspectService (the runtime's controller graph); upstream "
        "keeps it in machined's server, where it moves when machined's servers are rewired"),
    "talos.cosi.serve": (
        ("talos.api.inspect.",),
        "registers the InspectService next to the State API (same reason)"),
}


# ------------------------------------------------------------------------- the graph


def modules_under(root: Path, package: str = "talos") -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package) for every `.py` under `root/package`."""
    out: dict[str, tuple[Path, bool]] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_pkg)
    return out


def _known(name: str, modules: Mapping[str, object]) -> str | None:
    """The longest prefix of `name` that is one of our modules (None: not ours)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(name: str, path: Path, is_pkg: bool,
               modules: Mapping[str, object]) -> set[str]:
    """Every module of ours that `name` imports, anywhere in its source."""
    package = name if is_pkg else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _known(alias.name, modules)
                if target:
                    found.add(target)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                if node.level - 1 > len(base) - 1:
                    raise AssertionError(f"{path}:{node.lineno}: relative import beyond talos")
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                target = sub if sub in modules else _known(source, modules)
                if target:
                    found.add(target)
    found.discard(name)
    return found


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def with_packages(name: str, targets: set[str], modules: Mapping[str, object]) -> set[str]:
    """Importing `a.b.c` runs `a/__init__` and `a/b/__init__` first: those packages are
    imported too, unless they are the importer's own (already initialising) ancestors."""
    own = set(_ancestors(name)) | {name}
    out = set(targets)
    for t in targets:
        out.update(p for p in _ancestors(t) if p in modules and p not in own)
    return out


def import_graph(root: Path = SRC, *, packages: bool = True) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports; with `packages`, also the packages whose
    `__init__` those imports run (what an import really executes: cycles through a package's
    `__init__` break at run time in one import order and not in another)."""
    modules = modules_under(root)
    graph = {name: imports_of(name, path, is_pkg, modules)
             for name, (path, is_pkg) in modules.items()}
    if packages:
        graph = {name: with_packages(name, targets, modules) for name, targets in graph.items()}
    return graph


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The graph's cycles as strongly connected components (Tarjan, iterative), each sorted;
    a module importing itself is not counted (the graph has no self edges)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, todo = work[-1]
            if todo:
                w = todo.pop()
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, sorted(graph.get(w, ()))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return sorted(out)


def cycle_chains(graph: Mapping[str, Iterable[str]], component: list[str]) -> list[str]:
    """The shortest cycle through each module of a component, as `a -> b -> a` chains
    (each cycle once)."""
    members = set(component)
    seen: set[frozenset[str]] = set()
    chains: list[str] = []
    for start in component:
        parent: dict[str, str] = {}
        queue = deque([start])
        end = None
        while queue and end is None:
            v = queue.popleft()
            for w in sorted(graph[v]):
                if w not in members:
                    continue
                if w == start:
                    end = v
                    break
                if w not in parent:
                    parent[w] = v
                    queue.append(w)
        if end is None:
            continue
        path = [end]
        while path[-1] != start:
            path.append(parent[path[-1]])
        path.reverse()
        key = frozenset(path)
        if key not in seen:
            seen.add(key)
            chains.append(" -> ".join([*path, start]))
    return chains


def _allowlisted(component: list[str]) -> str | None:
    for package in CYCLE_ALLOWLIST:
        if all(m == package or m.startswith(package + ".") for m in component):
            return package
    return None


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


@pytest.fixture(scope="module")
def direct() -> dict[str, set[str]]:
    """Only the imports written in each module: what the layering rules are about (a package
    `__init__` that gathers its modules is the package's own business)."""
    return import_graph(packages=False)


# ------------------------------------------------------------------------- the rules


def test_no_import_cycles_outside_the_allowlist(graph: dict[str, set[str]]) -> None:
    report = []
    for component in strongly_connected(graph):
        package = _allowlisted(component)
        chains = cycle_chains(graph, component)
        label = f"allowed in {package}" if package else "NOT ALLOWED"
        print(f"import cycle ({len(component)} modules, {label}):")
        for chain in chains:
            print(f"  {chain}")
        if package is None:
            report.append("\n".join(chains))
    assert not report, "import cycles:\n" + "\n".join(report)


def test_allowlisted_packages_still_have_cycles(graph: dict[str, set[str]]) -> None:
    cyclic = {_allowlisted(c) for c in strongly_connected(graph)}
    done = [p for p in CYCLE_ALLOWLIST if p not in cyclic]
    assert not done, f"no cycle left in {done}: remove them from CYCLE_ALLOWLIST"


def test_packages_import_only_downward(direct: dict[str, set[str]]) -> None:
    graph = direct
    tops = {_top(m) for m in graph if m not in ENTRY_POINTS}
    assert tops - {"api"} <= set(LAYERS), (
        f"packages without a layer: {sorted(tops - {'api'} - set(LAYERS))}; add them to "
        "LAYERS (and docs/DESIGN.md)")
    upward = []
    for module, targets in sorted(graph.items()):
        if module in ENTRY_POINTS or _top(module) == "api":
            continue
        allowed = LAYERS[_top(module)] | {_top(module), "api"}
        upward += [f"{module} -> {t}" for t in sorted(targets)
                   if t == "talos.__main__" or (t != "talos" and _top(t) not in allowed)]
    assert not upward, "imports against the layering:\n" + "\n".join(upward)


def test_api_code_imports_no_talos_package(graph: dict[str, set[str]]) -> None:
    bad = [f"{m} -> {t}" for m, ts in sorted(graph.items()) if _top(m) == "api"
           for t in sorted(ts) if _top(t) != "api"]
    assert not bad, bad


def test_cosi_imports_no_talos_domain(direct: dict[str, set[str]]) -> None:
    # TODO(issue 16): talos.machinery.resources/__init__ still declares the whole catalog,
    # so importing its `definition` module runs every domain: written imports only here
    graph = direct
    bad = []
    for module, targets in sorted(graph.items()):
        if _top(module) != "cosi":
            continue
        exempt = COSI_API_EXCEPTIONS.get(module, ((), ""))[0]
        for t in sorted(targets):
            if _top(t) == "machinery" and t not in COSI_MACHINERY:
                bad.append(f"{module} -> {t}")
            elif (_top(t) == "api" and not t.startswith("talos.api.v1alpha1.")
                  and not t.startswith(exempt)):
                bad.append(f"{module} -> {t}")
    assert not bad, ("the COSI runtime must not know Talos resource types (declare proto "
                     "forms on the ResourceType):\n" + "\n".join(bad))


# ------------------------------------------------------------------------- the checker


def test_every_import_form_becomes_an_edge(tmp_path: Path) -> None:
    pkg = tmp_path / "talos" / "p"
    (pkg / "sub").mkdir(parents=True)
    (tmp_path / "talos" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("from . import a\n")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from talos.p.b import X\n")
    (pkg / "b.py").write_text("def f():\n    from .sub import c\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "c.py").write_text(
        "try:\n    import talos.p.d as dd\nexcept ImportError:\n    pass\n"
        "from ..a import thing\n")
    (pkg / "d.py").write_text("import os\nfrom talos.p.sub import nothing_here\n")
    modules = modules_under(tmp_path)
    g = {n: imports_of(n, p, is_pkg, modules) for n, (p, is_pkg) in modules.items()}
    assert g["talos.p"] == {"talos.p.a"}
    assert g["talos.p.a"] == {"talos.p.b"}
    assert g["talos.p.b"] == {"talos.p.sub.c"}
    assert g["talos.p.sub.c"] == {"talos.p.d", "talos.p.a"}
    assert g["talos.p.d"] == {"talos.p.sub"}
    assert strongly_connected(g) == [["talos.p.a", "talos.p.b", "talos.p.sub.c"]]
    assert cycle_chains(g, ["talos.p.a", "talos.p.b", "talos.p.sub.c"]) == [
        "talos.p.a -> talos.p.b -> talos.p.sub.c -> talos.p.a"]
