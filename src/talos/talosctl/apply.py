"""`talosctl apply-config`, `edit machineconfig`, `patch machineconfig` (client side).

All three send ApplyConfiguration and, as Talos's, never ask a question: scripts and CI run
them unattended (`--dry-run` shows the diff the node computes and applies nothing; `-y/--yes`
is still accepted, hidden, for scripts written when this talosctl asked first). Better than
Talos:
- aimed at several nodes, they need the nodes named with -n (never the context's list);
- an apply that reboots the node shows live progress and ends with a per-node result.
`edit` reopens $EDITOR with the errors as comments on top until the config is accepted,
the file is left unchanged, or it is emptied (abort).
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import subprocess
import sys
import tempfile
from typing import Any

import click

from talos.talosctl.nodeapi import Session, call, nodes_given, require_explicit_nodes
from talos.talosctl.resource_group import ResourceTypeGroup, id_argument, namespace_option
from talos.talosctl.timefmt import DURATION

MODES = ("auto", "no-reboot", "reboot", "staged", "try")
MC_TYPE = "MachineConfigs.config.talos.dev"
MC_NAMESPACE = "config"
MC_ID = "v1alpha1"


#: --mode -> machine.ApplyConfigurationRequest.Mode label
_MODES = {"auto": "AUTO", "no-reboot": "NO_REBOOT", "reboot": "REBOOT", "staged": "STAGED",
          "try": "TRY"}


def parse_timeout(text: str) -> float:
    from talos.talosctl.timefmt import parse_duration
    return parse_duration(text, "--timeout")


def _request(data: bytes, mode: str, dry_run: bool, try_timeout: float) -> Any:
    from talos.api.machine import machine_pb2 as m
    req = m.ApplyConfigurationRequest(data=data, mode=_MODES[mode],
                                      dry_run=dry_run)
    if mode == "try":
        req.try_mode_timeout.FromTimedelta(dt.timedelta(seconds=try_timeout))
    return req


def _print_results(s: Session, reply: Any) -> None:
    for msg in s.ok(reply.messages):
        node = s.node_of(msg)
        for w in msg.warnings:
            click.echo(f"{node}: WARNING: {w}", err=True)
        details = msg.mode_details.rstrip("\n")
        click.echo(f"{node}: {details}" if len(s.nodes) > 1 or not details.count("\n")
                   else f"{node}:\n{details}")


def _reboots(reply: Any) -> bool:
    from talos.api.machine import machine_pb2 as m
    return any(msg.mode == m.ApplyConfigurationRequest.REBOOT and not msg.metadata.error
               for msg in reply.messages)


async def send_config(s: Session, data: bytes, *, mode: str, dry_run: bool,
                      try_timeout: float, wait_seconds: float) -> None:
    """Apply (or only dry-run), and track a reboot if the node does one. No question."""
    from talos.talosctl.progress import Tracker, follow_all, report
    from talos.talosctl.progress_view import choose_view
    api = s.machine()
    if dry_run:
        reply = await api.ApplyConfiguration(_request(data, mode, True, try_timeout),
                                             metadata=s.md)
        _print_results(s, reply)
        s.raise_errors()
        return
    # maintenance mode has no event stream: the node reboots into its config untracked
    track = not s.conn.options.insecure
    view = choose_view()
    trackers = [Tracker(s, n, expect="reboot", timeout=wait_seconds, view=view)
                for n in (s.nodes or [""])] if track else []
    for t in trackers:  # subscribe before applying: a reboot's events are not missed
        await t.subscribe()
    reply = await api.ApplyConfiguration(_request(data, mode, False, try_timeout),
                                         metadata=s.md)
    _print_results(s, reply)
    rebooting = {s.node_of(msg) for msg in reply.messages if _reboots(
        type(reply)(messages=[msg]))}
    followed = [t for t in trackers if t.label in rebooting or (not s.nodes and rebooting)]
    for t in trackers:
        if t not in followed:
            t.call.cancel()
    outcomes = await follow_all(followed, view)
    if outcomes:
        report(outcomes)
    s.raise_errors()


def _read_patches(patches: tuple[str, ...]) -> tuple[list[str], list[str]]:
    from talos.machinery.config.patch import load_patch_arg, patch_source
    from talos.machinery.errors import TalosError
    try:
        return [load_patch_arg(p) for p in patches], [patch_source(p) for p in patches]
    except TalosError as e:
        raise click.ClickException(str(e)) from None


def _patched(text: str, patches: tuple[str, ...], source: str) -> str:
    if not patches:
        return text
    from talos.machinery.config.patch import apply_patches
    from talos.machinery.errors import TalosError
    bodies, sources = _read_patches(patches)
    try:
        return apply_patches(text, bodies, sources=sources, source=source)
    except TalosError as e:
        raise click.ClickException(str(e)) from None


_mode_option = click.option("-m", "--mode", type=click.Choice(MODES), default="auto",
                            show_default=True, help="apply config mode")
_dry_run = click.option("--dry-run", is_flag=True, help="check how the config change will be "
                        "applied in dry-run mode")
#: accepted and ignored: these commands never ask (as Talos's); kept for existing scripts
_yes = click.option("-y", "--yes", "_yes", is_flag=True, hidden=True, expose_value=False,
                    help="accepted for compatibility; nothing is ever asked")
_try_timeout = click.option("--timeout", "try_timeout", default="1m", show_default=True,
                            help="the config will be rolled back after specified timeout "
                                 "(if try mode is selected)")
_wait_timeout = click.option("--wait-timeout", type=DURATION, default="30m0s",
                             show_default=True, help="how long to wait for a node that "
                             "reboots to come back (a duration: 90s, 5m, 1h)")
_patch_option = click.option("-p", "--config-patch", "config_patch", multiple=True,
                             help="the list of config patches to apply to the local config "
                                  "file before sending it to the node (@file or inline)")


@click.command(name="apply-config")
@click.option("-f", "--file", "file_", type=click.Path(dir_okay=False),
              help="the filename of the updated configuration  [required]")
@click.option("-m", "--mode", type=click.Choice((*MODES, "interactive")), default="auto",
              show_default=True, help="apply config mode")
@_dry_run
@_yes
@_try_timeout
@_wait_timeout
@_patch_option
@click.option("-i", "--insecure", is_flag=True, help="apply the config using the insecure "
              "(encrypted with no auth) maintenance service")
@click.option("--cert-fingerprint", "cert_fingerprints", multiple=True,
              help="list of server certificate fingerprints to accept (defaults to no check)")
@click.pass_context
def apply_config(ctx: click.Context, file_: str | None, mode: str, dry_run: bool,
                 try_timeout: str, wait_timeout: float, config_patch: tuple[str, ...],
                 insecure: bool, cert_fingerprints: tuple[str, ...]) -> None:
    """Apply a new configuration to a node."""
    if mode == "interactive":
        raise click.UsageError(
            "--mode interactive (Talos's text-UI installer on a maintenance-mode node) is "
            "not available in this talosctl: write a config with 'talosctl gen config' and "
            "apply it with -f (add --insecure for a node in maintenance mode)")
    if not file_:
        raise click.UsageError("Missing option '-f' / '--file': the filename of the "
                               "updated configuration")
    try_seconds = parse_timeout(try_timeout)
    try:
        with open(file_, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise click.ClickException(f"reading {file_!r}: "
                                   f"{getattr(e, 'strerror', None) or e}") from None
    if not insecure:
        from talos.talosctl.main import GlobalOptions
        g = ctx.find_object(GlobalOptions)
        insecure = g is not None and g.insecure
    text = _patched(text, config_patch, file_)
    _validate_locally(text, file_)
    # maintenance mode reads no talosconfig: -n names the nodes, reached directly
    nodes = nodes_given(ctx) if insecure else require_explicit_nodes(
        ctx, "apply a configuration to")

    async def run(s: Session) -> None:
        await send_config(s, text.encode(), mode=mode, dry_run=dry_run,
                          try_timeout=try_seconds, wait_seconds=wait_timeout)

    call(ctx, run, insecure=insecure, nodes=nodes, cert_fingerprints=cert_fingerprints)


def _validate_locally(text: str, source: str) -> None:
    """Structural errors are caught before anything is sent (the node re-validates)."""
    from talos.machinery.config.config import load_config
    from talos.machinery.errors import TalosError
    try:
        load_config(text, source=source)
    except TalosError as e:
        raise click.ClickException(str(e)) from None


async def fetch_config(s: Session, node: str) -> str:
    """The node's current machine config YAML (COSI State Get through apid)."""
    from talos.api.v1alpha1 import state_pb2, state_pb2_grpc
    stub = state_pb2_grpc.StateStub(s.conn.channel)
    md = (("node", node),) if node else ()
    reply = await stub.Get(state_pb2.GetRequest(namespace=MC_NAMESPACE, type=MC_TYPE,
                                                id=MC_ID), metadata=md)
    return str(reply.resource.spec.yaml_spec)


