"""`python -m talos <component>`: start a node component (machined, apid, trustd)."""

from __future__ import annotations

import importlib
import sys

COMPONENTS = {
    "machined": "talos.machined.__main__",
    "apid": "talos.apid.__main__",
    "trustd": "talos.trustd.__main__",
    "talosctl": "talos.talosctl.main",
    "discovery": "talos.discovery.__main__",
    "imager": "talos.imager.cli",
}

USAGE = """usage: python -m talos <component> [args...]

components:
  machined   the node's PID 1: sequencer, service supervisor, resource runtime
  apid       the mTLS API gateway on :50000 (roles, routing, fan-out)
  trustd     signs node certificates for holders of the cluster trust token on :50001
  talosctl   the CLI (same as the `talosctl` command)
  discovery  the cluster discovery service (sidero.discovery.server.Cluster)
  imager     builds the boot assets: kernel, initramfs, UKI, installer image, disk image
"""


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0
    name, rest = args[0], args[1:]
    module_name = COMPONENTS.get(name)
    if module_name is None:
        print(f"unknown component {name!r}; expected one of: {', '.join(COMPONENTS)}",
              file=sys.stderr)
        return 2
    module = importlib.import_module(module_name)
    result: int = module.main(rest)
    return result


if __name__ == "__main__":
    sys.exit(main())
