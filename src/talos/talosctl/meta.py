"""`talosctl meta write KEY VALUE` and `talosctl meta delete KEY` (Talos v1.13.9).

Keys are uint8, parsed as Go's `strconv.ParseUint(s, 0, 8)`: decimal, `0x0a`, `0o12`,
`0b1010` (a leading `0` is octal). `-i/--insecure` goes through the maintenance API, as
upstream; there, as upstream, only a SideroLink peer may write META (this node has no
SideroLink: it refuses, naming why). `talosctl get meta` lists the keys.
Every targeted node is written; one failing fails the command.
"""

from __future__ import annotations

import re

import click

from talos.talosctl.nodeapi import Session, call

_GO_UINT = re.compile(r"(?:0[xX](?P<hex>[0-9a-fA-F_]+)|0[oO]?(?P<oct>[0-7_]+)|"
                      r"0[bB](?P<bin>[01_]+)|(?P<dec>[1-9][0-9_]*|0))")


def parse_key(text: str) -> int:
    """Go's ParseUint(text, 0, 8), with its error texts."""
    match = _GO_UINT.fullmatch(text)
    if match is None or text.startswith("_") or text.endswith("_") or "__" in text:
        raise click.ClickException(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    base = {"hex": 16, "oct": 8, "bin": 2, "dec": 10}
    for group, radix in base.items():
        digits = match.group(group)
        if digits is not None:
            value = int(digits.replace("_", ""), radix)
            break
    if value > 0xFF:
        raise click.ClickException(f'strconv.ParseUint: parsing "{text}": value out of range')
    return value


@click.group()
@click.option("-i", "--insecure", is_flag=True,
              help="write|delete meta using the insecure (encrypted with no auth) maintenance "
                   "service")
@click.pass_context
def meta(ctx: click.Context, insecure: bool) -> None:
    """Write and delete keys in the META partition."""
    ctx.meta["talos.meta.insecure"] = insecure


def _insecure(ctx: click.Context) -> bool:
    from talos.talosctl.main import GlobalOptions
    g = ctx.find_object(GlobalOptions)
    return bool(ctx.meta.get("talos.meta.insecure")) or (g is not None and g.insecure)


@meta.command("write")
@click.argument("key", metavar="key")
@click.argument("value", metavar="value")
@click.pass_context
def write(ctx: click.Context, key: str, value: str) -> None:
    """Write a key-value pair to the META partition."""
    from talos.api.machine import machine_pb2 as m
    req = m.MetaWriteRequest(key=parse_key(key), value=value.encode())

    async def run(s: Session) -> None:
        s.ok((await s.machine().MetaWrite(req, metadata=s.md)).messages)
        s.raise_errors()

    call(ctx, run, insecure=_insecure(ctx))


@meta.command("delete")
@click.argument("key", metavar="key")
@click.pass_context
def delete(ctx: click.Context, key: str) -> None:
    """Delete a key from the META partition."""
    from talos.api.machine import machine_pb2 as m
    req = m.MetaDeleteRequest(key=parse_key(key))

    async def run(s: Session) -> None:
        s.ok((await s.machine().MetaDelete(req, metadata=s.md)).messages)
        s.raise_errors()

    call(ctx, run, insecure=_insecure(ctx))