@click.group(cls=ResourceTypeGroup)
def patch() -> None:
    """Update field(s) of a resource using a JSON patch or a strategic merge patch."""


@patch.command("machineconfig")
@id_argument
@namespace_option
@click.option("-p", "--patch", "patches", multiple=True, help="the patch to be applied to the "
              "resource file, use @file to read a patch from file")
@click.option("--config-patch", "config_patch", multiple=True, hidden=True,
              help="the same as --patch")
@click.option("--patch-file", multiple=True, help="a file containing a patch to be applied "
              "to the resource")
@_mode_option
@_dry_run
@_yes
@_try_timeout
@_wait_timeout
@click.pass_context
def patch_machineconfig(ctx: click.Context, config_patch: tuple[str, ...],
                        patches: tuple[str, ...], patch_file: tuple[str, ...], mode: str,
                        dry_run: bool, try_timeout: str,
                        wait_timeout: float) -> None:
    """Patch the machine config of the nodes (`--patch '@file'` or an inline patch)."""
    all_patches = (*patches, *config_patch, *(f"@{p}" for p in patch_file))
    if not all_patches:
        raise click.UsageError("nothing to do: give at least one --patch")
    _read_patches(all_patches)  # bad @file fails before connecting
    try_seconds = parse_timeout(try_timeout)
    nodes = require_explicit_nodes(ctx, "patch the machine config of")

    async def run(s: Session) -> None:
        for node in s.nodes or [""]:
            one = Session(s.conn, [node] if node else [])
            current = await fetch_config(one, node)
            patched = _patched(current, all_patches, f"{node or 'node'} machine config")
            if patched == current:
                click.echo(f"{node or one.endpoint_host}: Apply was skipped: no changes "
                           "detected.")
                continue
            await send_config(one, patched.encode(), mode=mode, dry_run=dry_run,
                              try_timeout=try_seconds, wait_seconds=wait_timeout)

    call(ctx, run, nodes=nodes)


