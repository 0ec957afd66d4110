"""The explicit environment of every process talos starts for a node.

Nodes (launched by `cluster create`), the cluster's discovery service and the services
machined starts (etcd, containerd, apid, trustd, extensions) never inherit the environment
of whoever started them: a user's TALOSCONFIG, credentials or proxy settings have no business
inside a node. They get only what running the code needs:

- PATH: the starter's (where etcd, containerd and util-linux were found), or a default;
- LANG and LC_ALL: C.UTF-8;
- HOME: `/` unless told otherwise;
- PYTHONPATH: the directory the talos package was imported from unless it is a
  site-packages directory (so the code runs whether or not it is installed, and an
  installed one never moves site-packages ahead of the standard library), then the
  starter's PYTHONPATH entries; the starter's
  PYTHONHOME, PYTHONDONTWRITEBYTECODE, PYTHONUNBUFFERED and PYTHONPYCACHEPREFIX when set;
- TALOS_FORKSERVER when set (the switch back to spawning apid and trustd).

Callers add their own variables (the sandbox markers, ETCDCTL_API, an extension's
environment) on top.
"""

from __future__ import annotations

import os
import site
from collections.abc import Mapping

import talos

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LOCALE = "C.UTF-8"
#: Python settings carried over from the starter when set (how the interpreter finds and
#: caches the code; nothing else of the starter's Python settings)
PYTHON_VARS = ("PYTHONHOME", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED",
               "PYTHONPYCACHEPREFIX")
#: talos's own switches carried over from the starter when set: TALOS_FORKSERVER=0 makes a
#: node's machined spawn apid and trustd instead of forking them (machined/system/forkserver)
TALOS_VARS = ("TALOS_FORKSERVER",)


def code_path() -> str | None:
    """The sys.path entry the talos package was imported from; None for site-packages."""
    entry = os.path.dirname(os.path.dirname(os.path.abspath(talos.__file__)))
    sites = [*site.getsitepackages(), site.getusersitepackages()]
    if any(os.path.realpath(entry) == os.path.realpath(s) for s in sites):
        return None
    return entry


def process_environment(extra: Mapping[str, str] | None = None, *, home: str = "/",
                        starter: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a process started for a node; `starter` is the environment of
    the process starting it (default: this one's)."""
    src = os.environ if starter is None else starter
    env = {"PATH": src.get("PATH") or DEFAULT_PATH, "LANG": LOCALE, "LC_ALL": LOCALE,
           "HOME": home}
    code = code_path()
    entries = [code] if code else []
    entries += [p for p in src.get("PYTHONPATH", "").split(os.pathsep)
                if p and p not in entries]
    if entries:
        env["PYTHONPATH"] = os.pathsep.join(entries)
    env.update({k: src[k] for k in (*PYTHON_VARS, *TALOS_VARS) if src.get(k)})
    env.update(extra or {})
    return env
