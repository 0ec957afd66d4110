"""`talosctl memory [-v]`: memory usage in MB (verbose: every /proc/meminfo field, as
/proc/meminfo names and prints it)."""

from __future__ import annotations

import click

from talos.talosctl.formats import emit, output_option
from talos.talosctl.nodeapi import Session, call, echo_table

#: MemInfo field -> its /proc/meminfo name; all in kB except the HugePages counts
MEMINFO_NAMES = {
    "memtotal": "MemTotal", "memfree": "MemFree", "memavailable": "MemAvailable",
    "buffers": "Buffers", "cached": "Cached", "swapcached": "SwapCached", "active": "Active",
    "inactive": "Inactive", "activeanon": "ActiveAnon", "inactiveanon": "InactiveAnon",
    "activefile": "ActiveFile", "inactivefile": "InactiveFile", "unevictable": "Unevictable",
    "mlocked": "Mlocked", "swaptotal": "SwapTotal", "swapfree": "SwapFree", "dirty": "Dirty",
    "writeback": "Writeback", "anonpages": "AnonPages", "mapped": "Mapped", "shmem": "Shmem",
    "slab": "Slab", "sreclaimable": "SReclaimable", "sunreclaim": "SUnreclaim",
    "kernelstack": "KernelStack", "pagetables": "PageTables", "nfsunstable": "NFSUnstable",
    "bounce": "Bounce", "writebacktmp": "WritebackTmp", "commitlimit": "CommitLimit",
    "committedas": "CommittedAS", "vmalloctotal": "VmallocTotal",
    "vmallocused": "VmallocUsed", "vmallocchunk": "VmallocChunk",
    "hardwarecorrupted": "HardwareCorrupted", "anonhugepages": "AnonHugePages",
    "shmemhugepages": "ShmemHugePages", "shmempmdmapped": "ShmemPmdMapped",
    "cmatotal": "CmaTotal", "cmafree": "CmaFree", "hugepagestotal": "HugePagesTotal",
    "hugepagesfree": "HugePagesFree", "hugepagesrsvd": "HugePagesRsvd",
    "hugepagessurp": "HugePagesSurp", "hugepagesize": "Hugepagesize",
    "directmap4k": "DirectMap4k", "directmap2m": "DirectMap2M", "directmap1g": "DirectMap1G",
}
_COUNTS = {"hugepagestotal", "hugepagesfree", "hugepagesrsvd", "hugepagessurp"}


def verbose_lines(node: str, meminfo: object) -> list[str]:
    """`NODE: <node>` then one `Name: value kB` line per field, in /proc/meminfo's order."""
    lines = [f"NODE: {node}"]
    for name, label in MEMINFO_NAMES.items():
        value = getattr(meminfo, name)
        lines.append(f"{label}: {value}" if name in _COUNTS else f"{label}: {value} kB")
    return lines


@click.command()
@click.option("-v", "--verbose", is_flag=True, help="display extended memory statistics")
@output_option
@click.pass_context
def memory(ctx: click.Context, verbose: bool, output: str) -> None:
    """Show memory usage."""
    from google.protobuf import empty_pb2

    async def run(s: Session) -> None:
        reply = await s.machine().Memory(empty_pb2.Empty(), metadata=s.md)
        msgs = s.ok(reply.messages)
        if output != "table":
            emit(((s.node_of(msg), msg) for msg in msgs), output)
        elif verbose:
            for msg in msgs:
                click.echo("\n".join(verbose_lines(s.node_of(msg), msg.meminfo)))
        else:
            rows: list[tuple[str, ...]] = [("NODE", "TOTAL", "USED", "FREE", "SHARED",
                                            "BUFFERS", "CACHE", "AVAILABLE")]
            for msg in msgs:
                mi = msg.meminfo
                used = mi.memtotal - mi.memfree - mi.cached - mi.buffers
                rows.append((s.node_of(msg), *(str(v // 1024) for v in (
                    mi.memtotal, used, mi.memfree, mi.shmem, mi.buffers, mi.cached,
                    mi.memavailable))))
            echo_table(rows)
        s.raise_errors()

    call(ctx, run)