@click.group(cls=ResourceTypeGroup)
def edit() -> None:
    """Edit resources with your preferred editor ($TALOS_EDITOR, $EDITOR, $VISUAL)."""


def _editor() -> list[str]:
    for var in ("TALOS_EDITOR", "EDITOR", "VISUAL"):
        if os.environ.get(var):
            return shlex.split(os.environ[var])
    return ["vi"]


def _strip_comments(text: str) -> str:
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "".join(lines)


def run_editor(text: str, node: str) -> str:
    """Open the editor on `text` (a temp file) and return what was saved."""
    fd, path = tempfile.mkstemp(prefix=f"talos-{node or 'node'}-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        argv = [*_editor(), path]
        try:
            rc = subprocess.call(argv, stdin=sys.stdin, stdout=sys.stdout)
        except OSError as e:
            raise click.ClickException(f"cannot run editor {argv[0]!r}: "
                                       f"{e.strerror or e} (set $EDITOR)") from None
        if rc != 0:
            raise click.ClickException(f"editor {argv[0]!r} exited with status {rc}; "
                                       "nothing applied")
        with open(path, encoding="utf-8") as f:
            return f.read()
    finally:
        os.unlink(path)


HEADER = ("# Please edit the machine config for node {node}. Lines beginning with '#' at the\n"
          "# top are ignored; an empty file aborts the edit.\n")


@edit.command("machineconfig")
@id_argument
@namespace_option
@_mode_option
@_dry_run
@_yes
@_try_timeout
@_wait_timeout
@click.pass_context
def edit_machineconfig(ctx: click.Context, mode: str, dry_run: bool,
                       try_timeout: str, wait_timeout: float) -> None:
    """Edit the machine config of the nodes in $EDITOR and apply it."""
    import asyncio

    import grpc

    from talos.machinery.errors import TalosError
    try_seconds = parse_timeout(try_timeout)
    nodes = require_explicit_nodes(ctx, "edit the machine config of")

    async def run(s: Session) -> None:
        for node in s.nodes or [""]:
            one = Session(s.conn, [node] if node else [])
            label = node or one.endpoint_host
            current = await fetch_config(one, node)
            errors = ""
            edited = current
            while True:
                head = HEADER.format(node=label)
                if errors:
                    head += "#\n# The edited config was not applied:\n" + "".join(
                        f"#   {ln}\n" for ln in errors.splitlines())
                saved = await asyncio.to_thread(run_editor, head + edited, node)
                edited = _strip_comments(saved)
                if not edited.strip():
                    raise click.ClickException(f"{label}: edit aborted (empty file); "
                                               "nothing applied")
                if edited == current:
                    click.echo(f"{label}: Apply was skipped: no changes detected.")
                    break
                try:
                    _validate_locally(edited, f"{label} machine config")
                    await send_config(one, edited.encode(), mode=mode, dry_run=dry_run,
                                      try_timeout=try_seconds, wait_seconds=wait_timeout)
                except click.ClickException as e:
                    errors = e.message
                    one.errors.clear()
                    continue
                except grpc.RpcError as e:
                    err = one.conn.explain(e)
                    errors = str(err)
                    continue
                except TalosError as e:
                    errors = str(e)
                    continue
                break

    call(ctx, run, nodes=nodes)
