"""machined as a process: PID 1 of a sandbox node, or a plain process with --root.

In a sandbox machined first builds its own mounts (see `mounts.py`), then runs the node. When
the node asks for a reboot, machined re-executes itself in place (same PID, same namespaces,
STATE kept); on power-off it exits, which ends the PID namespace and everything in it.

A sandbox node booted from the OS image (TALOS_SANDBOX_IMAGE, set by its firmware,
talos.provision.firmware): the host's machined is only stage 0, which builds the mounts with
the image's squashfs as the root and execs the image's machined (same PID). That one exits
with REBOOT_EXIT_CODE on reboot, so the firmware boots the node again in fresh namespaces
(possibly from another slot), and with 0 on power-off.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import logging
import os
import sys

from talos.machined import mounts
from talos.machined.loopback import loopback_up
from talos.machined.node import ExitAction, Node
from talos.machined.paths import NodePaths
from talos.machined.system.groupguard import GroupGuard
from talos.machined.system.reaper import Reaper, become_subreaper
from talos.machinery.constants import APID_PORT, REBOOT_EXIT_CODE
from talos.machinery.errors import TalosError
from talos.machinery.version import build_info

log = logging.getLogger("talos.machined")

ENV_REBOOTS = "TALOS_MACHINED_REBOOTS"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m talos machined",
                                     description="machined: the node's PID 1")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--root", help="run as a plain process with this node root directory")
    mode.add_argument("--sandbox", action="store_true",
                      help="PID 1 of a node sandbox made by the launcher: set up mounts")
    mode.add_argument("--metal", action="store_true",
                      help="PID 1 of a machine booted from the image (platform/metal.py)")
    parser.add_argument("--config", help="machine config file to boot with "
                                         "(default: STATE/config.yaml)")
    parser.add_argument("--maintenance-listen", metavar="HOST:PORT",
                        help="where a node without config serves the maintenance API "
                             "(default 0.0.0.0:50000 in a sandbox, none in plain mode)")
    return parser.parse_args(argv)


def _first_talos_error(exc: BaseException) -> TalosError | None:
    if isinstance(exc, TalosError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _first_talos_error(inner)
            if found is not None:
                return found
    return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s [%(levelname)s] %(name)s: %(message)s")
    if args.metal:
        from talos.machined.platform import metal
        # PID 1 of a machine never exits (exec is no exit): a shutdown powers off, a
        # failure reboots (metal.on_exit)
        atexit.register(metal.on_exit)
        try:
            metal.setup_root()
        except (mounts.MountError, OSError) as exc:
            print(f"machined: cannot set up the machine's mounts: {exc}", file=sys.stderr)
            return 1
        loopback_up()
        metal.configure_network()
        args.config = args.config or metal.fetch_config()
        args.sandbox = True  # from here on a machine is run as a sandbox node is
        paths = NodePaths("/")
    elif args.sandbox:
        if not mounts.already_set_up():
            stage0 = mounts.image_stage0()
            try:
                mounts.setup_sandbox_root()
            except (mounts.MountError, OSError) as exc:
                print(f"machined: cannot set up the node's mounts: {exc}", file=sys.stderr)
                return 1
            if stage0:
                image_argv, image_env = mounts.image_machined()
                sys.stdout.flush()
                sys.stderr.flush()
                try:
                    os.execve(image_argv[0], image_argv, image_env)
                except OSError as exc:
                    print(f"machined: cannot start the image's machined {image_argv[0]}: "
                          f"{exc}", file=sys.stderr)
                    return 1
        try:
            loopback_up()
        except OSError as exc:
            log.warning("cannot bring the loopback interface up: %s", exc)
        paths = NodePaths("/")
    else:
        paths = NodePaths(os.path.abspath(args.root or "/"))
    become_subreaper()
    build_info()  # computed (it runs git) before the reaper owns every child
    # plain mode: no PID namespace ends the services with machined; the guard does
    guard = None if args.sandbox else GroupGuard()
    node = Node(paths, config_path=args.config, sandbox=bool(args.sandbox),
                reaper=Reaper(reap_all=True, guard=guard),
                maintenance_listen=args.maintenance_listen
                or (f"0.0.0.0:{APID_PORT}" if args.sandbox else None))
    reboots = int(os.environ.get(ENV_REBOOTS, "0"))
    if reboots:
        log.info("machined re-executed in place (reboot #%d)", reboots)
    try:
        action = asyncio.run(node.serve())
    except (TalosError, BaseExceptionGroup) as exc:
        err = _first_talos_error(exc)
        if err is None:
            raise
        print(f"machined: {err}", file=sys.stderr)
        return 1
    finally:
        if guard is not None:
            guard.close()
    if action is ExitAction.REBOOT and mounts.image_node():
        log.info("machined: rebooting (the node's firmware boots it again)")
        return REBOOT_EXIT_CODE
    if action is ExitAction.REBOOT:
        if args.metal:
            from talos.machined.platform import metal
            metal.reboot()  # returns only when an install failed: re-executes in place
        os.environ[ENV_REBOOTS] = str(reboots + 1)
        sys.stdout.flush()
        sys.stderr.flush()
        argv_full = [sys.executable, "-m", "talos", "machined", *(argv or sys.argv[1:])]
        os.execv(sys.executable, argv_full)
    if args.metal:
        from talos.machined.platform import metal
        metal.powering_off()
    log.info("machined: powered off")
    return 0
