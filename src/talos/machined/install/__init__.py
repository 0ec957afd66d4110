"""Installing a machine booted from the image to the disk of `machine.install.disk`.

Upstream Talos's UEFI layout (v1.13.9, internal/pkg/partition and
pkg/machinery/imager/quirks): EFI, META, STATE, EPHEMERAL. `gpt` reads and writes the
partition table, `blockdev` finds partitions by their GPT label through sysfs, `disk` runs
the install (partition unless the layout is there, format STATE and EPHEMERAL as xfs, store
STATE's files).
"""
