"""What the root filesystem holds: Debian's Python interpreter and the part of its standard
library a node uses, the project and its Python dependencies, etcd, containerd and runc, the
shared libraries all of those need, and empty mount points. Nothing else: no shell, no
coreutils, no package manager (see `executables`).
"""

from __future__ import annotations

import importlib.metadata as md
import os
import re

import talos
from talos.imager import elf
from talos.imager.errors import ImageBuildError
from talos.imager.plan import Plan
from talos.imager.sources import Sources
from talos.machinery.version import NAME, TAG

#: top-level directories: mount points machined fills at boot, and the merged /usr layout
MOUNT_POINTS = ("/dev", "/proc", "/sys", "/run", "/tmp", "/var", "/system", "/etc")
MERGED_USR = {"/bin": "usr/bin", "/sbin": "usr/sbin", "/lib": "usr/lib",
              "/lib64": "usr/lib64"}
SITE = "/usr/lib/python3/dist-packages"

#: parts of the standard library a node never imports (tests, GUIs, build tools)
STDLIB_SKIP_DIRS = {"test", "idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip",
                    "pydoc_data", "distutils", "venv", "curses", "dbm",
                    "site-packages", "dist-packages", "__pycache__"}
STDLIB_SKIP_FILES = re.compile(
    r"^(sitecustomize\.py|EXPORTED|EXTERNALLY-MANAGED|"
    r"(_tkinter|_curses|_curses_panel|readline|_dbm|_gdbm|_test\w*|xxlimited\w*|"
    r"_ctypes_test|_xxtestfuzz|xxsubtype)\..*\.so)$")
#: the project's own package: the editable install's sources are copied, not its metadata
PROJECT_DIST = "talos-py"


#: the image's copy of the version tag file (talos.machinery.version.TAG_FILE)
BUILD_TAG = f"{SITE}/talos/machinery/build-tag"


def skeleton(plan: Plan, tag: str = TAG) -> None:
    for d in MOUNT_POINTS:
        plan.dir(d)
    for d in ("/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib64"):
        plan.dir(d)
    for link, target in MERGED_USR.items():
        plan.symlink(link, target)
    plan.write("/etc/os-release", (
        f'NAME="{NAME}"\nID=talos\nVERSION_ID={tag}\nPRETTY_NAME="{NAME} ({tag})"\n'
        'HOME_URL="https://www.talos.dev/"\n').encode())


CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def ca_certificates(plan: Plan) -> None:
    """The build machine's CA bundle (ca-certificates), where OpenSSL looks by default:
    `talos.config=https://...` needs it."""
    if os.path.exists(CA_BUNDLE):
        plan.copy(CA_BUNDLE, CA_BUNDLE)
        plan.symlink("/usr/lib/ssl/cert.pem", CA_BUNDLE)


def python(plan: Plan, src: Sources) -> None:
    exe = f"/usr/bin/python{src.python_version}"
    plan.copy(exe, src.python, 0o755)
    plan.symlink("/usr/bin/python3", os.path.basename(exe))
    dest_root = f"/usr/lib/python{src.python_version}"
    for dirpath, dirnames, filenames in os.walk(src.stdlib):
        dirnames[:] = sorted(d for d in dirnames
                             if d not in STDLIB_SKIP_DIRS and not d.startswith("config-"))
        rel = os.path.relpath(dirpath, src.stdlib)
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if STDLIB_SKIP_FILES.match(name) or name.endswith((".pyc", ".pyo")):
                continue
            if not os.path.exists(path):  # a dangling link (Debian's /etc/python3.X ones)
                continue
            plan.copy(os.path.normpath(os.path.join(dest_root, rel, name)), path)


def _requirement_names(dist: md.Distribution) -> list[str]:
    names = []
    for req in dist.requires or []:
        spec, _, marker = req.partition(";")
        if marker.strip() and not _marker_holds(marker):
            continue
        names.append(re.split(r"[<>=!~\[\s(@]", spec.strip(), maxsplit=1)[0])
    return names


def _marker_holds(marker: str) -> bool:
    try:
        from packaging.markers import Marker
    except ImportError:  # without packaging: only extras are told apart
        return "extra" not in marker
    return bool(Marker(marker).evaluate({"extra": ""}))


def dependency_closure(root: str = PROJECT_DIST) -> list[md.Distribution]:
    """The installed distributions `root` needs at run time (not `root` itself), by name."""
    seen: dict[str, md.Distribution] = {}
    todo = _requirement_names(md.distribution(root))
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError as exc:
            raise ImageBuildError(f"{root} needs {name}, which is not installed here: "
                                  f"pip install {name}") from exc
        seen[key] = dist
        todo.extend(_requirement_names(dist))
    return [seen[k] for k in sorted(seen)]


def python_packages(plan: Plan) -> None:
    project = os.path.dirname(os.path.abspath(talos.__file__))
    for dirpath, dirnames, filenames in os.walk(project):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        rel = os.path.relpath(dirpath, os.path.dirname(project))
        for name in sorted(filenames):
            # the build-tag file is the build's (version_tag), never the checkout's own
            if not name.endswith((".pyc", ".pyo")) and not (
                    name == "build-tag" and rel == os.path.join("talos", "machinery")):
                plan.copy(os.path.normpath(os.path.join(SITE, rel, name)),
                          os.path.join(dirpath, name))
    for dist in dependency_closure():
        base = str(dist.locate_file(""))
        for f in sorted(dist.files or [], key=str):
            rel = str(f)
            if (rel.startswith("..") or "__pycache__" in f.parts
                    or rel.endswith((".pyc", ".pyo"))):
                continue
            path = os.path.join(base, rel)
            if os.path.isfile(path):
                plan.copy(os.path.join(SITE, rel), path)


def binaries(plan: Plan, src: Sources) -> None:
    for dest, path in src.binaries:
        plan.copy(dest, path, 0o755)


def shared_libraries(plan: Plan) -> None:
    """Every system library an ELF file of the plan needs (ldd gives the whole closure);
    the dynamic loader keeps its exec bit (the kernel runs it), the others are data."""
    needed: set[str] = set()
    for e in plan.sorted():
        if e.kind == "file" and e.source and elf.is_elf(e.source):
            needed.update(elf.needed_libraries(e.source))
    for lib in sorted(needed):
        is_loader = os.path.basename(lib).startswith("ld-linux")
        plan.copy(elf.image_path(lib), lib, 0o755 if is_loader else 0o644)


def version_tag(plan: Plan, tag: str) -> None:
    """The tag the image's machined reports (`python -m talos imager --tag`); part of the
    plan, so of the build's cache digest."""
    plan.write(BUILD_TAG, f"{tag}\n".encode())


def root_plan(src: Sources, tag: str = TAG) -> Plan:
    plan = Plan()
    skeleton(plan, tag)
    ca_certificates(plan)
    python(plan, src)
    python_packages(plan)
    version_tag(plan, tag)
    binaries(plan, src)
    shared_libraries(plan)
    return plan
